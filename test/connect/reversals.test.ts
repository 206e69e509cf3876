// Transfer reversals (Connect, M6) through the real SDK and adapter against the emulator: a partial then a full
// reversal (the emulator's transfer shows amount_reversed; the transfer's payment_status follows), the refusals (a 4xx
// that writes nothing and sends nothing), concurrent reverses (exactly what fits is accepted and sent), a replayed
// Idempotency-Key; and the recovery of Connect sends left in `process` (the answer dropped): the `recover` job resends
// them with their fixed key after the grace period, exactly once at the gateway, and sends one older than the
// gateway's key window to needs_review without sending it again.
import { expect, it } from 'vitest';
import { CONNECT_SEND_GRACE_MS, recoverConnectSends } from '../../src/app/connect/recover-sends.js';
import { REPLAY_WINDOW_MS } from '../../src/app/processing/recover.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { runJob } from '../jobs/support.js';
import { stripeFor } from '../webhooks/store-event.js';
import { countRows, connectedAccount, capturedCharge, type Json } from './support.js';

const TRANSFERS = '/v1/transfers';
const REVERSALS = /^\/v1\/transfers\/[^/]+\/reversals$/;

const count = countRows;
const counts = async (h: Harness) => [await count(h, 'transactions'), await count(h, 'transaction_history')];

function emulatorOf(h: Harness) {
  if (!h.emulator) throw new Error('this suite needs the emulator');
  return h.emulator;
}

/** drop_response twice: the SDK resends once on a dropped connection (same key), so both answers are lost. */
function dropAnswer(h: Harness, path: string | RegExp): void {
  emulatorOf(h).controls.injectFault({ method: 'POST', path, kind: 'drop_response', times: 2 });
}

async function openTransfer(h: Harness, amount: number, fundedBy = 10000) {
  const account = await connectedAccount(h);
  const charge = await capturedCharge(h, fundedBy);
  const res = await h.request('POST', '/v1/transactions', {
    record_type: 'transfer',
    currency: 'usd',
    amount,
    connected_account_id: account.id,
    source_transaction_id: charge,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as string, account, charge };
}

/** A transfer sent to a new connected account: completed/transferred, with its tr_... */
async function sentTransfer(h: Harness, amount: number) {
  const created = await openTransfer(h, amount);
  const res = await h.request('POST', `/v1/transactions/${created.id}/process`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body).toMatchObject({ status: 'completed', payment_status: 'transferred' });
  return { ...created, tr: res.body.gateway_ref.transfer as string };
}

const read = async (h: Harness, id: string) => (await h.request('GET', `/v1/transactions/${id}`)).body as Json;
const reversalsAt = async (h: Harness, tr: string) =>
  (await stripeFor(h).transfers.listReversals(tr, { limit: 100 })).data;

describeEachDatabase(
  'transfer reversals against the emulator',
  (harness) => {
    it('reverses part of a sent transfer, then the rest; the transfer and the gateway follow', async () => {
      const h = harness();
      const sent = await sentTransfer(h, 2500);
      const part = await h.request('POST', `/v1/transactions/${sent.id}/reverse`, { amount: 1000 });
      expect(part.status, JSON.stringify(part.body)).toBe(201);
      expect(part.body).toMatchObject({
        record_type: 'transfer',
        transaction_type: 'reversal',
        status: 'completed',
        payment_status: 'reversed',
        amount: -1000,
        currency: 'USD',
        original_transaction_id: sent.id,
        connected_account_id: sent.account.id,
      });
      expect(part.body.gateway_ref.transfer).toMatch(/^trr_/);
      expect(await read(h, sent.id)).toMatchObject({
        status: 'completed',
        payment_status: 'partially_reversed',
        refunded_amount: 1000,
        retained_amount: 1500,
      });
      const atGateway = await stripeFor(h).transfers.retrieve(sent.tr);
      expect(atGateway).toMatchObject({ amount_reversed: 1000, reversed: false });

      // No amount: all that is left.
      const rest = await h.request('POST', `/v1/transactions/${sent.id}/reverse`);
      expect(rest.status, JSON.stringify(rest.body)).toBe(201);
      expect(rest.body).toMatchObject({ amount: -1500, status: 'completed', payment_status: 'reversed' });
      expect(await read(h, sent.id)).toMatchObject({
        payment_status: 'reversed',
        refunded_amount: 2500,
        retained_amount: 0,
      });
      expect(await stripeFor(h).transfers.retrieve(sent.tr)).toMatchObject({ amount_reversed: 2500, reversed: true });
      const reversals = await reversalsAt(h, sent.tr);
      expect(reversals.map((r) => [r.id, r.amount, r.metadata?.settle_transaction_id]).sort()).toEqual(
        [
          [part.body.gateway_ref.transfer, 1000, part.body.id],
          [rest.body.gateway_ref.transfer, 1500, rest.body.id],
        ].sort(),
      );

      // A wholly reversed transfer cannot be reversed again: 409, nothing written, nothing sent.
      const before = await counts(h);
      const again = await h.request('POST', `/v1/transactions/${sent.id}/reverse`, { amount: 1 });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('unexpected_state');
      expect(await counts(h)).toEqual(before);
      expect(await reversalsAt(h, sent.tr)).toHaveLength(2);
    });

    it('refuses bad reverses with a 4xx that writes nothing and sends nothing', async () => {
      const h = harness();
      const sent = await sentTransfer(h, 2500);
      const open = await openTransfer(h, 500);
      // A transfer the gateway refused (more than its source charge): failed.
      const refused = await openTransfer(h, 5000, 1000);
      const failed = await h.request('POST', `/v1/transactions/${refused.id}/process`);
      expect(failed.body).toMatchObject({ status: 'failed' });
      const before = await counts(h);
      const cases: [string, unknown, number, string | null][] = [
        [sent.id, { amount: 2501 }, 400, 'amount_exceeds_reversible'],
        [sent.id, { amount: 0 }, 400, 'invalid_amount'],
        [sent.id, { amount: -5 }, 400, 'invalid_amount'],
        [sent.id, { amount: 1.5 }, 400, null],
        [sent.id, { amount: '100' }, 400, null],
        [sent.id, { amount: 100, reason: 'x' }, 400, null],
        [open.id, {}, 409, 'unexpected_state'],
        [refused.id, {}, 409, 'unexpected_state'],
        [sent.charge, {}, 400, 'not_a_transfer'],
        ['trx_missing', {}, 404, 'resource_missing'],
      ];
      for (const [id, body, status, code] of cases) {
        const res = await h.request('POST', `/v1/transactions/${id}/reverse`, body);
        expect(res.status, JSON.stringify([id, body, res.body])).toBe(status);
        if (code !== null) expect(res.body.error.code, JSON.stringify(body)).toBe(code);
      }
      expect(await counts(h)).toEqual(before);
      expect(await reversalsAt(h, sent.tr)).toHaveLength(0);
      expect(await read(h, sent.id)).toMatchObject({ payment_status: 'transferred', refunded_amount: 0 });
    });

    it('concurrent reverses: of the whole remainder exactly one is accepted; partial ones that fit all are', async () => {
      const h = harness();
      const sent = await sentTransfer(h, 2500);
      const whole = await Promise.all(
        Array.from({ length: 3 }, () => h.request('POST', `/v1/transactions/${sent.id}/reverse`)),
      );
      const statuses = whole.map((a) => a.status).sort();
      expect(statuses, JSON.stringify(whole.map((a) => a.body))).toHaveLength(3);
      expect(statuses[0]).toBe(201);
      for (const status of statuses.slice(1)) expect([400, 409]).toContain(status);
      expect(await reversalsAt(h, sent.tr)).toHaveLength(1);
      expect(await read(h, sent.id)).toMatchObject({
        payment_status: 'reversed',
        refunded_amount: 2500,
        retained_amount: 0,
      });

      const other = await sentTransfer(h, 2500);
      const parts = await Promise.all(
        [1000, 1000, 1000].map((amount) => h.request('POST', `/v1/transactions/${other.id}/reverse`, { amount })),
      );
      const partStatuses = parts.map((a) => a.status).sort();
      expect(partStatuses, JSON.stringify(parts.map((a) => a.body))).toEqual([201, 201, 400]);
      expect((await reversalsAt(h, other.tr)).map((r) => r.amount)).toEqual([1000, 1000]);
      expect(await read(h, other.id)).toMatchObject({ payment_status: 'partially_reversed', refunded_amount: 2000 });
    });

    it('a replayed Idempotency-Key answers the same 201 and sends nothing more', async () => {
      const h = harness();
      const sent = await sentTransfer(h, 2500);
      const headers = { 'idempotency-key': `reverse-${sent.id}` };
      const first = await h.request('POST', `/v1/transactions/${sent.id}/reverse`, { amount: 700 }, headers);
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      expect(first.headers['idempotency-replayed']).toBeUndefined();
      const second = await h.request('POST', `/v1/transactions/${sent.id}/reverse`, { amount: 700 }, headers);
      expect(second.status).toBe(201);
      expect(second.headers['idempotency-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(await reversalsAt(h, sent.tr)).toHaveLength(1);
      expect(await read(h, sent.id)).toMatchObject({ refunded_amount: 700 });
    });

    it('the recover job completes a transfer and a reversal left in process, once each at the gateway', async () => {
      const h = harness();
      // A transfer whose answer is lost: it stays in process.
      const created = await openTransfer(h, 2500);
      dropAnswer(h, TRANSFERS);
      const lost = await h.request('POST', `/v1/transactions/${created.id}/process`);
      expect(lost.status, JSON.stringify(lost.body)).toBe(200);
      expect(lost.body).toMatchObject({ status: 'process' });
      // The gateway made it (drop_response does the work, then drops the answer).
      const made = await stripeFor(h).transfers.list({ destination: created.account.account });
      expect(made.data).toHaveLength(1);

      // Within the grace period recovery leaves it alone.
      expect(await runJob(h, 'recover')).toMatchObject({ status: 'succeeded' });
      expect(await read(h, created.id)).toMatchObject({ status: 'process' });

      h.clock.advance(CONNECT_SEND_GRACE_MS + 1000);
      const run = await runJob(h, 'recover');
      expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded' });
      const transfer = await read(h, created.id);
      expect(transfer).toMatchObject({ status: 'completed', payment_status: 'transferred' });
      expect((transfer.gateway_ref as Json).transfer).toBe(made.data[0]!.id);
      expect((await stripeFor(h).transfers.list({ destination: created.account.account })).data).toHaveLength(1);

      // A reversal of it whose answer is lost: 202, in process; the transfer is unchanged meanwhile.
      dropAnswer(h, REVERSALS);
      const pending = await h.request('POST', `/v1/transactions/${created.id}/reverse`, { amount: 1000 });
      expect(pending.status, JSON.stringify(pending.body)).toBe(202);
      expect(pending.body).toMatchObject({ status: 'process', amount: -1000, transaction_type: 'reversal' });
      expect(await read(h, created.id)).toMatchObject({ payment_status: 'transferred', refunded_amount: 0 });
      // It counts against what is left while in flight.
      const over = await h.request('POST', `/v1/transactions/${created.id}/reverse`, { amount: 1501 });
      expect(over.status).toBe(400);
      const tr = made.data[0]!.id;
      expect(await reversalsAt(h, tr)).toHaveLength(1);

      h.clock.advance(CONNECT_SEND_GRACE_MS + 1000);
      const second = await runJob(h, 'recover');
      expect(second, JSON.stringify(second)).toMatchObject({ status: 'succeeded' });
      const reversal = await read(h, pending.body.id as string);
      expect(reversal).toMatchObject({ status: 'completed', payment_status: 'reversed' });
      expect(await read(h, created.id)).toMatchObject({ payment_status: 'partially_reversed', refunded_amount: 1000 });
      const atGateway = await reversalsAt(h, tr);
      expect(atGateway).toHaveLength(1);
      expect((reversal.gateway_ref as Json).transfer).toBe(atGateway[0]!.id);
      // A further run finds nothing to do.
      await runJob(h, 'recover');
      expect(await reversalsAt(h, tr)).toHaveLength(1);
      expect((await stripeFor(h).transfers.list({ destination: created.account.account })).data).toHaveLength(1);
    });

    it('concurrent recoveries of a reversal in process apply it once: one reversal, counted once on its transfer', async () => {
      const h = harness();
      const sent = await sentTransfer(h, 2500);
      dropAnswer(h, REVERSALS);
      const pending = await h.request('POST', `/v1/transactions/${sent.id}/reverse`, { amount: 600 });
      expect(pending.status, JSON.stringify(pending.body)).toBe(202);
      h.clock.advance(CONNECT_SEND_GRACE_MS + 1000);
      const reports = await Promise.all(
        Array.from({ length: 3 }, () => recoverConnectSends(h.deps, { actor: 'test' })),
      );
      for (const report of reports) expect(report.errors).toEqual([]);
      expect(await read(h, pending.body.id as string)).toMatchObject({
        status: 'completed',
        payment_status: 'reversed',
      });
      expect(await read(h, sent.id)).toMatchObject({ payment_status: 'partially_reversed', refunded_amount: 600 });
      expect((await reversalsAt(h, sent.tr)).map((r) => r.amount)).toEqual([600]);
      const history = await h.request('GET', `/v1/transactions/${sent.id}/history`);
      expect(history.status).toBe(200);
      const reverses = (history.body.data as { action: string }[]).filter((e) => e.action === 'reverse');
      expect(reverses).toHaveLength(1);
    });

    it('a send left in process longer than the key window goes to needs_review and is not sent again', async () => {
      const h = harness();
      const created = await openTransfer(h, 2500);
      dropAnswer(h, TRANSFERS);
      const lost = await h.request('POST', `/v1/transactions/${created.id}/process`);
      expect(lost.body).toMatchObject({ status: 'process' });
      const sent = emulatorOf(h)
        .controls.requestLog()
        .filter((e) => e.method === 'POST' && e.path === TRANSFERS).length;
      h.clock.advance(REPLAY_WINDOW_MS + 1000);
      const run = await runJob(h, 'recover');
      expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded' });
      const row = await read(h, created.id);
      expect(row).toMatchObject({ status: 'needs_review', error_code: 'recovery_needs_review' });
      expect(row.error_message).toMatch(/idempotency key/);
      expect(
        emulatorOf(h)
          .controls.requestLog()
          .filter((e) => e.method === 'POST' && e.path === TRANSFERS).length,
      ).toBe(sent);
      // It is not picked again.
      await runJob(h, 'recover');
      expect(await read(h, created.id)).toMatchObject({ status: 'needs_review' });
    });
  },
  { emulator: true },
);
