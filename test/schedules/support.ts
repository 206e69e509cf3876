// Helpers for the payment schedule tests: requests that must succeed, the records a schedule refers to, its
// generated transactions, and the auditor's recomputation (which must find nothing after every scenario).
import { expect } from 'vitest';
import { newId } from '../../src/app/ids.js';
import { totalsDifferences } from '../../src/store/totals-repo.js';
import { expectStatus, type Harness } from '../support/harness.js';

export { expectStatus };

export async function ok(h: Harness, method: string, url: string, body?: unknown, status = 200): Promise<any> {
  const res = await h.request(method, url, body);
  expectStatus(res, status);
  return res.body;
}

export async function paymentMethod(
  h: Harness,
  fields: Record<string, unknown> = {},
  token = 'pm_card_visa',
): Promise<string> {
  const body = await ok(
    h,
    'POST',
    '/v1/payment-methods',
    { gateway_token: token, type: 'card', exp_month: 12, exp_year: 2030, ...fields },
    201,
  );
  return body.id;
}

export async function account(h: Harness): Promise<string> {
  return (await ok(h, 'POST', '/v1/accounts', { name: 'Schedules Ltd' }, 201)).id;
}

/** A parent and an invoice, written directly (their own routes are not what these tests are about). */
export async function parent(h: Harness): Promise<string> {
  const now = h.clock.now();
  const id = newId('parent', now.getTime());
  await h.deps.db
    .insertInto('parents')
    .values({
      id,
      type: 'subscription',
      external_id: null,
      name: 'Plan',
      account_id: null,
      contact_id: null,
      metadata: '{}',
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

export async function invoice(
  h: Harness,
  fields: { currency?: string; total?: number; status?: 'draft' | 'open' | 'void' } = {},
): Promise<string> {
  const now = h.clock.now();
  const id = newId('invoice', now.getTime());
  await h.deps.db
    .insertInto('invoices')
    .values({
      id,
      number: id,
      account_id: null,
      contact_id: null,
      currency: fields.currency ?? 'USD',
      total: fields.total ?? 100_000,
      issued_on: null,
      due_date: null,
      timezone: null,
      status: fields.status ?? 'open',
      description: null,
      metadata: '{}',
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/** The schedule's generated transactions (reattempts too), by occurrence then id. */
export function generated(h: Harness, scheduleId: string) {
  return h.deps.db
    .selectFrom('transactions')
    .selectAll()
    .where('schedule_id', '=', scheduleId)
    .orderBy('schedule_occurrence')
    .orderBy('id')
    .execute();
}

export async function rowCounts(h: Harness): Promise<{ schedules: number; transactions: number; allocations: number }> {
  const count = async (table: 'payment_schedules' | 'transactions' | 'allocations') =>
    Number(
      (
        await h.deps.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    schedules: await count('payment_schedules'),
    transactions: await count('transactions'),
    allocations: await count('allocations'),
  };
}

/** The auditor's recomputation, in one snapshot: must find nothing. */
export async function expectNoDifferences(h: Harness): Promise<void> {
  const differences = await h.deps.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute((trx) => totalsDifferences(trx));
  expect(differences).toEqual([]);
}

/** Starts a job through the API and waits (wall time only bounds the wait; nothing asserts on it). */
export async function runJob(h: Harness, name: string): Promise<any> {
  const started = await ok(h, 'POST', `/v1/jobs/${name}/run`, undefined, 202);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const run = await ok(h, 'GET', `/v1/job-runs/${started.id}`);
    if (run.status !== 'running') return run;
    if (Date.now() > deadline) throw new Error(`run ${started.id} still running`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
