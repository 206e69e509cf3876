// Saved cards and gateway Customers (R5, R6). Stripe refuses to charge a PaymentMethod again once it was used
// without being attached to a Customer ("The provided PaymentMethod was previously used with a PaymentIntent without
// Customer attachment ... It may not be used again": https://docs.stripe.com/payments/save-and-reuse and
// https://github.com/stripe/stripe-node/issues/1070), so a card Settle charges on several due dates must be saved to
// its owner's Customer first:
// - a payment method with an owner (its contact, else its account) is saved when it is created: the owner's Customer
//   is ensured, then a SetupIntent is created and confirmed (usage off_session) and the pm_... it saved replaces the
//   token Settle was given (pm_card_visa is a test token: each use makes a new pm_...);
// - one that existed before (an owner, no Customer) is attached on its next charge, before the PaymentIntent;
// - a payment method without an owner is used once and never attached.
//
// Every gateway call here runs outside any database transaction (the project's rule), with an idempotency key
// derived from Settle's ids, and is written to the gateway log by the adapter's hook like every other call.
//
// Unknown outcomes (a timeout: the gateway may or may not have acted) never leave a half-saved method:
// - the Customer create's key is derived from (gateway, owner): a retry replays it and gets the same Customer, and
//   the mapping row is written only from an answer, with ON CONFLICT DO NOTHING (two racing first charges for one
//   account end with one row: both got the same Customer from the same key);
// - a SetupIntent whose answer was lost leaves the method `pending` with setup_status `unknown` and the token it was
//   given: everything the create sent is derived from the row (its id, its token, its owner's Customer), so the
//   completion (a later read, the next charge, or the setup_intent webhook) sends the same request with the same key
//   `settle_setup_<pm id>`, and Stripe answers with what it did the first time (keys are kept 24 hours:
//   https://docs.stripe.com/api/idempotent_requests);
// - an attach whose answer was lost changes nothing in Settle; the next charge sends it again with the same key
//   `settle_attach_<pm id>`.
import { SettleError, ValidationError } from '../domain/errors.js';
import { TO_FIX_MESSAGES } from '../domain/to-fix.js';
import { findCustomerRow } from '../store/customers-repo.js';
import {
  findCustomerOf,
  type GatewayCustomerOwnerType,
  insertGatewayCustomer,
} from '../store/gateway-customers-repo.js';
import { findGateway } from '../store/gateway-records-repo.js';
import {
  compareAndSetPaymentMethod,
  findPaymentMethodRow,
  type PaymentMethodChanges,
} from '../store/payment-methods-repo.js';
import type { Db, GatewayRow, PaymentMethodRow } from '../store/schema.js';
import type { Deps } from './deps.js';
import type { GatewayError, GatewayOutcome, GatewaySetup } from './gateway-port.js';

export interface Owner {
  type: GatewayCustomerOwnerType;
  id: string;
}

/** The Customer a method is saved to: its contact's, otherwise its account's; null without an owner (one-time). */
export function ownerOf(pm: { account_id: string | null; contact_id: string | null }): Owner | null {
  if (pm.contact_id !== null) return { type: 'contact', id: pm.contact_id };
  if (pm.account_id !== null) return { type: 'account', id: pm.account_id };
  return null;
}

export const customerKey = (gatewayId: string, owner: Owner): string =>
  `settle_customer_${gatewayId}_${owner.type}_${owner.id}`;
export const setupKey = (paymentMethodId: string): string => `settle_setup_${paymentMethodId}`;
export const attachKey = (paymentMethodId: string): string => `settle_attach_${paymentMethodId}`;

/** Setup states in which the save is still to be completed (by a read, the next charge or a webhook). */
const AWAITING: ReadonlySet<string> = new Set(['unknown', 'requires_action', 'processing']);

export function setupAwaiting(pm: { setup_status: string | null }): boolean {
  return pm.setup_status !== null && AWAITING.has(pm.setup_status);
}

/** The error a caller gets when the gateway did not do what was asked; nothing was saved in Settle. */
export function gatewayRefusal(outcome: GatewayOutcome<unknown>, what: string): SettleError {
  const error: GatewayError | null = 'error' in outcome ? outcome.error : null;
  const message = error?.message ?? `the gateway answered ${outcome.kind}`;
  switch (outcome.kind) {
    case 'declined':
      return new ValidationError(
        error?.code ?? 'card_declined',
        `The gateway declined ${what}: ${message}`,
        'gateway_token',
      );
    case 'invalid_request':
      return new ValidationError(
        error?.code ?? 'gateway_invalid_request',
        `The gateway refused ${what}: ${message}`,
        'gateway_token',
      );
    case 'configuration':
      return new SettleError(
        'unavailable',
        'gateway_configuration_error',
        `The gateway refused Settle's credentials or configuration (${what}): ${message}`,
      );
    case 'retryable':
    case 'unknown':
    case 'succeeded':
    case 'pending':
    case 'requires_action':
      return new SettleError(
        'unavailable',
        'gateway_unavailable',
        `The gateway could not complete ${what} now (${message}); nothing was saved. Try again.`,
      );
  }
}

/**
 * The owner's Customer at this gateway: the one Settle knows, else a new one (name, email, and the owner's id in
 * metadata). The create's idempotency key is derived from (gateway, owner), so retries and racing callers get the
 * same Customer; the mapping row is written once whoever answers first.
 */
export async function ensureCustomer(deps: Deps, gateway: GatewayRow, owner: Owner): Promise<string> {
  const known = await findCustomerOf(deps.db, gateway.id, owner.type, owner.id);
  if (known !== undefined) return known;
  const row = await findCustomerRow(deps.db, owner.type === 'account' ? 'accounts' : 'contacts', owner.id);
  if (!row) throw new ValidationError('owner_not_found', `The ${owner.type} ${owner.id} no longer exists.`);
  const name = 'name' in row ? row.name : [row.first_name, row.last_name].filter((p) => p).join(' ');
  const outcome = await deps.gateways.forRecord(gateway).createCustomer({
    idempotencyKey: customerKey(gateway.id, owner),
    reference: owner.id,
    name,
    ...(row.email === null ? {} : { email: row.email }),
    metadata: { [owner.type === 'account' ? 'settle_account_id' : 'settle_contact_id']: owner.id },
  });
  if (outcome.kind !== 'succeeded') {
    // Stripe answers 409 while the same key is in use by a concurrent request: the other caller may have won.
    const other = await findCustomerOf(deps.db, gateway.id, owner.type, owner.id);
    if (other !== undefined) return other;
    throw gatewayRefusal(outcome, `creating the ${owner.type}'s customer`);
  }
  await insertGatewayCustomer(deps.db, {
    gateway_id: gateway.id,
    owner_type: owner.type,
    owner_id: owner.id,
    customer_id: outcome.result.id,
    created_at: deps.clock.now(),
  });
  return (await findCustomerOf(deps.db, gateway.id, owner.type, owner.id)) ?? outcome.result.id;
}

/** What a setup's outcome makes of the method's row; `refused` when the gateway declined or refused it. */
export type SetupVerdict =
  | { kind: 'saved'; changes: PaymentMethodChanges }
  | { kind: 'refused'; outcome: GatewayOutcome<GatewaySetup> }
  /** Nothing is known (the gateway could not be reached and proved it did nothing): leave the row as it is. */
  | { kind: 'nothing'; outcome: GatewayOutcome<GatewaySetup> };

function detailsOf(setup: GatewaySetup): PaymentMethodChanges {
  const d = setup.details;
  if (d === null) return {};
  const changes: PaymentMethodChanges = {};
  if (d.brand !== null) changes.brand = d.brand;
  if (d.last4 !== null) changes.last4 = d.last4;
  if (d.exp_month !== null && d.exp_year !== null) {
    changes.exp_month = d.exp_month;
    changes.exp_year = d.exp_year;
  }
  if (d.funding) changes.funding = d.funding;
  if (d.fingerprint) changes.fingerprint = d.fingerprint;
  return changes;
}

/**
 * The row's new fields for a SetupIntent outcome. `unknown` (the answer was lost): the method stays `pending` with
 * its token, to be completed by replaying the same create (see the top of this file).
 */
export function setupVerdict(outcome: GatewayOutcome<GatewaySetup>): SetupVerdict {
  switch (outcome.kind) {
    case 'succeeded': {
      const setup = outcome.result;
      return {
        kind: 'saved',
        changes: {
          ...detailsOf(setup),
          ...(setup.payment_method === null ? {} : { gateway_token: setup.payment_method }),
          setup_intent: setup.id,
          setup_status: 'succeeded',
          status: 'valid',
        },
      };
    }
    case 'requires_action':
    case 'pending': {
      const setup = outcome.result;
      return {
        kind: 'saved',
        changes: {
          ...detailsOf(setup),
          ...(setup.payment_method === null ? {} : { gateway_token: setup.payment_method }),
          setup_intent: setup.id,
          setup_status: outcome.kind === 'pending' ? 'processing' : 'requires_action',
          status: 'pending',
        },
      };
    }
    case 'unknown':
      return { kind: 'saved', changes: { setup_status: 'unknown', status: 'pending' } };
    case 'declined':
    case 'invalid_request':
      return { kind: 'refused', outcome };
    case 'retryable':
    case 'configuration':
      return { kind: 'nothing', outcome };
  }
}

/** Sends (or, for a method whose answer was lost, sends again: same key, same fields) the method's SetupIntent. */
export function sendSetup(
  deps: Deps,
  gateway: GatewayRow,
  pm: { id: string; gateway_token: string },
  customer: string,
) {
  return deps.gateways.forRecord(gateway).createSetupIntent({
    idempotencyKey: setupKey(pm.id),
    customer,
    paymentMethod: pm.gateway_token,
    reference: pm.id,
  });
}

/** Applies what the gateway now says of a method's setup, compare-and-set; a refused setup makes it `invalid`. */
async function applySetupToRow(deps: Deps, row: PaymentMethodRow, outcome: GatewayOutcome<GatewaySetup>) {
  const verdict = setupVerdict(outcome);
  let changes: PaymentMethodChanges;
  if (verdict.kind === 'saved') changes = verdict.changes;
  else if (verdict.kind === 'refused') changes = { status: 'invalid', setup_status: 'failed' };
  else return;
  // Only while the save is still open: a row another writer already concluded is left as it is.
  await deps.commands.run(undefined, async (trx) => {
    const current = await findPaymentMethodRow(trx, row.id);
    if (!current || !setupAwaiting(current)) return { status: 200, body: null };
    await compareAndSetPaymentMethod(trx, row.id, current.version, changes, deps.clock.now());
    return { status: 200, body: null };
  });
}

/**
 * Completes a save still open (setup_status unknown, requires_action or processing) from the gateway: a lost answer
 * is asked again with the same request and key, an open SetupIntent is read. Returns the row as it is afterwards.
 */
export async function refreshSetup(deps: Deps, id: string): Promise<PaymentMethodRow | undefined> {
  const row = await findPaymentMethodRow(deps.db, id);
  if (!row || !setupAwaiting(row) || row.gateway_id === null || row.gateway_customer === null) return row;
  const gateway = await findGateway(deps.db, row.gateway_id);
  if (!gateway) return row;
  const outcome =
    row.setup_status === 'unknown' || row.setup_intent === null
      ? await sendSetup(deps, gateway, row, row.gateway_customer)
      : await deps.gateways.forRecord(gateway).retrieveSetupIntent(row.setup_intent);
  await applySetupToRow(deps, row, outcome);
  return findPaymentMethodRow(deps.db, id);
}

/** Applies a SetupIntent read from the gateway (the webhook handler) to the methods it saved. */
export async function applySetupRead(deps: Deps, rows: PaymentMethodRow[], outcome: GatewayOutcome<GatewaySetup>) {
  for (const row of rows) await applySetupToRow(deps, row, outcome);
}

/**
 * Thrown out of an action's tx1 (processing/actions.ts paymentPlan) when its payment method must first be saved to
 * its owner's Customer, or its open save completed; run-action.ts runs prepareSavedMethod outside any database
 * transaction, then tx1 again.
 */
export class SavedMethodNeeded extends Error {
  constructor(
    readonly paymentMethodId: string,
    readonly gateway: GatewayRow,
  ) {
    super(`payment method ${paymentMethodId} must be saved to its owner's customer first`);
  }
}

/** Whether a charge of this method on this gateway must first save it (see SavedMethodNeeded). */
export function needsSaving(
  pm: {
    type: string;
    account_id: string | null;
    contact_id: string | null;
    gateway_customer: string | null;
    setup_status: string | null;
  },
  gatewayId: string,
  savedGatewayId: string | null,
): boolean {
  if (pm.type !== 'card' || ownerOf(pm) === null) return false;
  if (setupAwaiting(pm)) return true;
  return pm.gateway_customer === null && (savedGatewayId === null || savedGatewayId === gatewayId);
}

/**
 * Before a charge: completes an open save (a method still awaiting its holder's authentication is refused with the
 * to-fix message), and attaches a method saved before Settle had Customers to its owner's Customer (ensured first),
 * storing the id the gateway answers (Stripe makes a new pm_... from a test token).
 */
export async function prepareSavedMethod(deps: Deps, paymentMethodId: string, gateway: GatewayRow): Promise<void> {
  let row = await refreshSetup(deps, paymentMethodId);
  if (!row) return;
  if (setupAwaiting(row)) {
    throw new ValidationError(
      'payment_method_awaiting_authentication',
      `Payment method ${row.id}: ${TO_FIX_MESSAGES.payment_method_awaiting_authentication}`,
      'payment_method_id',
    );
  }
  const owner = ownerOf(row);
  if (owner === null || row.gateway_customer !== null || row.type !== 'card') return;
  const customer = await ensureCustomer(deps, gateway, owner);
  const outcome = await deps.gateways.forRecord(gateway).attachPaymentMethod({
    idempotencyKey: attachKey(row.id),
    paymentMethod: row.gateway_token,
    customer,
  });
  if (outcome.kind !== 'succeeded') throw gatewayRefusal(outcome, `attaching payment method ${row.id} to its customer`);
  const attached = outcome.result.id;
  await deps.commands.run(undefined, async (trx) => {
    row = await findPaymentMethodRow(trx, paymentMethodId);
    if (!row || row.gateway_customer !== null) return { status: 200, body: null };
    await compareAndSetPaymentMethod(
      trx,
      row.id,
      row.version,
      { gateway_token: attached, gateway_customer: customer, gateway_id: gateway.id },
      deps.clock.now(),
    );
    return { status: 200, body: null };
  });
}

/** The gateway Customer to send with a charge of this method on `gatewayId`, if it was saved there. */
export function customerForCharge(
  pm: { gateway_customer: string | null; gateway_id: string | null },
  gatewayId: string,
): string | null {
  return pm.gateway_customer !== null && pm.gateway_id === gatewayId ? pm.gateway_customer : null;
}

export type { Db };
