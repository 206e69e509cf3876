// What use cases need from the outside world, passed in explicitly (ports).
import { NotFoundError } from '../domain/errors.js';
import type { GatewayHostRules } from '../domain/host-policy.js';
import type { PaymentMethodLike } from '../domain/to-fix.js';
import { findAccountId, findContactRef, findPaymentMethodRefRow } from '../store/references-repo.js';
import type { Db, Tx } from '../store/schema.js';
import type { TransactionInserter } from '../store/transaction-inserter.js';
import { type Clock, dateInZone } from './clock.js';
import { CommandRunner, type IdempotencyInput } from './command-runner.js';
import type { GatewayResolver } from './gateway-port.js';
import type { SettingsStore } from './settings.js';

export interface Deps {
  db: Db;
  clock: Clock;
  settings: SettingsStore;
  commands: CommandRunner;
  /** Group-committed inserts of new transactions (outside a database transaction). */
  inserter: TransactionInserter;
  /** The adapters of the stored gateway records (P1-P13). */
  gateways: GatewayResolver;
  /** Where gateways may send requests: SETTLE_GATEWAY_API_BASE_ALLOW and the operator's STRIPE_API_BASE. */
  gatewayHosts: GatewayHostRules;
}

/** Who is acting (for history rows) and the request's idempotency key, if any. */
export interface RequestContext {
  actor: string;
  idempotency?: IdempotencyInput | undefined;
}

/** Today's date in the `timezone` setting: "today" for due dates and the jobs. */
export async function today(deps: Deps): Promise<string> {
  const settings = await deps.settings.get();
  return dateInZone(deps.clock.now(), settings.timezone);
}

export interface PaymentMethodRef extends PaymentMethodLike {
  id: string;
  account_id: string | null;
  contact_id: string | null;
}

export async function findPaymentMethodRef(db: Db | Tx, id: string): Promise<PaymentMethodRef | undefined> {
  return findPaymentMethodRefRow(db, id);
}

export async function requirePaymentMethod(
  db: Db | Tx,
  id: string,
  param = 'payment_method_id',
): Promise<PaymentMethodRef> {
  const pm = await findPaymentMethodRef(db, id);
  if (!pm) throw new NotFoundError('payment method', id, param);
  return pm;
}

export async function requireAccount(db: Db | Tx, id: string, param = 'account_id'): Promise<void> {
  const row = await findAccountId(db, id);
  if (!row) throw new NotFoundError('account', id, param);
}

export async function requireContact(
  db: Db | Tx,
  id: string,
  param = 'contact_id',
): Promise<{ account_id: string | null }> {
  const row = await findContactRef(db, id);
  if (!row) throw new NotFoundError('contact', id, param);
  return row;
}

export { CommandRunner };
