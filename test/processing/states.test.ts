// Every action from every state, as a matrix (P1-P8, L2): a fresh transaction is brought into each reachable
// state through the API and the emulator, then each action is tried on it. Legal moves answer 2xx and land where
// the state machine says; illegal ones answer 409 unexpected_state naming the current state and the states the
// action is allowed from, and change nothing (same row, no gateway attempt, no request to the emulator).
// Where a 400 comes first by design, the cell says so (a refund transaction is not a charge: not_a_charge).
import { describe, expect, it } from 'vitest';
import type { Harness } from '../support/harness.js';
import { describeEachDatabase } from '../support/harness.js';

const VISA = 'pm_card_visa';
const DECLINED = 'pm_card_visa_chargeDeclined';
const SCA = 'pm_card_authenticationRequired';

const ACTIONS = ['authorize', 'capture', 'release', 'refund', 'reattempt', 'cancel'] as const;
type Action = (typeof ACTIONS)[number];

/** Where each action is allowed from (src/app/processing/actions.ts, reattempt.ts; cancel: update-transaction.ts). */
const ALLOWED: Record<Action, string[]> = {
  authorize: ['open'],
  capture: ['open', 'completed/authorized'],
  release: ['completed/authorized'],
  refund: [
    'completed/captured',
    'completed/partially_captured',
    'completed/partially_refunded',
    'completed/authorized',
  ],
  reattempt: ['failed'],
  cancel: ['open'],
};

const STATES = [
  'open',
  'on_hold',
  'canceled',
  'failed',
  'pending_payment_intent',
  'completed/authorized',
  'completed/captured',
  'completed/partially_captured',
  'completed/uncaptured',
  'completed/partially_refunded',
  'completed/refunded',
  'refund transaction',
] as const;
type State = (typeof STATES)[number];

/** The state label a transaction in `state` reports (error.current). */
const labelOf = (state: State): string => (state === 'refund transaction' ? 'completed/refunded' : state);

type Cell =
  /** Legal: the answer's status and the state of the transaction it returns; `source`: the acted-on one afterwards. */
  | {
      kind: 'ok';
      status: number;
      result: string;
      source: string;
      newTransaction?: 'refund' | 'reattempt';
      gatewayCalls: number;
      note?: string;
    }
  /** Illegal: 409 unexpected_state with current = the state's label and allowed = ALLOWED[action]. */
  | { kind: 'conflict' }
  /** A 400 that comes before the state check by design. */
  | { kind: 'bad'; code: string; note: string };

const X: Cell = { kind: 'conflict' };
const ok = (
  status: number,
  result: string,
  gatewayCalls: number,
  more: Partial<Extract<Cell, { kind: 'ok' }>> = {},
): Cell => ({
  kind: 'ok',
  status,
  result,
  source: result,
  gatewayCalls,
  ...more,
});
const NOT_A_CHARGE: Cell = { kind: 'bad', code: 'not_a_charge', note: 'a refund transaction is not a charge' };
const REFUNDED = ok(201, 'completed/refunded', 1, {
  newTransaction: 'refund',
  source: 'completed/refunded',
  note: 'a new refund transaction',
});

/** THE matrix: rows are states, columns are actions. */
const MATRIX: Record<State, Record<Action, Cell>> = {
  open: {
    authorize: ok(200, 'completed/authorized', 1),
    capture: ok(200, 'completed/captured', 1, { note: 'charge now' }),
    release: X,
    refund: X,
    reattempt: X,
    cancel: ok(200, 'canceled', 0),
  },
  on_hold: { authorize: X, capture: X, release: X, refund: X, reattempt: X, cancel: X },
  canceled: {
    authorize: X,
    capture: X,
    release: X,
    refund: X,
    reattempt: X,
    cancel: ok(200, 'canceled', 0, { note: 'already canceled: a no-op' }),
  },
  failed: {
    authorize: X,
    capture: X,
    release: X,
    refund: X,
    reattempt: ok(201, 'open', 0, { newTransaction: 'reattempt', source: 'failed', note: 'a new open transaction' }),
    cancel: X,
  },
  pending_payment_intent: { authorize: X, capture: X, release: X, refund: X, reattempt: X, cancel: X },
  'completed/authorized': {
    authorize: X,
    capture: ok(200, 'completed/captured', 1),
    release: ok(200, 'completed/uncaptured', 1),
    refund: ok(200, 'completed/uncaptured', 1, { note: 'releases the authorization' }),
    reattempt: X,
    cancel: X,
  },
  'completed/captured': { authorize: X, capture: X, release: X, refund: REFUNDED, reattempt: X, cancel: X },
  'completed/partially_captured': { authorize: X, capture: X, release: X, refund: REFUNDED, reattempt: X, cancel: X },
  'completed/uncaptured': { authorize: X, capture: X, release: X, refund: X, reattempt: X, cancel: X },
  'completed/partially_refunded': { authorize: X, capture: X, release: X, refund: REFUNDED, reattempt: X, cancel: X },
  'completed/refunded': { authorize: X, capture: X, release: X, refund: X, reattempt: X, cancel: X },
  'refund transaction': {
    authorize: NOT_A_CHARGE,
    capture: NOT_A_CHARGE,
    release: NOT_A_CHARGE,
    refund: NOT_A_CHARGE,
    reattempt: X,
    cancel: X,
  },
};

function cellName(state: State, action: Action, cell: Cell): string {
  switch (cell.kind) {
    case 'ok':
      return `${state} × ${action} → ${cell.status} ${cell.result}${cell.note ? ` (${cell.note})` : ''}`;
    case 'conflict':
      return `${state} × ${action} → 409 unexpected_state`;
    case 'bad':
      return `${state} × ${action} → 400 ${cell.code} (${cell.note})`;
  }
}

// ---- bringing a transaction into a state -------------------------------------------------------------------------

function expectStatus(res: { status: number; body: any }, status: number): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
}

async function call(h: Harness, method: string, url: string, body: unknown, status: number) {
  const res = await h.request(method, url, body);
  expectStatus(res, status);
  return res.body;
}

async function charge(h: Harness, token: string, amount = 10000): Promise<string> {
  const pm = await call(
    h,
    'POST',
    '/v1/payment-methods',
    { gateway_token: token, type: 'card', exp_month: 12, exp_year: 2030 },
    201,
  );
  return (await call(h, 'POST', '/v1/transactions', { amount, currency: 'usd', payment_method_id: pm.id }, 201)).id;
}

const perform = (h: Harness, id: string, action: Action, body?: unknown) =>
  action === 'cancel'
    ? h.request('POST', `/v1/transactions/${id}/cancel`)
    : h.request('POST', `/v1/transactions/${id}/${action}`, body);

async function step(h: Harness, id: string, action: Action, status: number, body?: unknown) {
  const res = await perform(h, id, action, body);
  expectStatus(res, status);
  return res.body;
}

const BUILD: Record<State, (h: Harness) => Promise<string>> = {
  open: (h) => charge(h, VISA),
  on_hold: async (h) => {
    const id = await charge(h, VISA);
    await call(h, 'PATCH', `/v1/transactions/${id}`, { status: 'on_hold' }, 200);
    return id;
  },
  canceled: async (h) => {
    const id = await charge(h, VISA);
    await step(h, id, 'cancel', 200);
    return id;
  },
  failed: async (h) => {
    const id = await charge(h, DECLINED);
    await step(h, id, 'capture', 200);
    return id;
  },
  pending_payment_intent: async (h) => {
    const id = await charge(h, SCA);
    await step(h, id, 'authorize', 200);
    return id;
  },
  'completed/authorized': async (h) => {
    const id = await charge(h, VISA);
    await step(h, id, 'authorize', 200);
    return id;
  },
  'completed/captured': async (h) => {
    const id = await charge(h, VISA);
    await step(h, id, 'capture', 200);
    return id;
  },
  'completed/partially_captured': async (h) => {
    const id = await charge(h, VISA);
    await step(h, id, 'authorize', 200);
    await step(h, id, 'capture', 200, { amount: 6000 });
    return id;
  },
  'completed/uncaptured': async (h) => {
    const id = await charge(h, VISA);
    await step(h, id, 'authorize', 200);
    await step(h, id, 'release', 200);
    return id;
  },
  'completed/partially_refunded': async (h) => {
    const id = await charge(h, VISA);
    await step(h, id, 'capture', 200);
    await step(h, id, 'refund', 201, { amount: 3000 });
    return id;
  },
  'completed/refunded': async (h) => {
    const id = await charge(h, VISA);
    await step(h, id, 'capture', 200);
    await step(h, id, 'refund', 201);
    return id;
  },
  'refund transaction': async (h) => {
    const id = await charge(h, VISA);
    await step(h, id, 'capture', 200);
    return (await step(h, id, 'refund', 201)).id;
  },
};

const stateLabel = (t: { status: string; payment_status: string | null }): string =>
  t.payment_status === null ? t.status : `${t.status}/${t.payment_status}`;

async function get(h: Harness, id: string) {
  return call(h, 'GET', `/v1/transactions/${id}`, undefined, 200);
}

/** A fresh transaction in `state`, checked. */
async function reach(h: Harness, state: State): Promise<string> {
  const id = await BUILD[state](h);
  const t = await get(h, id);
  expect(stateLabel(t)).toBe(labelOf(state));
  expect(t.transaction_type).toBe(state === 'refund transaction' ? 'refund' : 'normal');
  return id;
}

/** One transaction per state and harness, shared by the cells that must leave it unchanged. */
const shared = new WeakMap<Harness, Map<State, Promise<string>>>();
function sharedIn(h: Harness, state: State): Promise<string> {
  let byState = shared.get(h);
  if (!byState) shared.set(h, (byState = new Map()));
  let id = byState.get(state);
  if (!id) byState.set(state, (id = reach(h, state)));
  return id;
}

async function snapshot(h: Harness, id: string) {
  const row = await h.deps.db
    .selectFrom('transactions')
    .select(['version', 'updated_at'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return {
    view: await get(h, id),
    version: row.version,
    updatedAt: new Date(row.updated_at).toISOString(),
    transactions: (await h.deps.db.selectFrom('transactions').select('id').execute()).length,
    attempts: (await h.deps.db.selectFrom('gateway_attempts').select('id').execute()).length,
    emulatorRequests: h.emulator!.controls.requestLog().length,
  };
}

// ---- the matrix ---------------------------------------------------------------------------------------------------

describe('the state × action matrix itself', () => {
  it('marks an action legal exactly in the states it is allowed from (plus documented no-ops)', () => {
    for (const action of ACTIONS) {
      const legal = STATES.filter((s) => {
        const cell = MATRIX[s][action];
        return cell.kind === 'ok' && !cell.note?.includes('no-op');
      }).map(labelOf);
      expect(legal.sort(), action).toEqual([...ALLOWED[action]].sort());
    }
  });
});

describeEachDatabase(
  'every action from every state',
  (getHarness) => {
    for (const state of STATES) {
      describe(state, () => {
        for (const action of ACTIONS) {
          const cell = MATRIX[state][action];
          it(cellName(state, action, cell), async () => {
            const h = getHarness();
            if (cell.kind === 'ok') {
              const id = await reach(h, state);
              const requests = h.emulator!.controls.requestLog().filter((e) => e.method === 'POST').length;
              const res = await perform(h, id, action);
              expectStatus(res, cell.status);
              expect(stateLabel(res.body)).toBe(cell.result);
              if (cell.newTransaction === 'refund') {
                expect(res.body).toMatchObject({ transaction_type: 'refund', original_transaction_id: id });
                expect(res.body.amount).toBeLessThan(0);
              } else if (cell.newTransaction === 'reattempt') {
                expect(res.body).toMatchObject({
                  transaction_type: 'normal',
                  reattempt_of_id: id,
                  reattempt_number: 1,
                });
              } else {
                expect(res.body.id).toBe(id);
              }
              expect(stateLabel(await get(h, id))).toBe(cell.source);
              expect(h.emulator!.controls.requestLog().filter((e) => e.method === 'POST').length - requests).toBe(
                cell.gatewayCalls,
              );
              return;
            }
            const id = await sharedIn(h, state);
            const before = await snapshot(h, id);
            const res = await perform(h, id, action);
            if (cell.kind === 'conflict') {
              expectStatus(res, 409);
              expect(res.body.error).toMatchObject({
                type: 'invalid_request_error',
                code: 'unexpected_state',
                current: labelOf(state),
                allowed: ALLOWED[action],
              });
              expect(res.body.error.message).toContain(`'${labelOf(state)}'`);
            } else {
              expectStatus(res, 400);
              expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: cell.code });
            }
            expect(await snapshot(h, id)).toEqual(before);
          });
        }
      });
    }
  },
  { emulator: true },
);
