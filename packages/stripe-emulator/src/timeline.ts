// What time does: when the emulator clock moves (advanceClock, or the wall clock under a request), the due
// clock-driven actions run in time order, each at its own moment (objects and events carry that time), with no
// originating request (Event.request.id null). Sources, in tie-break order:
//   balance transactions becoming available (balance.ts), authorizations lapsing (payment-intent-capture.ts),
//   ACH debits settling (bank-debits.ts), refunds failing (refund-failures.ts), payouts arriving and the daily
//   automatic payout at each UTC midnight (payouts.ts).
import { nextAvailability } from './balance-available.js';
import { nextBankDebit } from './bank-debits.js';
import { nextExpiry } from './payment-intent-capture.js';
import { nextMidnightPayout, nextPayoutArrival } from './payouts.js';
import { nextRefundFailure } from './refund-failures.js';
import { NO_REQUEST, type EmulatorState } from './state.js';

export interface TimedAction {
  atMs: number;
  run: () => void;
}

type Source = (state: EmulatorState) => TimedAction | undefined;

const SOURCES: readonly Source[] = [
  nextAvailability,
  nextExpiry,
  nextBankDebit,
  nextRefundFailure,
  nextPayoutArrival,
  nextMidnightPayout,
];

const MAX_ACTIONS = 1_000_000;

/** Runs every action due up to targetMs (default: now). Returns true if anything ran. */
export function runTimeline(state: EmulatorState, targetMs = state.now().getTime()): boolean {
  if (state.timelineMs === null) state.timelineMs = targetMs;
  let ran = false;
  for (let i = 0; i < MAX_ACTIONS; i++) {
    let next: TimedAction | undefined;
    // Each account's objects on their own (Connect, stripe-account.ts): the platform's, then each connected account's.
    for (const account of state.accountScopes()) {
      for (const source of SOURCES) {
        const action = state.asAccount(account, () => source(state));
        if (action && action.atMs <= targetMs && (next === undefined || action.atMs < next.atMs))
          next = { atMs: action.atMs, run: () => state.asAccount(account, action.run) };
      }
    }
    if (next === undefined) break;
    const at = Math.max(next.atMs, state.timelineMs);
    state.frozenNowMs = at;
    try {
      state.withRequest(NO_REQUEST, next.run);
    } finally {
      state.frozenNowMs = null;
    }
    state.timelineMs = at;
    ran = true;
  }
  if (targetMs > state.timelineMs) state.timelineMs = targetMs;
  if (ran) state.scheduleSave();
  return ran;
}
