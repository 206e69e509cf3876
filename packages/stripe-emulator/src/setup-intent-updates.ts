// SetupIntent update, cancel and list (the statuses and confirmation: setup-intents.ts).
import { requireCustomer } from './customers.js';
import { invalidRequest } from './errors.js';
import { emit } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optEnum, optString } from './params.js';
import { rangeFilter } from './range-filter.js';
import { CONFIRMABLE, paymentMethodFor, requireSetupIntent, typesParam, unexpectedState } from './setup-intents.js';
import type { EmulatorState } from './state.js';
import type { SetupIntent } from './types.js';

/** POST /v1/setup_intents/:id: customer (only while none is set), description, metadata, payment_method,
 * payment_method_types, before the SetupIntent succeeds or is canceled. */
export function updateSetupIntent(state: EmulatorState, id: string, params: FormObject): SetupIntent {
  checkKnown(params, [
    'allowed_payment_method_types',
    'customer',
    'description',
    'metadata',
    'payment_method',
    'payment_method_types',
    'expand',
  ]);
  const si = requireSetupIntent(state, id);
  const changesSetup = ['customer', 'payment_method', 'payment_method_types', 'allowed_payment_method_types'].some(
    (k) => params[k] !== undefined,
  );
  if (changesSetup && !(CONFIRMABLE as readonly string[]).includes(si.status))
    throw unexpectedState(state, si, 'update', CONFIRMABLE);
  const customerId = optString(params, 'customer');
  if (customerId !== undefined) {
    requireCustomer(state, customerId);
    if (si.customer !== null && si.customer !== customerId)
      throw invalidRequest(
        'You cannot change the customer of a SetupIntent that already has one.',
        undefined,
        'customer',
      );
  }
  const { types, allowed } = typesParam(params);
  const methodTypes = types.length > 0 ? types : si.payment_method_types;
  const owner = customerId ?? si.customer;
  const pmId = optString(params, 'payment_method');
  const pm = pmId === undefined ? undefined : paymentMethodFor(state, pmId, owner, methodTypes);
  const metadata = metadataParam(params, si.metadata);
  if (customerId !== undefined) si.customer = customerId;
  if (params.description !== undefined) si.description = optString(params, 'description') ?? null;
  si.metadata = metadata;
  if (types.length > 0) {
    si.payment_method_types = types;
    si.allowed_payment_method_types = allowed ? types : null;
    si.automatic_payment_methods = null;
  }
  if (pm) {
    si.payment_method = pm.id;
    si.status = 'requires_confirmation';
    si.next_action = null;
  }
  // No event: Stripe has no setup_intent.updated (Events.d.ts).
  return si;
}

/** POST /v1/setup_intents/:id/cancel (cancellation_reason abandoned | duplicate | requested_by_customer). */
export function cancelSetupIntent(state: EmulatorState, id: string, params: FormObject): SetupIntent {
  checkKnown(params, ['cancellation_reason', 'expand']);
  const si = requireSetupIntent(state, id);
  const reason = optEnum(params, 'cancellation_reason', ['abandoned', 'duplicate', 'requested_by_customer'] as const);
  if (!(CONFIRMABLE as readonly string[]).includes(si.status)) throw unexpectedState(state, si, 'cancel', CONFIRMABLE);
  si.status = 'canceled';
  si.cancellation_reason = reason ?? null;
  si.next_action = null;
  emit(state, 'setup_intent.canceled', si);
  return si;
}

/** GET /v1/setup_intents: customer, payment_method, created; newest first. */
export function listSetupIntents(state: EmulatorState, params: FormObject): SetupIntent[] {
  checkKnown(params, [
    'customer',
    'payment_method',
    'created',
    'attach_to_self',
    'limit',
    'starting_after',
    'ending_before',
    'expand',
  ]);
  const customer = optString(params, 'customer');
  const pm = optString(params, 'payment_method');
  const created = rangeFilter(params, 'created');
  return state
    .all<SetupIntent>('setup_intent')
    .filter(
      (si) =>
        (customer === undefined || si.customer === customer) &&
        (pm === undefined || si.payment_method === pm) &&
        created(si.created),
    );
}
