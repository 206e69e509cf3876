// The Stripe objects the emulator keeps, shaped like Stripe's (the example objects in Stripe's published OpenAPI
// repository, github.com/stripe/openapi fixtures3.json, and the SDK's .d.ts at API version 2026-10-28.endive).
// Only the fields the emulator changes are typed precisely; the rest are fixed values filled in by the builders.

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
  /** `card` for card charges; `us_bank_account` (and no `card`) for ACH debits; `stripe_account` for the `py_`
   * payment a transfer makes on its destination account (transfers.ts). */
  payment_method_details: {
    type: 'card' | 'us_bank_account' | 'stripe_account';
    card?: Record<string, unknown> & { capture_before?: number };
    us_bank_account?: Record<string, unknown>;
    stripe_account?: Record<string, unknown>;
  };
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
  reason: string | null;
}

export interface BalanceTransaction extends StripeObjectBase {
  object: 'balance_transaction';
  amount: number;
  available_on: number;
  created: number;
  currency: string;
  /** Null unless the amount was converted into the settlement currency (fx.ts). */
  exchange_rate: number | null;
  fee: number;
  net: number;
  reporting_category: string;
  source: string;
  status: 'available' | 'pending';
  type: string;
}

export interface Customer extends StripeObjectBase {
  object: 'customer';
  /** Set on the stub a deleted customer leaves behind ({id, object, deleted}): retrievable, never listed. */
  deleted?: true;
}

export interface PaymentMethod extends StripeObjectBase {
  object: 'payment_method';
  customer: string | null;
  type: 'card' | 'us_bank_account';
  /** Absent on us_bank_account PaymentMethods. */
  card?: Record<string, unknown>;
}

export type SetupIntentStatus =
  'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'canceled' | 'succeeded';

/** SetupIntents.d.ts `SetupIntent` (setup-intents.ts). */
export interface SetupIntent extends StripeObjectBase {
  object: 'setup_intent';
  cancellation_reason: string | null;
  created: number;
  customer: string | null;
  description: string | null;
  last_setup_error: Record<string, unknown> | null;
  metadata: Record<string, string>;
  next_action: Record<string, unknown> | null;
  payment_method: string | null;
  payment_method_types: string[];
  status: SetupIntentStatus;
  usage: 'off_session' | 'on_session';
}

export interface StripeEvent extends StripeObjectBase {
  object: 'event';
  api_version: string;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
  /** Events.d.ts `account?`: "The connected account that originates the event" (absent on the platform's). */
  account?: string;
}

export interface WebhookEndpoint extends StripeObjectBase {
  object: 'webhook_endpoint';
  enabled_events: string[];
  status: 'enabled' | 'disabled';
  url: string;
}

export interface Dispute extends StripeObjectBase {
  object: 'dispute';
  amount: number;
  balance_transactions: BalanceTransaction[];
  charge: string;
  created: number;
  currency: string;
  evidence: Record<string, unknown>;
  evidence_details: {
    due_by: number;
    has_evidence: boolean;
    past_due: boolean;
    submission_count: number;
    [k: string]: unknown;
  };
  metadata: Record<string, string>;
  payment_intent: string | null;
  status: string;
}

export interface Payout extends StripeObjectBase {
  object: 'payout';
  amount: number;
  arrival_date: number;
  balance_transaction: string;
  created: number;
  currency: string;
  failure_balance_transaction: string | null;
  failure_code: string | null;
  failure_message: string | null;
  reconciliation_status: 'completed' | 'in_progress' | 'not_applicable';
  status: 'paid' | 'pending' | 'in_transit' | 'canceled' | 'failed';
}

/** Accounts.d.ts `Account`: a connected account (connect-accounts.ts). */
export interface Account extends StripeObjectBase {
  object: 'account';
  country: string;
  created: number;
  email: string | null;
  metadata: Record<string, string>;
  type: 'custom' | 'express' | 'standard';
}

/** Transfers.d.ts `Transfer` (transfers.ts). */
export interface Transfer extends StripeObjectBase {
  object: 'transfer';
  amount: number;
  amount_reversed: number;
  balance_transaction: string;
  created: number;
  currency: string;
  description: string | null;
  destination: string;
  destination_payment: string;
  metadata: Record<string, string>;
  reversed: boolean;
  source_transaction: string | null;
  transfer_group: string | null;
}

/** TransferReversals.d.ts `TransferReversal` (transfers.ts). */
export interface TransferReversal extends StripeObjectBase {
  object: 'transfer_reversal';
  amount: number;
  balance_transaction: string;
  created: number;
  currency: string;
  metadata: Record<string, string>;
  transfer: string;
}

/** ApplicationFees.d.ts `ApplicationFee` (application-fees.ts). */
export interface ApplicationFee extends StripeObjectBase {
  object: 'application_fee';
  account: string;
  amount: number;
  amount_refunded: number;
  balance_transaction: string;
  charge: string;
  created: number;
  currency: string;
  refunded: boolean;
}

/** FeeRefunds.d.ts `FeeRefund` (application-fees.ts). */
export interface FeeRefund extends StripeObjectBase {
  object: 'fee_refund';
  amount: number;
  balance_transaction: string;
  created: number;
  currency: string;
  fee: string;
  metadata: Record<string, string>;
}

export type AnyStripeObject =
  | PaymentIntent
  | Charge
  | Refund
  | BalanceTransaction
  | Customer
  | PaymentMethod
  | SetupIntent
  | StripeEvent
  | WebhookEndpoint
  | Dispute
  | Payout
  | Account
  | Transfer
  | TransferReversal
  | ApplicationFee
  | FeeRefund;

/** Hidden bookkeeping kept beside an object and persisted with it, never rendered. */
export interface Internal {
  /** PaymentMethod: the test card it was created from (its behaviour). */
  testCard?: string;
  /** PaymentMethod: used without being attached to a customer, or detached: it may not be used again
   * (payment-methods.ts). */
  consumed?: boolean;
  /** Charge: balance_transaction is hidden in the response that created it (automatic_async capture). */
  asyncCapture?: boolean;
  /** Charge: an ACH debit still processing settles (or fails) at this emulator time, unix seconds. */
  settleAt?: number;
  /** Refund: a refund on pm_card_refundFail fails at this emulator time, unix seconds. */
  failAt?: number;
  /** Balance transaction: the automatic payout that paid it out. */
  payout?: string;
  /**
   * Automatic payout: the ids of the balance transactions it paid out and its own, oldest first (what
   * `balance_transactions?payout=` lists, without scanning every balance transaction for each page).
   */
  members?: string[];
  /** WebhookEndpoint: its signing secret (shown only in the create response). */
  secret?: string;
  /** Payout: fails at arrival with this failure code (failNextPayout). */
  failWith?: string;
  /** PaymentIntent: the mandate_data of its confirmation (customer acceptance; the object has no field for it). */
  mandateData?: Record<string, unknown>;
  /** Any object: the connected account it belongs to (Connect; absent for the platform's own objects). */
  account?: string;
  /** WebhookEndpoint: a Connect endpoint (created with connect=true): it receives connected accounts' events only. */
  connect?: boolean;
}
