// The Stripe objects the emulator keeps, shaped like Stripe's (../shared/stripe/fixtures3.json and the SDK's
// .d.ts at API version 2026-10-28.endive). Only the fields the emulator changes are typed precisely; the rest
// are fixed values filled in by the builders.

export interface StripeObjectBase {
  id: string;
  object: string;
  [field: string]: unknown;
}

export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

export type CaptureMethod = 'automatic' | 'automatic_async' | 'manual';

export interface PaymentIntent extends StripeObjectBase {
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  canceled_at: number | null;
  cancellation_reason: string | null;
  capture_method: CaptureMethod;
  created: number;
  currency: string;
  customer: string | null;
  description: string | null;
  last_payment_error: Record<string, unknown> | null;
  latest_charge: string | null;
  metadata: Record<string, string>;
  next_action: Record<string, unknown> | null;
  payment_method: string | null;
  status: PaymentIntentStatus;
}

export interface Charge extends StripeObjectBase {
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  balance_transaction: string | null;
  captured: boolean;
  created: number;
  currency: string;
  payment_intent: string | null;
  payment_method: string | null;
  refunded: boolean;
  status: 'succeeded' | 'pending' | 'failed';
  payment_method_details: { type: 'card'; card: Record<string, unknown> & { capture_before?: number } };
}

export interface Refund extends StripeObjectBase {
  object: 'refund';
  amount: number;
  balance_transaction: string | null;
  charge: string;
  created: number;
  currency: string;
  payment_intent: string | null;
  status: 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';
}

export interface BalanceTransaction extends StripeObjectBase {
  object: 'balance_transaction';
  amount: number;
  available_on: number;
  created: number;
  currency: string;
  fee: number;
  net: number;
  reporting_category: string;
  source: string;
  status: 'available' | 'pending';
  type: string;
}

export interface Customer extends StripeObjectBase {
  object: 'customer';
}

export interface PaymentMethod extends StripeObjectBase {
  object: 'payment_method';
  customer: string | null;
  card: Record<string, unknown>;
}

export type AnyStripeObject = PaymentIntent | Charge | Refund | BalanceTransaction | Customer | PaymentMethod;

/** Hidden bookkeeping kept beside an object and persisted with it, never rendered. */
export interface Internal {
  /** PaymentMethod: the test card it was created from (its behaviour). */
  testCard?: string;
  /** Charge: balance_transaction is hidden in the response that created it (automatic_async capture). */
  asyncCapture?: boolean;
}
