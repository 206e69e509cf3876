// The account balance (GET /v1/balance; Balance.d.ts): per currency, `available` sums the net of balance
// transactions whose funds are available and `pending` of those still pending (payouts and their failures
// included, so a payout moves money out of `available`). When the clock passes a pending transaction's
// available_on it becomes available and a `balance.available` event carries the new balance. Balance transactions
// are in the settlement currency (converted, balance.ts and fx.ts), so a charge in EUR on a USD account counts in
// the `usd` entry; only currencies without a fixed rate keep entries of their own. With nothing yet, one entry of 0
// in the settlement currency.
import { emitJson } from './events.js';
import type { FormObject } from './form.js';
import { settlementCurrencyOf } from './fx.js';
import { checkKnown } from './params.js';
import type { EmulatorState } from './state.js';
import type { TimedAction } from './timeline.js';
import type { BalanceTransaction } from './types.js';

type Json = Record<string, unknown>;

export function balanceByCurrency(state: EmulatorState): Map<string, { available: number; pending: number }> {
  const totals = new Map<string, { available: number; pending: number }>();
  const nowS = state.nowSeconds();
  for (const bt of state.all<BalanceTransaction>('balance_transaction')) {
    const t = totals.get(bt.currency) ?? { available: 0, pending: 0 };
    if (bt.status === 'available' || bt.available_on <= nowS) t.available += bt.net;
    else t.pending += bt.net;
    totals.set(bt.currency, t);
  }
  return totals;
}

export function renderBalance(state: EmulatorState): Json {
  const totals = balanceByCurrency(state);
  if (totals.size === 0) totals.set(settlementCurrencyOf(state), { available: 0, pending: 0 });
  const entries = [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  return {
    object: 'balance',
    available: entries.map(([currency, t]) => ({ amount: t.available, currency, source_types: { card: t.available } })),
    connect_reserved: entries.map(([currency]) => ({ amount: 0, currency })),
    livemode: false,
    pending: entries.map(([currency, t]) => ({ amount: t.pending, currency, source_types: { card: t.pending } })),
  };
}

export function retrieveBalance(state: EmulatorState, params: FormObject): Json {
  checkKnown(params, ['expand']);
  return renderBalance(state);
}

/** Timeline source: the next pending balance transaction to become available. */
export function nextAvailability(state: EmulatorState): TimedAction | undefined {
  let at = Infinity;
  for (const bt of state.all<BalanceTransaction>('balance_transaction')) {
    if (bt.status === 'pending' && bt.available_on < at) at = bt.available_on;
  }
  if (at === Infinity) return undefined;
  return {
    atMs: at * 1000,
    run: () => {
      const nowS = state.nowSeconds();
      for (const bt of state.all<BalanceTransaction>('balance_transaction')) {
        if (bt.status === 'pending' && bt.available_on <= nowS) bt.status = 'available';
      }
      emitJson(state, 'balance.available', renderBalance(state));
    },
  };
}
