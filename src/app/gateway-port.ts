// The gateway PORT: what use cases may ask of a payment gateway, and the classified outcome they get back (never
// inside a database transaction, every answer classified; G1, G2, G5, P12 in docs/FEATURES.md). No SDK types here:
// adapters (gateway-adapters/stripe) translate their provider's objects and errors into these shapes.
//
// Naming: request options are camelCase (JS options); data copied from the gateway uses the ledger's snake_case
// column names (authorized_amount, gateway_fee, decline_code, ...) so the processing code can store it as is.
// Amounts are always Settle's integer minor units (ISO 4217 exponent), never the gateway's wire amounts.
import type { GatewayRow } from '../store/schema.js';
import type { Snapshot } from '../domain/snapshots.js';

/** Metadata key under which every gateway object Settle creates carries our transaction id. */
export const TRANSACTION_ID_METADATA_KEY = 'settle_transaction_id';

/** Metadata key under which a SetupIntent Settle creates carries the id of the payment method it saves. */
export const SETUP_REFERENCE_METADATA_KEY = 'settle_payment_method_id';

/** Every write carries our own key (derived from the persisted attempt, stable across restarts) and our id. */
export interface GatewayWrite {
  /** Sent as the gateway's idempotency key. A retry of the same attempt must reuse it; a new attempt gets a new one. */
  idempotencyKey: string;
  /** The Settle transaction this write belongs to; stamped in the gateway's metadata where the API takes it. */
  transactionId: string;
}

export interface PaymentRequest extends GatewayWrite {
  amount: number; // minor units
  currency: string; // ISO 4217 code
  paymentMethod: string; // gateway payment method id (Stripe: pm_...)
  customer?: string; // gateway customer id (Stripe: cus_...), needed for saved cards
  /** A merchant-initiated charge of a saved card: the customer is not present to authenticate. */
  offSession?: boolean;
  description?: string;
  metadata?: Record<string, string>;
  /**
   * Connect (M6): a direct charge's application fee in minor units, sent on the PaymentIntent create
   * (PaymentIntentCreateParams.application_fee_amount) by a gateway scoped to the connected account (`forAccount`).
   */
  applicationFeeAmount?: number;
}

/**
 * Capture and cancel do not send `transactionId` again: the intent carries it from its creation, Stripe's cancel
 * takes no metadata, and capture's metadata would overwrite the intent's. It stays for logs and callers' symmetry.
 */
export interface CaptureRequest extends GatewayWrite {
  paymentIntentId: string;
  currency: string;
  /** Omitted: capture everything still capturable. Less than authorized: the remainder is released. */
  amount?: number;
}

export type CancelReason = 'duplicate' | 'fraudulent' | 'requested_by_customer' | 'abandoned';

export interface CancelRequest extends GatewayWrite {
  paymentIntentId: string;
  reason?: CancelReason;
}

export type RefundReason = 'duplicate' | 'fraudulent' | 'requested_by_customer';

export interface RefundRequest extends GatewayWrite {
  paymentIntentId: string;
  amount: number; // minor units
  currency: string;
  reason?: RefundReason;
  metadata?: Record<string, string>;
  /**
   * Connect (M6): refund the direct charge's application fee in proportion (RefundCreateParams.refund_application_fee;
   * docs.stripe.com/connect/direct-charges).
   */
  refundApplicationFee?: boolean;
}

export interface FindRefundRequest {
  paymentIntentId: string; // refunds are looked up among the payment's own refunds
  transactionId: string;
}

export interface ListBalanceTransactionsRequest {
  payout?: string;
  source?: string;
  type?: string;
  limit: number; // 1..100
  startingAfter?: string;
  /** Created in [gte, lt) (the backfill's range, W6). */
  created?: CreatedRange;
}

/** A creation-time range: from `gte` (inclusive) to `lt` (exclusive); either may be open. */
export interface CreatedRange {
  gte?: Date;
  lt?: Date;
}

/**
 * One page of a gateway list for the backfill (W6). Stripe lists newest first and pages with `starting_after` the
 * last id of the previous page, so a page that was applied can be resumed after: objects created since sort before it.
 */
export interface ListPageRequest {
  created?: CreatedRange;
  startingAfter?: string;
  limit: number; // 1..100
}

export interface GatewayListPage<T> {
  data: T[];
  has_more: boolean;
  /** The gateway id of the page's last object: `startingAfter` of the next page (null for an empty page). */
  last_id: string | null;
}

/** A customer as listed by the gateway (W6). */
export interface GatewayCustomerDetails {
  id: string;
  name: string | null;
  email: string | null;
  /** Settle's account or contact id, when Settle created this customer (the `settle_reference` metadata key). */
  reference: string | null;
  created: Date;
}

/** A refund as listed by the gateway, with its payment as the gateway holds it now (expanded in the same request). */
export interface GatewayRefundOfPayment {
  refund: GatewayRefund;
  payment: GatewayPayment | null;
}

export interface CreateCustomerRequest {
  idempotencyKey: string;
  /** Settle's own id for the account or contact; stored in metadata. */
  reference: string;
  name?: string;
  email?: string;
  /** More metadata for the customer (saved cards: settle_account_id or settle_contact_id). */
  metadata?: Record<string, string>;
}

/**
 * Save a card for later off-session charges (R5): a SetupIntent created and confirmed at once for `customer`, with
 * `usage: off_session`. The gateway answers with the PaymentMethod it saved (Stripe: a new pm_... when
 * `paymentMethod` is a test token such as pm_card_visa), attached to the customer once the setup succeeded.
 */
export interface SetupIntentRequest {
  idempotencyKey: string;
  customer: string;
  paymentMethod: string;
  /** Settle's payment method id, stamped in the SetupIntent's metadata. */
  reference: string;
}

export type SetupIntentStatus =
  'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'canceled' | 'succeeded';

/** A SetupIntent as the gateway holds it now, with the PaymentMethod it saved (or is saving). */
export interface GatewaySetup {
  id: string;
  status: SetupIntentStatus;
  customer: string | null;
  /** The saved method's id (Stripe: pm_...); null when the setup failed and the gateway let go of it. */
  payment_method: string | null;
  /** Its details, when the gateway sent them with the SetupIntent. */
  details: GatewayPaymentMethodDetails | null;
  next_action: string | null;
  last_error: GatewayError | null;
  /** Settle's payment method id from the SetupIntent's metadata (null on one Settle did not create). */
  reference: string | null;
}

export interface AttachPaymentMethodRequest {
  idempotencyKey: string;
  paymentMethod: string;
  customer: string;
}

/** The gateway's ids, named like the transaction's `gateway_ref`. */
export interface GatewayRefs {
  payment_intent: string | null;
  charge: string | null;
  balance_transaction: string | null;
  refund: string | null;
}

/** Fees and settlement from the gateway's balance transaction, in the SETTLEMENT currency's minor units. */
export interface GatewayBalance {
  id: string;
  type: string; // e.g. charge, refund, payment_refund
  reporting_category: string; // e.g. charge, refund, partial_capture_reversal
  source: string | null;
  currency: string; // settlement currency, upper case
  amount: number;
  gateway_fee: number;
  net_amount: number;
  exchange_rate: string | null; // exact decimal text as the gateway sent it, e.g. '1.234'
  balance_status: 'available' | 'pending';
  available_on: Date;
  created: Date;
}

export type PaymentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'succeeded'
  | 'canceled';

/** A payment as the gateway holds it now. Amounts in the payment's currency (minor units). */
export interface GatewayPayment {
  refs: GatewayRefs;
  status: PaymentStatus;
  capture_method: 'manual' | 'automatic';
  currency: string;
  amount: number; // requested
  authorized_amount: number; // still capturable now (0 once captured, released or canceled)
  captured_amount: number;
  /** Money actually returned to the customer by refunds. */
  refunded_amount: number;
  /** Authorized but never captured and given back: after a partial capture, a cancel or an expiry. Not a refund. */
  released_amount: number;
  authorization_expires_at: Date | null; // the card's capture deadline
  transaction_id: string | null; // our metadata key
  payment_method: string | null;
  customer: string | null;
  next_action: string | null; // e.g. use_stripe_sdk, redirect_to_url
  cancellation_reason: string | null;
  last_error: GatewayError | null;
  balance: GatewayBalance | null;
  /** L11: the latest charge's outcome (Stripe's outcome.network_status and outcome.risk_level), when known. */
  network_status?: string | null;
  risk_level?: string | null;
  /**
   * Connect (M6): the application fee of a direct charge. `application_fee_id` is the charge's `application_fee`
   * (fee_...) as the connected account's charge names it; `application_fee` is the fee object as the platform holds
   * it, filled in by a gateway scoped to the account (`forAccount`), which reads it from the platform.
   */
  application_fee_id?: string | null;
  application_fee?: GatewayApplicationFee | null;
  /**
   * Issue 20: the PaymentIntent's metadata as the gateway holds it. A storefront's checkout names the order it pays
   * for there (settle_order_id or order_external_id, app/webhooks/sync-payment.ts). Optional so that payments built
   * by hand (tests) need not spell it; the Stripe adapter always fills it.
   */
  metadata?: Record<string, string>;
}

/** Connect (M6): an application fee (ApplicationFees.d.ts `ApplicationFee`), in the charge's currency's minor units. */
export interface GatewayApplicationFee {
  id: string; // fee_...
  amount: number;
  amount_refunded: number;
  currency: string; // upper case
  charge: string | null;
}

export type RefundStatus = 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';

export interface GatewayRefund {
  refs: GatewayRefs;
  status: RefundStatus;
  currency: string;
  amount: number;
  reason: string | null;
  failure_reason: string | null;
  transaction_id: string | null;
  balance: GatewayBalance | null;
  /** Connect (M6): the charge's application fee after the refund, read from the platform by a scoped gateway. */
  application_fee?: GatewayApplicationFee | null;
}

export interface GatewayError {
  code: string | null;
  decline_code: string | null;
  message: string;
  type: string | null; // the gateway's error type, e.g. card_error, invalid_request_error, api_error
  advice_code: string | null;
  network_decline_code: string | null;
  param: string | null;
  http_status: number | null;
  request_id: string | null;
}

/**
 * What happened. `retryable` proves nothing happened (safe to send again with the SAME key); `unknown` means it
 * may have happened: never retry blindly, resolve by asking (same key replay, or find by transaction id; P12).
 */
export type GatewayOutcome<T> =
  | { kind: 'succeeded'; result: T }
  | { kind: 'pending'; result: T }
  | { kind: 'requires_action'; result: T }
  | { kind: 'declined'; error: GatewayError; refs: GatewayRefs; result: T | null }
  | { kind: 'retryable'; error: GatewayError; retryAfterMs: number | null }
  | { kind: 'unknown'; error: GatewayError }
  | { kind: 'invalid_request'; error: GatewayError; result?: T }
  | { kind: 'configuration'; error: GatewayError };

export type OutcomeKind = GatewayOutcome<unknown>['kind'];

export interface BalanceTransactionPage {
  data: GatewayBalance[];
  has_more: boolean;
}

export interface GatewayCustomer {
  id: string;
}

export interface GatewayPaymentMethod {
  id: string;
  customer: string | null;
}

export type { DisputeStatus } from '../domain/disputes.js';
import type { DisputeStatus } from '../domain/disputes.js';

/** A dispute (chargeback) as the gateway holds it now, with the balance transactions that withdrew or reinstated funds. */
export interface GatewayDispute {
  id: string;
  charge: string | null;
  payment_intent: string | null;
  status: DisputeStatus;
  reason: string;
  currency: string;
  amount: number; // disputed, in the charge's currency
  evidence_due_by: Date | null;
  is_charge_refundable: boolean;
  created: Date;
  /** Zero, one or two: the withdrawal (negative) and a reinstatement (positive); fees in `gateway_fee`. */
  balances: GatewayBalance[];
}

export type PayoutStatus = 'pending' | 'in_transit' | 'paid' | 'failed' | 'canceled';

export interface GatewayPayout {
  id: string;
  status: PayoutStatus;
  currency: string;
  amount: number;
  arrival_date: Date;
  automatic: boolean;
  created: Date;
  balance_transaction: string | null;
  failure_code: string | null;
  failure_message: string | null;
  failure_balance_transaction: string | null;
  /**
   * Payout reconciliation (M2): `standard` or `instant` (Stripe's `Payout.method`), and Stripe's own reconciliation
   * status (`Payout.reconciliation_status`: in_progress, completed, not_applicable; Payouts.d.ts). Only an automatic
   * payout's contents can be listed (`balance_transactions?payout=`), once the status is completed.
   */
  method?: string;
  reconciliation_status?: string;
  /** The balance the payout drew from (Stripe's `Payout.source_type`: card, bank_account, fpx). */
  source_type?: string;
  /** Connect (M6): our transaction id from the payout's metadata, on a payout Settle sent (app/connect/payouts-send.ts). */
  transaction_id?: string | null;
}

/** What Settle keeps of a payment method, as the gateway holds it now (the card updater can change it). */
export interface GatewayPaymentMethodDetails {
  id: string;
  type: string;
  brand: string | null;
  last4: string | null;
  exp_month: number | null;
  exp_year: number | null;
  /** Cards: credit, debit, prepaid or unknown; and the gateway's fingerprint of the number (same card, same value). */
  funding?: string | null;
  fingerprint?: string | null;
  /** The customer it is attached to, when the gateway said. */
  customer?: string | null;
}

/**
 * An event's snapshot (W2): what the event says about its object, in Settle's units, with what the snapshot rule
 * (domain/snapshots.ts) needs to judge it. `payment` and `refund` are the port's shapes of the same object, for
 * applying it; a PaymentIntent's snapshot has no expanded charge, so its `balance` is null.
 */
export interface GatewaySnapshot {
  object_id: string;
  payment_intent: string | null;
  transaction_id: string | null;
  api_version: string | null;
  /** The API version the adapter is pinned to (its reads are rendered in it). */
  pinned_version: string;
  /** The event's `created`. */
  created: Date;
  /** The idempotency key of the API request that caused the event (Stripe's `request.idempotency_key`), if any. */
  request_key: string | null;
  snapshot: Snapshot;
  payment: GatewayPayment | null;
  refund: GatewayRefund | null;
  /**
   * Issue 20: a charge event's balance transaction (txn_), null while the charge has none (automatic_async capture:
   * charge.updated brings it). Absent on other objects.
   */
  balance_transaction?: string | null;
}

export interface Gateway {
  /** Authorize only (manual capture). */
  authorize(request: PaymentRequest): Promise<GatewayOutcome<GatewayPayment>>;
  /** Authorize and capture at once. */
  charge(request: PaymentRequest): Promise<GatewayOutcome<GatewayPayment>>;
  capture(request: CaptureRequest): Promise<GatewayOutcome<GatewayPayment>>;
  /** Release an uncaptured authorization. */
  cancel(request: CancelRequest): Promise<GatewayOutcome<GatewayPayment>>;
  refund(request: RefundRequest): Promise<GatewayOutcome<GatewayRefund>>;
  retrieve(paymentIntentId: string): Promise<GatewayOutcome<GatewayPayment>>;
  /**
   * `succeeded` with null when the gateway has no payment for this transaction. Stripe's search lags writes by up
   * to a minute, so a null only proves nothing happened once that long has passed since the attempt.
   */
  findPaymentByTransactionId(transactionId: string): Promise<GatewayOutcome<GatewayPayment | null>>;
  findRefundByTransactionId(request: FindRefundRequest): Promise<GatewayOutcome<GatewayRefund | null>>;
  listBalanceTransactions(request: ListBalanceTransactionsRequest): Promise<GatewayOutcome<BalanceTransactionPage>>;
  /** Every refund of a payment, oldest first (customer refunds and the releases of uncaptured amounts alike). */
  listRefunds(paymentIntentId: string): Promise<GatewayOutcome<GatewayRefund[]>>;
  retrieveDispute(disputeId: string): Promise<GatewayOutcome<GatewayDispute>>;
  retrievePayout(payoutId: string): Promise<GatewayOutcome<GatewayPayout>>;
  /** A refund by its gateway id (payout reconciliation: the charge of a released uncaptured remainder, M2). */
  retrieveRefund?(refundId: string): Promise<GatewayOutcome<GatewayRefund>>;
  retrievePaymentMethod(paymentMethodId: string): Promise<GatewayOutcome<GatewayPaymentMethodDetails>>;
  /** Creates and confirms a SetupIntent (saved cards): succeeded, requires_action, pending (processing) or declined. */
  createSetupIntent(request: SetupIntentRequest): Promise<GatewayOutcome<GatewaySetup>>;
  retrieveSetupIntent(setupIntentId: string): Promise<GatewayOutcome<GatewaySetup>>;
  createCustomer(request: CreateCustomerRequest): Promise<GatewayOutcome<GatewayCustomer>>;
  attachPaymentMethod(request: AttachPaymentMethodRequest): Promise<GatewayOutcome<GatewayPaymentMethod>>;
  /**
   * A webhook event's object as the event shows it (W2), mapped to Settle's shapes without any request; null for an
   * event whose object Settle never applies from a snapshot (it is read instead).
   */
  parseSnapshot(event: unknown): GatewaySnapshot | null;
  // The backfill's lists (W6): newest first, a page at a time, within a creation range.
  listCustomers(request: ListPageRequest): Promise<GatewayOutcome<GatewayListPage<GatewayCustomerDetails>>>;
  /** A customer's payment methods (no creation range: Stripe's list of a customer's methods takes none). */
  listCustomerPaymentMethods(
    customer: string,
    request: ListPageRequest,
  ): Promise<GatewayOutcome<GatewayListPage<GatewayPaymentMethodDetails>>>;
  listPayments(request: ListPageRequest): Promise<GatewayOutcome<GatewayListPage<GatewayPayment>>>;
  listRefundsCreated(request: ListPageRequest): Promise<GatewayOutcome<GatewayListPage<GatewayRefundOfPayment>>>;
  listDisputes(request: ListPageRequest): Promise<GatewayOutcome<GatewayListPage<GatewayDispute>>>;
  listPayouts(request: ListPageRequest): Promise<GatewayOutcome<GatewayListPage<GatewayPayout>>>;
  /**
   * M5: the account's balance per currency (Stripe's GET /v1/balance). Optional: a gateway without it has no
   * balance to compare, and `GET /v1/balances` says so.
   */
  retrieveBalance?(): Promise<GatewayOutcome<GatewayAccountBalance[]>>;
  /** Connect (M6): creates a connected account at the gateway (Stripe's POST /v1/accounts). Optional. */
  createConnectedAccount?(request: CreateConnectedAccountRequest): Promise<GatewayOutcome<GatewayConnectedAccount>>;
  /** Connect (M6): reads a connected account (GET /v1/accounts/{id}); an unknown one is `invalid_request`. */
  retrieveConnectedAccount?(accountId: string): Promise<GatewayOutcome<GatewayConnectedAccount>>;
  /** Connect (M6): sends a transfer to a connected account (Stripe's POST /v1/transfers). */
  createTransfer?(request: TransferRequest): Promise<GatewayOutcome<GatewayTransfer>>;
  /** Connect (M6): sends a payout from a connected account's balance (POST /v1/payouts as that account). Optional. */
  createPayout?(request: PayoutRequest): Promise<GatewayOutcome<GatewayPayout>>;
  /** Connect (M6): reverses all or part of a transfer (Stripe's POST /v1/transfers/{id}/reversals). Optional. */
  reverseTransfer?(request: TransferReversalRequest): Promise<GatewayOutcome<GatewayTransferReversal>>;
  /**
   * Connect (M6): this gateway acting on a connected account (Stripe: every request carries the `Stripe-Account`
   * header; docs.stripe.com/connect/authentication). Same credentials and rate limiters as the platform's; payments
   * read through it carry their application fee as the platform holds it. Optional.
   */
  forAccount?(accountId: string): Gateway;
  /** Connect (M6): the account this gateway acts on; null or absent for the platform. */
  readonly account?: string | null;
}

/**
 * Connect (M6): a payout made on a connected account (Stripe's `Stripe-Account` header): from its available balance to
 * its default external account (no `destination`: Payouts.d.ts PayoutCreateParams, "If you don't provide a
 * destination, we use the default external account for the specified currency").
 */
export interface PayoutRequest extends GatewayWrite {
  amount: number;
  currency: string; // upper case
  /** The connected account (acct_...) whose balance pays. */
  account: string;
  description: string | null;
}

export interface TransferRequest extends GatewayWrite {
  amount: number;
  currency: string; // upper case
  /** The connected account (acct_...). */
  destination: string;
  /** The charge the transfer is funded from (ch_...), or null. */
  sourceCharge: string | null;
  transferGroup: string | null;
}

export interface GatewayTransfer {
  id: string; // tr_...
  amount: number;
  currency: string;
  destination: string;
  amount_reversed: number;
  balance_transaction: string | null;
}

/** Connect (M6): a reversal of `transfer` (tr_...) for `amount` (positive minor units) in the transfer's currency. */
export interface TransferReversalRequest extends GatewayWrite {
  transfer: string;
  amount: number;
  currency: string; // upper case
}

/** Connect (M6): a transfer reversal as the gateway describes it (TransferReversals.d.ts `TransferReversal`). */
export interface GatewayTransferReversal {
  id: string; // trr_...
  amount: number; // positive
  currency: string; // upper case
  transfer: string; // tr_...
  /** The platform's balance transaction (type transfer_refund), or null. */
  balance_transaction: string | null;
}

/** Connect (M6): a connected account as the gateway describes it (Accounts.d.ts `Account`). */
export interface GatewayConnectedAccount {
  id: string; // acct_...
  type: string | null;
  country: string | null;
  email: string | null;
  default_currency: string | null; // upper case
  charges_enabled: boolean;
  payouts_enabled: boolean;
}

export interface CreateConnectedAccountRequest {
  idempotencyKey: string;
  type: 'custom' | 'express' | 'standard';
  country: string | null;
  email: string | null;
  metadata: Record<string, string>;
}

/** The account's balance in one currency (minor units): funds available for payouts and funds not yet available. */
export interface GatewayAccountBalance {
  currency: string; // upper case
  available: number;
  pending: number;
}

/** Gives the adapter for a stored gateway record (implemented by gateway-adapters/registry.ts; one per gateway per process). */
export interface GatewayResolver {
  forRecord(record: GatewayRow): Gateway;
}
