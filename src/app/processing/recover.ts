// Recovery of gateway attempts whose outcome Settle does not know (P12): the process died between tx1 and tx2, or
// the gateway's answer was lost (timeout, dropped connection, server error). Never guesses, never charges again:
//   1. while the gateway still holds the key (Stripe: 24 hours), replay the very same request with the same
//      idempotency key: the gateway answers with what it did the first time (or does it now, exactly once);
//   2. otherwise, or when the replay gets no answer either, ask: find the payment by our transaction id in its
//      metadata, re-read the intent for a capture or release, list the payment's refunds for a refund;
//   3. the gateway proves nothing happened -> the transaction returns to its previous state (the attempt stays in
//      the gateway log); it cannot be told after `maxTries` recoveries -> `needs_review`, with the reason.
// The same function serves `settle recover`, the stuck check before an action, and the scheduler's `recover` job.
import { countRecoveryTry, findAttempt, listInFlightAttemptIds } from '../../store/gateway-attempts-repo.js';
import type { GatewayAttemptRow, Tx } from '../../store/schema.js';
import { releaseActionKey, storeActionResponse } from '../command-runner.js';
import { type Deps, today } from '../deps.js';
import { requireGateway } from '../gateway-records.js';
import { applyAttemptOutcome, type AttemptVerdict, type Resolution } from './apply-outcome.js';
import { type AttemptRequest, type AttemptToSend, lookUpAttempt } from './attempt-call.js';
import { callForAttempt, readResponseFor } from './run-action.js';

/** Stripe keeps idempotency keys for 24 hours (docs/STRIPE.md, "Idempotency and retries"); replay only well within. */
export const REPLAY_WINDOW_MS = 23 * 60 * 60 * 1000;
export const DEFAULT_MAX_RECOVERY_TRIES = 5;

export type RecoveryResult = Resolution['kind'] | 'still_unknown' | 'not_in_flight';

export interface RecoveryOptions {
  actor?: string;
  /** Unresolved tries after which the attempt goes to needs_review. */
  maxTries?: number;
}

function toSend(attempt: GatewayAttemptRow): AttemptToSend & { created_at: Date } {
  return {
    action: attempt.action,
    idempotency_key: attempt.idempotency_key,
    transaction_id: attempt.transaction_id,
    // Cast: the jsonb column is typed as unknown JSON; run-action.ts wrote it from an AttemptRequest.
    request: attempt.request as unknown as AttemptRequest,
    created_at: new Date(attempt.created_at),
  };
}

/** Asks the gateway what happened to one attempt; null when it still cannot be told. */
async function askGateway(
  deps: Deps,
  attempt: GatewayAttemptRow,
): Promise<{ verdict: AttemptVerdict | null; note: string }> {
  const gateway = await requireGateway(deps, attempt.gateway_id);
  const send = toSend(attempt);
  const now = deps.clock.now();
  if (now.getTime() - send.created_at.getTime() < REPLAY_WINDOW_MS) {
    const replay = await callForAttempt(deps, gateway, send);
    if (replay.kind !== 'unknown' && replay.kind !== 'retryable')
      return { verdict: replay, note: 'replayed with the same key' };
    // The first request is still running at the gateway: wait for it rather than reading a state it is changing.
    if (replay.kind === 'unknown' && replay.error.code === 'idempotency_key_in_use') {
      return { verdict: null, note: 'the first request is still running at the gateway' };
    }
  }
  const found = await lookUpAttempt(deps.gateways.forRecord(gateway), send, now);
  switch (found.kind) {
    case 'found':
      return { verdict: found.outcome, note: 'found at the gateway' };
    case 'nothing':
      return {
        verdict: { kind: 'nothing', message: 'the gateway has no trace of the call' },
        note: 'nothing at the gateway',
      };
    case 'unknown':
      return { verdict: null, note: found.message };
  }
}

/**
 * Answers the API request that started `attempt` (its Idempotency-Key, held `running` while the outcome was unknown)
 * with the resolution: stores the response, or frees the key when nothing happened. A no-op without a key, or once
 * the key is answered.
 */
export async function answerRequest(
  trx: Tx,
  attempt: GatewayAttemptRow,
  resolution: Resolution,
  day: string,
): Promise<void> {
  if (attempt.api_key_id === null || attempt.api_idempotency_key === null) return;
  const key = { apiKeyId: attempt.api_key_id, key: attempt.api_idempotency_key };
  if (resolution.kind === 'reverted') return releaseActionKey(trx, key);
  if (resolution.kind === 'unknown') return;
  await storeActionResponse(trx, key, await readResponseFor(trx, resolution, attempt.response_status, day));
}

/** Resolves one attempt if the gateway can tell; counts a try otherwise. */
export async function recoverAttempt(
  deps: Deps,
  attemptId: string,
  options: RecoveryOptions = {},
): Promise<RecoveryResult> {
  const actor = options.actor ?? 'recovery';
  const maxTries = options.maxTries ?? DEFAULT_MAX_RECOVERY_TRIES;
  const attempt = await findAttempt(deps.db, attemptId);
  if (!attempt || attempt.state !== 'in_flight') return 'not_in_flight';
  const { verdict, note } = await askGateway(deps, attempt);
  const day = await today(deps); // before the transaction: PGlite has one connection
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    let final: AttemptVerdict | null = verdict;
    if (final === null) {
      const tries = attempt.recovery_tries + 1;
      if (!(await countRecoveryTry(trx, attempt, note, now))) return 'still_unknown'; // someone else resolved or counted it
      if (tries < maxTries) return 'still_unknown';
      final = {
        kind: 'needs_review',
        message: `The gateway could not tell what happened to the ${attempt.action} after ${tries} tries (${note}); check it at the gateway.`,
      };
    }
    const resolution = await applyAttemptOutcome(trx, attempt.id, final, { actor, now, recoveryTry: true });
    if (resolution.kind === 'already_resolved') return 'not_in_flight';
    await answerRequest(trx, attempt, resolution, day);
    return resolution.kind;
  });
}

export interface RecoveryReport {
  examined: number;
  applied: number;
  reverted: number;
  needs_review: number;
  still_unknown: number;
  errors: { attempt_id: string; message: string }[];
}

/**
 * Recovers every in-flight attempt created at least `olderThanMs` ago (0: all of them; a live request racing its
 * own recovery is safe: the replay uses its key and tx2 applies only once). Oldest first, `limit` at most.
 */
export async function recoverInFlight(
  deps: Deps,
  options: RecoveryOptions & { olderThanMs?: number; limit?: number } = {},
): Promise<RecoveryReport> {
  const cutoff = new Date(deps.clock.now().getTime() - (options.olderThanMs ?? 0));
  const ids = await listInFlightAttemptIds(deps.db, cutoff, options.limit ?? 1000);
  const report: RecoveryReport = {
    examined: ids.length,
    applied: 0,
    reverted: 0,
    needs_review: 0,
    still_unknown: 0,
    errors: [],
  };
  for (const id of ids) {
    try {
      const result = await recoverAttempt(deps, id, options);
      switch (result) {
        case 'applied':
        case 'reverted':
        case 'needs_review':
          report[result] += 1;
          break;
        case 'unknown':
        case 'still_unknown':
          report.still_unknown += 1;
          break;
        case 'already_resolved':
        case 'not_in_flight':
          break; // resolved meanwhile by its own request
      }
    } catch (error) {
      report.errors.push({ attempt_id: id, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return report;
}
