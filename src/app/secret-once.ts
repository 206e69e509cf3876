// Responses that carry a secret shown once (a new API key's secret; later an outbound webhook endpoint's signing
// secret). The command runner stores a request's response for replays under its Idempotency-Key, so that stored
// body must never hold the secret: the work builds its body with `secret: null` (what is stored, and all a
// replay ever gets) and hands the secret over aside; only the fresh response carries it.
import type { Tx } from '../store/schema.js';
import type { CommandResult, CommandRunner, IdempotencyInput, RunOutcome } from './command-runner.js';

/** A response body with a secret shown once: null when stored, and in every replay. */
export interface WithSecret {
  secret: string | null;
}

/** Gives the fresh response its secret; the work calls it once, inside its transaction. */
export type RevealSecret = (secret: string) => void;

/**
 * Runs `work` through the command runner; the body it returns must have `secret: null` (a body with a secret is
 * refused before it can be stored). The fresh outcome gets the revealed secret; a replay keeps `secret: null`.
 */
export async function runWithSecretOnce<T extends WithSecret>(
  commands: Pick<CommandRunner, 'run'>,
  idempotency: IdempotencyInput | undefined,
  work: (trx: Tx, reveal: RevealSecret) => Promise<CommandResult<T>>,
): Promise<RunOutcome<T>> {
  let secret: string | undefined;
  const outcome = await commands.run<T>(idempotency, async (trx) => {
    const result = await work(trx, (value) => {
      secret = value;
    });
    if (result.body.secret !== null) throw new Error('runWithSecretOnce: the body to store must have secret: null');
    return result;
  });
  if (outcome.replayed || secret === undefined) return outcome;
  return { ...outcome, body: { ...outcome.body, secret } };
}
