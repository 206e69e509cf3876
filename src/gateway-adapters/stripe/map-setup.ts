// Stripe SetupIntent (+ its expanded PaymentMethod) -> the port's GatewaySetup and outcome (saved cards, R5).
// Statuses (SetupIntents.d.ts `SetupIntent.Status`): succeeded (saved and attached to the customer), processing,
// requires_action (the holder must authenticate, 3-D Secure), requires_confirmation, requires_payment_method (the
// last attempt failed: `last_setup_error` says why) and canceled. https://docs.stripe.com/payments/setupintents/lifecycle
import type Stripe from 'stripe';
import type {
  GatewayError,
  GatewayOutcome,
  GatewayPaymentMethodDetails,
  GatewaySetup,
  SetupIntentStatus,
} from '../../app/gateway-port.js';
import { assertNever } from '../../domain/transaction-state.js';
import { localError, noRefs } from './classify-error.js';
import { SETUP_REFERENCE_METADATA_KEY } from '../../app/gateway-port.js';
import { idOf, known, unrecognised } from './map-objects.js';
import { paymentMethodDetails } from './map-sync.js';

export { SETUP_REFERENCE_METADATA_KEY } from '../../app/gateway-port.js';

const SETUP_STATUSES: readonly SetupIntentStatus[] = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'canceled',
  'succeeded',
];

function setupError(si: Stripe.SetupIntent): GatewayError | null {
  const e = si.last_setup_error;
  if (!e) return null;
  return {
    code: e.code ?? null,
    decline_code: e.decline_code ?? null,
    message: e.message ?? 'The card could not be saved.',
    type: e.type,
    advice_code: e.advice_code ?? null,
    network_decline_code: e.network_decline_code ?? null,
    param: e.param ?? null,
    http_status: null,
    request_id: null,
  };
}

export function toSetup(si: Stripe.SetupIntent, status: SetupIntentStatus): GatewaySetup {
  const pm = si.payment_method;
  const details: GatewayPaymentMethodDetails | null = pm && typeof pm === 'object' ? paymentMethodDetails(pm) : null;
  return {
    id: si.id,
    status,
    customer: idOf(si.customer),
    payment_method: idOf(pm),
    details,
    next_action: si.next_action?.type ?? null,
    last_error: setupError(si),
    reference: si.metadata?.[SETUP_REFERENCE_METADATA_KEY] ?? null,
  };
}

/** SetupIntent.Status -> outcome: only `succeeded` is a saved card; a failed or canceled setup is a decline. */
export function setupOutcome(si: Stripe.SetupIntent): GatewayOutcome<GatewaySetup> {
  const status = known(SETUP_STATUSES, si.status);
  if (status === null) return unrecognised('setup intent', si.status);
  const setup = toSetup(si, status);
  switch (status) {
    case 'succeeded':
      return { kind: 'succeeded', result: setup };
    case 'processing':
      return { kind: 'pending', result: setup };
    case 'requires_action':
    case 'requires_confirmation':
      return { kind: 'requires_action', result: setup };
    case 'requires_payment_method':
    case 'canceled':
      return {
        kind: 'declined',
        refs: noRefs(),
        result: setup,
        error:
          setup.last_error ??
          localError(`setup_intent_${status}`, `The card could not be saved (the setup is ${status}).`, 'card_error'),
      };
    default:
      return assertNever(status, 'setup intent status');
  }
}
