// Payouts Settle sends (Connect, M6) through the real SDK and adapter against the emulator: a payout made on a
// connected account (funded by a transfer from the platform), sent once by process whatever the number of concurrent
// calls (one payout at the emulator, on that account), shown not_applicable by GET /v1/payouts; the payouts job sends
// only the due auto-process ones; a payout the account's balance does not cover fails with the gateway's error; no
// answer leaves it in process, an event about it meanwhile waits instead of recording it twice, and recovery resends it
// with the same key; its paid, canceled and failed states move the same row on, and the connected account's events
// through the webhook processor do so without recording the account's other payouts; the refusals of create and
// process, each a 4xx that writes nothing; the to_fix message of a payout without a destination.
import { expect, it } from 'vitest';
import { TO_FIX_MESSAGES } from '../../src/domain/to-fix.js';
import { today } from '../../src/app/deps.js';
import { applyPayout, syncPayout } from '../../src/app/webhooks/sync-payout.js';
import { Deferred, type SyncContext } from '../../src/app/webhooks/sync-context.js';
import { findDefaultGateway } from '../../src/store/gateway-records-repo.js';
import { CONNECT_SEND_GRACE_MS, recoverConnectSends } from '../../src/app/connect/recover-sends.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { runJob } from '../jobs/support.js';
import { emulatorOf, type EventLike, storeStripeEvent, stripeFor } from '../webhooks/store-event.js';
import { processWebhookEvents } from '../../src/app/webhooks/processor.js';
import { countRows, connectedAccount, type Json } from './support.js';

const DAY = 24 * 3600 * 1000;

const count = countRows;
const counts = async (h: Harness) => [
  await count(h, 'transactions'),
  await count(h, 'transaction_history'),
  await count(h, 'payout_reconciliations'),
];

/**
 * Gives the connected account `amount` of available usd: the platform's balance is seeded (the emulator's
 * POST /_emulator/balance/seed, available at once) and transferred to the account (available at once without a
 * source charge). Exactly the amount, so that no automatic payout of a remainder appears when the clock moves.
 */
async function fund(h: Harness, account: string, amount: number): Promise<void> {
  const seeded = await fetch(`${emulatorOf(h).url}/_emulator/balance/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ count: 1, amount, fee: 0, prefix: `fund_${account}` }),
  });
  expect(seeded.status).toBe(200);
  await stripeFor(h).transfers.create({ amount, currency: 'usd', destination: account });
}

async function payout(h: Harness, body: Json): Promise<Json & { id: string }> {
  const res = await h.request('POST', '/v1/transactions', { record_type: 'payout', currency: 'usd', ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Json & { id: string };
}

const payoutsAt = async (h: Harness, account: string) =>
  (await stripeFor(h).payouts.list({ limit: 100 }, { stripeAccount: account })).data;

const read = async (h: Harness, id: string) => (await h.request('GET', `/v1/transactions/${id}`)).body as Json;

/** What the webhook processor gives a connected account's payout event: the platform's gateway, scoped to it. */
async function syncContextOn(h: Harness, account: string): Promise<SyncContext> {
  const gatewayRow = (await findDefaultGateway(h.deps.db))!;
  const platform = h.deps.gateways.forRecord(gatewayRow);
  return {
    deps: h.deps,
    gatewayRow,
    gateway: platform.forAccount ? platform.forAccount(account) : platform,
    actor: 'webhook:test',
    now: h.clock.now(),
    day: await today(h.deps),
    eventTypes: new Set(['payout.paid']),
  };
}

describeEachDatabase(
  'payouts sent on connected accounts, against the emulator',
  (harness) => {
    it('creates a payout and sends it once, whatever the number of concurrent process calls', async () => {
      const h = harness();
      const account = await connectedAccount(h);
      await fund(h, account.account, 5000);
      const created = await payout(h, {
        amount: 3000,
        connected_account_id: account.id,
        description: 'Weekly payout',
      });
      expect(created).toMatchObject({
        record_type: 'payout',
        status: 'open',
        connected_account_id: account.id,
        to_fix: null,
      });
      const answers = await Promise.all(
        Array.from({ length: 3 }, () => h.request('POST', `/v1/transactions/${created.id}/process`)),
      );
      expect(answers.map((a) => a.status).sort(), JSON.stringify(answers.map((a) => a.body))).toEqual([200, 409, 409]);
      const ok = answers.find((a) => a.status === 200)!.body as Json & { gateway_ref: Json };
      expect(ok).toMatchObject({ status: 'completed', payment_status: 'in_transit', error_code: null });
      expect(ok.gateway_ref.payout).toMatch(/^po_/);
      const atGateway = await payoutsAt(h, account.account);
      expect(atGateway).toHaveLength(1);
      expect(atGateway[0]).toMatchObject({
        id: ok.gateway_ref.payout,
        amount: 3000,
        currency: 'usd',
        automatic: false,
        description: 'Weekly payout',
        metadata: { settle_transaction_id: created.id },
      });
      // Made on the connected account: the platform has no payout.
      expect((await stripeFor(h).payouts.list({ limit: 100 })).data).toHaveLength(0);
      // Processing it again is a 409 that sends nothing.
      const again = await h.request('POST', `/v1/transactions/${created.id}/process`);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('unexpected_state');
      expect(await payoutsAt(h, account.account)).toHaveLength(1);
      // GET /v1/payouts: a manual payout, whose contents Stripe cannot list.
      const arrival = new Date(atGateway[0]!.arrival_date * 1000).toISOString().slice(0, 10);
      const shown = await h.request('GET', `/v1/payouts/${created.id}`);
      expect(shown.status, JSON.stringify(shown.body)).toBe(200);
      expect(shown.body).toMatchObject({
        id: created.id,
        gateway_payout: ok.gateway_ref.payout,
        amount: 3000,
        currency: 'USD',
        status: 'in_transit',
        arrival_date: arrival,
        automatic: false,
        reconciliation_status: 'not_applicable',
        gateway_reconciliation_status: 'not_applicable',
      });
      const listed = await h.request('GET', '/v1/payouts?reconciliation_status=not_applicable');
      expect(listed.body.data.map((p: Json) => p.id)).toEqual([created.id]);
    });

    it('the payouts job sends the due auto-process payouts, and only those', async () => {
      const h = harness();
      const account = await connectedAccount(h);
      await fund(h, account.account, 5000);
      const day = h.clock.now().toISOString().slice(0, 10);
      const pm = await h.request('POST', '/v1/payment-methods', {
        gateway_token: 'pm_card_visa',
        type: 'card',
        exp_month: 12,
        exp_year: 2030,
      });
      expect(pm.status, JSON.stringify(pm.body)).toBe(201);
      const due = await payout(h, {
        amount: 1000,
        connected_account_id: account.id,
        auto_process: true,
        due_date: day,
      });
      const later = await payout(h, {
        amount: 1100,
        connected_account_id: account.id,
        auto_process: true,
        due_date: '2099-01-01',
      });
      const manual = await payout(h, { amount: 1200, connected_account_id: account.id, due_date: day });
      const toCard = await payout(h, {
        amount: 1300,
        payment_method_id: pm.body.id,
        auto_process: true,
        due_date: day,
      });
      const run = await runJob(h, 'payouts');
      expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded', succeeded: 1, failed: 0 });
      expect(await read(h, due.id)).toMatchObject({ status: 'completed', payment_status: 'in_transit' });
      for (const left of [later, manual, toCard]) expect(await read(h, left.id)).toMatchObject({ status: 'open' });
      expect((await payoutsAt(h, account.account)).map((p) => p.amount)).toEqual([1000]);
      // A second run finds nothing due.
      expect(await runJob(h, 'payouts')).toMatchObject({ status: 'succeeded', succeeded: 0 });
      expect(await payoutsAt(h, account.account)).toHaveLength(1);
    });

    it("a payout the account's balance does not cover fails with the gateway's error", async () => {
      const h = harness();
      const account = await connectedAccount(h);
      await fund(h, account.account, 1000);
      const created = await payout(h, { amount: 5000, connected_account_id: account.id });
      const res = await h.request('POST', `/v1/transactions/${created.id}/process`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ status: 'failed', payment_status: null, error_code: 'balance_insufficient' });
      expect(res.body.error_message).toMatch(/insufficient funds/);
      expect(await payoutsAt(h, account.account)).toHaveLength(0);
      // A failed payout is not sent again.
      expect((await h.request('POST', `/v1/transactions/${created.id}/process`)).status).toBe(409);
    });

    it('its paid, canceled and failed states at the gateway move the same row on, never recording it twice', async () => {
      const h = harness();
      const account = await connectedAccount(h);
      await fund(h, account.account, 3000);
      const send = async (amount: number) => {
        const created = await payout(h, { amount, connected_account_id: account.id });
        const res = await h.request('POST', `/v1/transactions/${created.id}/process`);
        expect(res.body, JSON.stringify(res.body)).toMatchObject({ status: 'completed', payment_status: 'in_transit' });
        return { id: created.id, payout: (res.body.gateway_ref as Json).payout as string };
      };
      const paid = await send(2000);
      const canceled = await send(1000);
      const before = await count(h, 'transactions');
      const ctx = await syncContextOn(h, account.account);
      // Canceled while pending (Stripe refunds the funds to the account's balance).
      await stripeFor(h).payouts.cancel(canceled.payout, {}, { stripeAccount: account.account });
      expect(await syncPayout(ctx, canceled.payout)).toContain('completed/in_transit -> canceled');
      expect(await read(h, canceled.id)).toMatchObject({ status: 'canceled' });
      // The other arrives (created + 2 days): paid.
      emulatorOf(h).controls.advanceClock(2 * DAY + 3600 * 1000);
      expect((await payoutsAt(h, account.account)).find((p) => p.id === paid.payout)).toMatchObject({ status: 'paid' });
      expect(await syncPayout(ctx, paid.payout)).toContain('completed/in_transit -> completed/paid');
      expect(await read(h, paid.id)).toMatchObject({ status: 'completed', payment_status: 'paid' });
      // A duplicate event: nothing moves.
      expect(await syncPayout(ctx, paid.payout)).toContain('already completed/paid');
      // "A payout can show paid and fail later": the emulator fails only automatic payouts, so the read is changed.
      const read2 = await ctx.gateway.retrievePayout(paid.payout);
      if (read2.kind !== 'succeeded') throw new Error(JSON.stringify(read2));
      const failed = {
        ...read2.result,
        status: 'failed' as const,
        failure_code: 'account_closed',
        failure_message: null,
      };
      expect(await h.deps.db.transaction().execute((trx) => applyPayout(trx, ctx, failed))).toContain(
        'completed/paid -> failed',
      );
      expect(await read(h, paid.id)).toMatchObject({
        status: 'failed',
        error_code: 'account_closed',
        error_type: 'payout_failure',
      });
      expect(await count(h, 'transactions')).toBe(before);
    });

    it("the connected account's payout events, through the webhook processor, move the sent row to paid", async () => {
      const h = harness();
      const account = await connectedAccount(h);
      await fund(h, account.account, 3000);
      const created = await payout(h, { amount: 2000, connected_account_id: account.id });
      const sent = await h.request('POST', `/v1/transactions/${created.id}/process`);
      expect(sent.body).toMatchObject({ status: 'completed', payment_status: 'in_transit' });
      const ours = (sent.body.gateway_ref as Json).payout as string;
      // And a payout of the account's own, made without Settle (its dashboard, or its platform directly).
      await stripeFor(h).payouts.create({ amount: 1000, currency: 'usd' }, { stripeAccount: account.account });
      emulatorOf(h).controls.advanceClock(2 * DAY + 3600 * 1000);
      const events = (await stripeFor(h).events.list({ limit: 100 }, { stripeAccount: account.account })).data.filter(
        (e) => e.type.startsWith('payout.'),
      );
      const about = (e: (typeof events)[number]) => (e.data.object as { id: string }).id;
      const oursTypes = events.filter((e) => about(e) === ours).map((e) => e.type);
      expect(oursTypes.sort()).toEqual(['payout.created', 'payout.paid', 'payout.updated']);
      expect(events.filter((e) => about(e) !== ours).map((e) => e.type)).toContain('payout.paid');
      expect(events.every((e) => e.account === account.account)).toBe(true);
      const before = await counts(h);
      const ids: string[] = [];
      for (const event of events.reverse()) ids.push(await storeStripeEvent(h, event as unknown as EventLike));
      const summary = await processWebhookEvents(h.deps, { ids });
      expect(summary, JSON.stringify(summary)).toMatchObject({ failed: 0, not_supported: 0 });
      expect(await read(h, created.id)).toMatchObject({ status: 'completed', payment_status: 'paid' });
      // The account's own payout is paid from its balance: not recorded as a payout of the platform.
      const after = await counts(h);
      expect([after[0], after[2]]).toEqual([before[0], before[2]]);
    });

    it('no answer leaves the payout in process; an event about it meanwhile waits for the answer', async () => {
      const h = harness();
      const account = await connectedAccount(h);
      await fund(h, account.account, 5000);
      const created = await payout(h, { amount: 2500, connected_account_id: account.id });
      // Stripe makes the payout, the answer never arrives (every resend is dropped too).
      emulatorOf(h).controls.injectFault({ method: 'POST', path: '/v1/payouts', kind: 'drop_response', times: 10 });
      const res = await h.request('POST', `/v1/transactions/${created.id}/process`);
      emulatorOf(h).controls.clearFaults();
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ status: 'process', payment_status: null });
      expect(res.body.error_code).toBeTruthy();
      const made = await payoutsAt(h, account.account);
      expect(made).toHaveLength(1);
      expect(made[0]!.metadata).toEqual({ settle_transaction_id: created.id });
      // Its payout.created event, applied before Settle knows the answer: not a second payout row, but a wait.
      const before = await counts(h);
      const ctx = await syncContextOn(h, account.account);
      const atGateway = await ctx.gateway.retrievePayout(made[0]!.id);
      if (atGateway.kind !== 'succeeded') throw new Error(JSON.stringify(atGateway));
      expect(atGateway.result.transaction_id).toBe(created.id);
      await expect(
        h.deps.db.transaction().execute((trx) => applyPayout(trx, ctx, atGateway.result)),
      ).rejects.toBeInstanceOf(Deferred);
      expect(await counts(h)).toEqual(before);
      // A second process call is refused: the payout is not sent twice.
      expect((await h.request('POST', `/v1/transactions/${created.id}/process`)).status).toBe(409);
      // Recovery (the `recover` job's Connect part) leaves it alone during the grace period, then resends it with the
      // same key: Stripe answers with the payout it made, and the row completes with it. Still one payout.
      expect(await recoverConnectSends(h.deps)).toMatchObject({ examined: 0 });
      h.clock.advance(CONNECT_SEND_GRACE_MS);
      expect(await recoverConnectSends(h.deps)).toMatchObject({ examined: 1, applied: 1, unhandled: 0 });
      expect(await read(h, created.id)).toMatchObject({
        status: 'completed',
        payment_status: 'in_transit',
        gateway_ref: { payout: made[0]!.id },
        error_code: null,
      });
      expect(await payoutsAt(h, account.account)).toHaveLength(1);
      // The waiting event now finds the row by its payout.
      expect(await h.deps.db.transaction().execute((trx) => applyPayout(trx, ctx, atGateway.result))).toContain(
        'already completed/in_transit',
      );
      expect(await count(h, 'transactions')).toBe(before[0]);
    });

    it('refuses bad payouts and bad process calls with a 4xx that writes nothing', async () => {
      const h = harness();
      const account = await connectedAccount(h);
      const pm = await h.request('POST', '/v1/payment-methods', {
        gateway_token: 'pm_card_visa',
        type: 'card',
        exp_month: 12,
        exp_year: 2030,
      });
      const charge = await h.request('POST', '/v1/transactions', { amount: 500, currency: 'usd' });
      // The seed's to_fix rule: auto-process and neither a connected account nor a payment method.
      const noDestination = await payout(h, { amount: 100, auto_process: true, due_date: '2026-12-01' });
      expect(noDestination.to_fix).toBe(TO_FIX_MESSAGES.payout_missing_destination);
      const onAccount = await payout(h, {
        amount: 100,
        connected_account_id: account.id,
        auto_process: true,
        due_date: '2026-12-01',
      });
      expect(onAccount.to_fix).toBeNull();
      const toFix = await h.request('GET', '/v1/transactions?view=to_fix&limit=100');
      const fixIds = toFix.body.data.map((t: Json) => t.id);
      expect(fixIds).toContain(noDestination.id);
      expect(fixIds).not.toContain(onAccount.id);
      const toCard = await payout(h, { amount: 100, payment_method_id: pm.body.id });
      const held = await payout(h, { amount: 100, connected_account_id: account.id });
      expect((await h.request('PATCH', `/v1/transactions/${held.id}`, { status: 'on_hold' })).status).toBe(200);
      const before = await counts(h);
      const creates: [Json, number, string][] = [
        [{ amount: 100, connected_account_id: 'cac_missing' }, 404, 'resource_missing'],
        [{ amount: 100, connected_account_id: account.id, payment_method_id: pm.body.id }, 400, 'invalid_payout'],
        [{ amount: 100, connected_account_id: account.id, capture: true }, 400, 'invalid_payout'],
        [{ amount: 100, connected_account_id: account.id, authorize: true }, 400, 'invalid_payout'],
        [{ amount: 100, connected_account_id: account.id, non_gateway: true }, 400, 'invalid_payout'],
        [{ amount: 100, transaction_type: 'write_off', non_gateway: true, status: 'completed' }, 400, 'invalid_payout'],
        [{ amount: 100, connected_account_id: account.id, transfer_group: 'g' }, 400, 'parameter_not_allowed'],
        [{ amount: 100, source_transaction_id: charge.body.id }, 400, 'parameter_not_allowed'],
        [{ amount: -100, connected_account_id: account.id }, 400, 'invalid_amount'],
        [{ amount: 0, connected_account_id: account.id }, 400, 'invalid_amount'],
        [{ amount: 100, connected_account_id: account.id, currency: 'XYZ' }, 400, 'invalid_currency'],
      ];
      for (const [body, status, code] of creates) {
        const res = await h.request('POST', '/v1/transactions', { record_type: 'payout', currency: 'usd', ...body });
        expect(res.status, JSON.stringify([body, res.body])).toBe(status);
        expect(res.body.error.code, JSON.stringify(body)).toBe(code);
      }
      const processes: [string, number, string][] = [
        [noDestination.id, 400, 'payout_missing_destination'],
        [toCard.id, 400, 'payout_destination_not_supported'],
        [held.id, 409, 'unexpected_state'],
        [charge.body.id, 400, 'not_a_transfer'],
        ['trx_missing', 404, 'resource_missing'],
      ];
      for (const [id, status, code] of processes) {
        const res = await h.request('POST', `/v1/transactions/${id}/process`);
        expect(res.status, JSON.stringify([id, res.body])).toBe(status);
        expect(res.body.error.code).toBe(code);
      }
      expect((await h.request('POST', `/v1/transactions/${onAccount.id}/process`, { amount: 1 })).status).toBe(400);
      expect(await counts(h)).toEqual(before);
      expect(await payoutsAt(h, account.account)).toHaveLength(0);
    });
  },
  { emulator: true },
);
