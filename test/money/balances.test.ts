// Balances (issue 18, M5) against the Stripe emulator, on each database: GET /v1/balances compares the gateway's
// available and pending with the ledger's figure, and the `balances` job keeps a snapshot, refreshes balance_status
// from the gateway's balance transactions and flags only a difference the unlinked items do not explain.
//
// The emulator has no control that books a balance transaction Settle cannot see of a kind Settle does not record
// (a Stripe fee, a top-up), so the "explained" case wraps the emulator gateway's adapter: its balance and its list of
// balance transactions gain one such item, exactly as Stripe would show it. The "unexplained" case needs no double: a
// charge made at the gateway with the SDK, which no Settle transaction records.
import { expect, it } from 'vitest';
import { snapshotBalances } from '../../src/app/balances.js';
import { jobNamed, type TaskJob } from '../../src/jobs/definitions.js';
import type { Gateway, GatewayBalance } from '../../src/app/gateway-port.js';
import type { GatewayRow } from '../../src/store/schema.js';
import type { DatabaseKind } from '../support/databases.js';
import { createHarness, describeEachDatabase, type Harness } from '../support/harness.js';
import { processWebhookEvents } from '../../src/app/webhooks/processor.js';
import { allEmulatorEvents, storeStripeEvent, stripeFor } from '../webhooks/store-event.js';

const DAY = 24 * 3600 * 1000;

async function charge(h: Harness, amount: number, currency = 'usd') {
  const pm = await h.request('POST', '/v1/payment-methods', {
    gateway_token: 'pm_card_visa',
    type: 'card',
    exp_month: 12,
    exp_year: 2030,
  });
  expect(pm.status, JSON.stringify(pm.body)).toBe(201);
  const created = await h.request('POST', '/v1/transactions', { amount, currency, payment_method_id: pm.body.id });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const res = await h.request('POST', `/v1/transactions/${created.body.id}/capture`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Stores and applies the emulator's events not seen before `mark`; none may fail. */
async function deliverSince(h: Harness, mark: Set<string>): Promise<void> {
  const ids: string[] = [];
  for (const event of (await allEmulatorEvents(h)).filter((e) => !mark.has(e.id)))
    ids.push(await storeStripeEvent(h, event));
  expect((await processWebhookEvents(h.deps, { ids: [...new Set(ids)] })).failed).toBe(0);
}

/** The `balances` job's run, awaited (POST /v1/jobs/{name}/run answers 202 before the run ends). */
const runBalancesJob = (h: Harness) => (jobNamed('balances') as TaskJob).run(h.deps, { actor: 'test' });

const fee = (amount: number) => 30 + Math.floor((amount * 29 + 500) / 1000);

async function balances(h: Harness) {
  const res = await h.request('GET', '/v1/balances');
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

const snapshots = (h: Harness) => h.deps.db.selectFrom('balance_snapshots').selectAll().orderBy('id').execute();

/** The adapter with one more balance transaction, of a kind Settle does not record, in its balance and its list. */
function withStrayItem(inner: Gateway, item: GatewayBalance): Gateway {
  return Object.assign(Object.create(inner) as Gateway, {
    retrieveBalance: async () => {
      const outcome = await inner.retrieveBalance!();
      if (outcome.kind !== 'succeeded') return outcome;
      return {
        kind: 'succeeded' as const,
        result: outcome.result.map((b) =>
          b.currency === item.currency ? { ...b, available: b.available + item.net_amount } : b,
        ),
      };
    },
    listBalanceTransactions: async (request: Parameters<Gateway['listBalanceTransactions']>[0]) => {
      const outcome = await inner.listBalanceTransactions(request);
      if (outcome.kind !== 'succeeded' || request.startingAfter !== undefined) return outcome;
      return { kind: 'succeeded' as const, result: { ...outcome.result, data: [item, ...outcome.result.data] } };
    },
  });
}

/** A Settle and an emulator of the test's own: balances are account-wide, so no test may see another's money. */
async function fresh(kind: DatabaseKind, test: (h: Harness) => Promise<void>): Promise<void> {
  const h = await createHarness(kind, { emulator: true });
  try {
    await test(h);
  } finally {
    await h.close();
  }
}

describeEachDatabase(
  'balances against the gateway',
  (_harness, kind) => {
    it('M5: GET /v1/balances: the gateway and the ledger agree, by status, after charges and a refund', () =>
      fresh(kind, async (h) => {
        const a = await charge(h, 10000);
        const b = await charge(h, 5000);
        const back = await h.request('POST', `/v1/transactions/${b.id}/refund`, { amount: 2000 });
        expect(back.status).toBe(201);
        const body = await balances(h);
        expect(body.errors).toEqual([]);
        const usd = body.data.find((e: { currency: string }) => e.currency === 'USD');
        const charges = 10000 - fee(10000) + (5000 - fee(5000));
        expect(usd).toMatchObject({
          available: -2000, // the refund is available at once; the charges are not yet
          pending: charges,
          ledger: { available: -2000, pending: charges },
          difference: 0,
          explained: 0,
          unexplained: 0,
          flagged: false,
          unlinked_items: [],
        });
        expect(a.balance_status).toBe('pending');
        // A read writes nothing.
        expect(await snapshots(h)).toEqual([]);
        expect((await h.request('GET', `/v1/transactions/${a.id}`)).body.balance_status).toBe('pending');
      }));

    it('M5: the balances job refreshes balance_status and available_on once the funds are available', () =>
      fresh(kind, async (h) => {
        const paid = await charge(h, 2000);
        expect(paid.balance_status).toBe('pending');
        const mark = new Set((await allEmulatorEvents(h)).map((e) => e.id));
        h.clock.advance(3 * DAY);
        // The emulator pays the available funds out automatically: Settle records the payout from its events.
        await deliverSince(h, mark);
        const run = await runBalancesJob(h);
        expect(run).toMatchObject({ failed: 0, errors: [] });
        expect(run.summary).toContain('1 balance status(es) refreshed');
        const after = (await h.request('GET', `/v1/transactions/${paid.id}`)).body;
        expect(after.balance_status).toBe('available');
        const bt = await stripeFor(h).balanceTransactions.retrieve(paid.gateway_ref.balance_transaction as string);
        expect(after.available_on).toBe(new Date(bt.available_on * 1000).toISOString().slice(0, 10));
        const history = await h.request('GET', `/v1/transactions/${paid.id}/history`);
        if (history.status === 200) expect(JSON.stringify(history.body)).toContain('available at the gateway');
        const usd = (await balances(h)).data.find((e: { currency: string }) => e.currency === 'USD');
        expect(usd).toMatchObject({ ledger: { available: usd.available, pending: usd.pending }, flagged: false });
      }));

    it('M5: a charge made at the gateway that Settle never recorded is flagged, with the item listed', () =>
      fresh(kind, async (h) => {
        await charge(h, 3000);
        const stray = await stripeFor(h).paymentIntents.create({
          amount: 4000,
          currency: 'usd',
          payment_method: 'pm_card_visa',
          automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
          confirm: true,
        });
        expect(stray.status).toBe('succeeded');
        const { entries } = await snapshotBalances(h.deps, 'test');
        const usd = entries.find((e) => e.currency === 'USD')!;
        expect(usd).toMatchObject({
          difference: 4000 - fee(4000),
          explained: 0,
          unexplained: 4000 - fee(4000),
          flagged: true,
        });
        expect(usd.unlinked_items).toEqual([
          expect.objectContaining({ reporting_category: 'charge', net: 4000 - fee(4000), explains: false }),
        ]);
        const rows = await snapshots(h);
        expect(rows.filter((r) => r.currency === 'USD')).toEqual([
          expect.objectContaining({ flagged: true, unexplained: 4000 - fee(4000), difference: 4000 - fee(4000) }),
        ]);
        // Through the job: the run reports the flag as an error of the run.
        const run = await runBalancesJob(h);
        expect(run.failed).toBe(1);
        expect(run.errors).toEqual([expect.objectContaining({ code: 'balance_unexplained' })]);
      }));

    it('M5: a Stripe fee Settle never saw explains its part: listed, not flagged', () =>
      fresh(kind, async (h) => {
        await charge(h, 6000);
        const item: GatewayBalance = {
          id: 'txn_stray_fee',
          type: 'stripe_fee',
          reporting_category: 'fee',
          source: null,
          currency: 'USD',
          amount: -500,
          gateway_fee: 0,
          net_amount: -500,
          exchange_rate: null,
          balance_status: 'available',
          available_on: h.clock.now(),
          created: h.clock.now(),
        };
        const { entries, failures } = await snapshotBalances(h.deps, 'test', (row: GatewayRow) =>
          withStrayItem(h.deps.gateways.forRecord(row), item),
        );
        expect(failures).toEqual([]);
        const usd = entries.find((e) => e.currency === 'USD')!;
        expect(usd).toMatchObject({ difference: -500, explained: -500, unexplained: 0, flagged: false });
        expect(usd.unlinked_items).toEqual([
          expect.objectContaining({ balance_transaction: 'txn_stray_fee', reporting_category: 'fee', explains: true }),
        ]);
        const rows = (await snapshots(h)).filter((r) => r.currency === 'USD');
        expect(rows.at(-1)).toMatchObject({ flagged: false, explained: -500, unexplained: 0 });
      }));

    it('M5: refusals are 4xx and write nothing', () =>
      fresh(kind, async (h) => {
        const before = (await snapshots(h)).length;
        const missing = await h.request('GET', '/v1/balances?gateway_id=gw_missing');
        expect(missing.status).toBe(404);
        expect(missing.body.error.code).toBe('resource_missing');
        const unknown = await h.request('GET', '/v1/balances?currency=usd');
        expect(unknown.status).toBeGreaterThanOrEqual(400);
        expect(unknown.status).toBeLessThan(500);
        const tooLong = await h.request('GET', `/v1/balances?gateway_id=${'x'.repeat(65)}`);
        expect(tooLong.status).toBe(400);
        const post = await h.request('POST', '/v1/balances', {});
        expect(post.status).toBeGreaterThanOrEqual(400);
        expect(post.status).toBeLessThan(500);
        const readOnly = await h.keyWith(['read']);
        expect((await h.request('GET', '/v1/balances', undefined, {}, readOnly)).status).toBe(200);
        expect((await h.request('POST', '/v1/jobs/balances/run', undefined, {}, readOnly)).status).toBe(403);
        expect((await snapshots(h)).length).toBe(before);
      }));

    it('M5: two balances runs at once refresh each row once and both keep their snapshot', () =>
      fresh(kind, async (h) => {
        const paid = await charge(h, 1500);
        h.clock.advance(3 * DAY);
        const [one, two] = await Promise.all([snapshotBalances(h.deps, 'a'), snapshotBalances(h.deps, 'b')]);
        expect(one.failures).toEqual([]);
        expect(two.failures).toEqual([]);
        const history = await h.deps.db
          .selectFrom('transaction_history')
          .select('action')
          .where('transaction_id', '=', paid.id)
          .execute();
        expect(history.filter((r) => r.action.includes('available at the gateway'))).toHaveLength(1);
      }));
  },
  { emulator: true },
);
