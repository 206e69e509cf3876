// What every webhook handler shares (W2): the gateway it reads from, who it writes history as, and the two ways an
// event can fail to apply now: Deferred (not yet: it stays pending and is tried again shortly) and ApplyFailed
// (failed, retryable or not, with the reason shown on the event).
import type { Db, GatewayRow, TransactionRow } from '../../store/schema.js';
import { lockChargeByPaymentIntent, lockTransaction } from '../../store/transactions-repo.js';
import type { Deps } from '../deps.js';
import type { Gateway, GatewayOutcome } from '../gateway-port.js';

export interface SyncContext {
  deps: Deps;
  gatewayRow: GatewayRow;
  gateway: Gateway;
  /** History rows name the event that made the change. */
  actor: string;
  now: Date;
  /** Today in the timezone setting (for the API responses stored when an event answers a request). */
  day: string;
  /** The types of the events applied together (a refund event makes the payment's refunds be read). */
  eventTypes: ReadonlySet<string>;
  /** The `source` of the rows created (default `webhook`; the backfill's are `sync`, W6). */
  source?: 'webhook' | 'sync';
  /**
   * Connect (M6): the connected account (acct_...) whose event is applied; `gateway` is then scoped to it
   * (`Gateway.forAccount`: every read carries the Stripe-Account header). Null or absent: the platform's own events.
   */
  account?: string | null;
}

/** The event cannot be applied yet (Settle's own call is still under way, a row it needs is not there yet). */
export class Deferred extends Error {
  constructor(
    message: string,
    readonly delayMs = 2000,
  ) {
    super(message);
  }
}

/** The event could not be applied; `retryable` when trying again later may work (the gateway was unreachable). */
export class ApplyFailed extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** The object a gateway read returned, or ApplyFailed: not found or refused (final), unreachable (retryable). */
export function resultOf<T>(outcome: GatewayOutcome<T>, what: string): T {
  switch (outcome.kind) {
    case 'succeeded':
    case 'pending':
    case 'requires_action':
      return outcome.result;
    case 'declined':
      if (outcome.result !== null) return outcome.result;
      throw new ApplyFailed(`Reading ${what} from the gateway was declined: ${outcome.error.message}`, false);
    case 'invalid_request':
      if (outcome.result !== undefined) return outcome.result;
      throw new ApplyFailed(`The gateway refused to give ${what}: ${outcome.error.message}`, false);
    case 'configuration':
      throw new ApplyFailed(`The gateway refused Settle's credentials reading ${what}: ${outcome.error.message}`, true);
    case 'retryable':
    case 'unknown':
      throw new ApplyFailed(`The gateway could not be read (${what}): ${outcome.error.message}`, true);
  }
}

/** The normal charge of a gateway payment, locked: by our id in its metadata, else by the payment's id. */
export async function lockChargeOfPayment(
  trx: Db,
  transactionId: string | null,
  paymentIntentId: string | null,
): Promise<TransactionRow | undefined> {
  if (transactionId !== null) {
    const row = await lockTransaction(trx, transactionId);
    if (row && (row.record_type !== 'charge' || row.transaction_type !== 'normal')) {
      throw new ApplyFailed(
        `The payment names ${transactionId}, which is a ${row.record_type} of type ${row.transaction_type}, not a charge.`,
        false,
      );
    }
    return row;
  }
  if (paymentIntentId === null) return undefined;
  return lockChargeByPaymentIntent(trx, paymentIntentId);
}

export const CAPTURED_LABELS: ReadonlySet<string> = new Set([
  'completed/captured',
  'completed/partially_captured',
  'completed/partially_refunded',
  'completed/refunded',
  'completed/disputed',
  'completed/dispute_warning',
]);
