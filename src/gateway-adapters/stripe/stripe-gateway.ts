// The Stripe adapter (G2): PaymentIntents with an explicit capture_method, capture with
// amount_to_capture, cancel, refunds against the PaymentIntent, lookups by our metadata key, balance transactions.
//
// capture_method is always sent: `manual` to authorize, `automatic` to charge now. Not `automatic_async`, Stripe's
// default since API 2024-04-10, with which the charge's balance_transaction is null in the response and arrives up to
// an hour later in charge.updated (docs/STRIPE.md, "Capture, release and expiry"); with `automatic` the fees are in
// the response.
import type Stripe from 'stripe';
import type {
  AttachPaymentMethodRequest,
  BalanceTransactionPage,
  CancelRequest,
  CaptureRequest,
  CreateCustomerRequest,
  FindRefundRequest,
  Gateway,
  GatewayAccountBalance,
  GatewayCustomer,
  GatewayDispute,
  GatewayOutcome,
  GatewayPayment,
  GatewayPaymentMethod,
  GatewayPaymentMethodDetails,
  GatewayPayout,
  GatewayCustomerDetails,
  GatewayListPage,
  GatewayRefund,
  GatewaySnapshot,
  GatewayRefundOfPayment,
  ListBalanceTransactionsRequest,
  ListPageRequest,
  PaymentRequest,
  RefundRequest,
} from '../../app/gateway-port.js';
import { TRANSACTION_ID_METADATA_KEY } from '../../app/gateway-port.js';
import { checkStripeAmount, toStripeWireAmount } from '../../domain/money.js';
import { classifyError } from './classify-error.js';
import { refundOutcome, refundWireAmount, toBalance, unrecognised } from './map-objects.js';
import { paymentOutcome, type PaymentOperation } from './map-payment.js';
import { findPayment, findRefund, listRefunds } from './lookups.js';
import { parseStripeSnapshot } from './map-snapshot.js';
import { disputeOutcome, paymentMethodDetails, payoutOutcome, toAccountBalances } from './map-sync.js';
import { inOperation } from './exchange.js';
import type { GatewaySetup, SetupIntentRequest } from '../../app/gateway-port.js';
import { SETUP_REFERENCE_METADATA_KEY, setupOutcome } from './map-setup.js';
import * as lists from './stripe-lists.js';
import * as connect from './connect.js';
import type {
  CreateConnectedAccountRequest,
  GatewayConnectedAccount,
  GatewayTransfer,
  GatewayTransferReversal,
  PayoutRequest,
  TransferRequest,
  TransferReversalRequest,
} from '../../app/gateway-port.js';
import { StripeClient, type Sent, type StripeGatewayConfig } from './stripe-client.js';

/** Metadata key on customers Settle creates: Settle's account or contact id. */
export const CUSTOMER_REFERENCE_METADATA_KEY = 'settle_reference';

/** Expanded on every PaymentIntent response: the fees, net and availability of the latest charge. */
export const PAYMENT_EXPAND = ['latest_charge.balance_transaction'];

/** Stripe codes meaning "the intent is not in the state this call needs": re-read it and report what is true. */
const STATE_CODES: ReadonlySet<string> = new Set(['payment_intent_unexpected_state', 'charge_already_captured']);

export class StripeGateway implements Gateway {
  readonly client: StripeClient;
  /** The platform's client: the same as `client`, or the one a gateway scoped to a connected account came from. */
  readonly #platform: StripeClient;
  readonly #accounts = new Map<string, StripeGateway>();

  constructor(config: StripeGatewayConfig | { platform: StripeClient; account: string }) {
    if ('platform' in config) {
      this.#platform = config.platform;
      this.client = config.platform.forAccount(config.account);
    } else {
      this.client = new StripeClient(config);
      this.#platform = this.client;
    }
  }

  /** Connect (M6): the connected account this gateway acts on (the Stripe-Account header), null for the platform. */
  get account(): string | null {
    return this.client.account;
  }

  /**
   * Connect (M6): this gateway acting on connected account `accountId` (acct_...): every request carries the
   * Stripe-Account header (docs.stripe.com/connect/authentication), through the platform's SDK, so the same rate
   * limiters and gateway log. One per account, kept for the adapter's life (a scoped gateway asks its platform's).
   */
  forAccount(accountId: string): StripeGateway {
    if (this.client.account === accountId) return this;
    let scoped = this.#accounts.get(accountId);
    if (!scoped) {
      scoped = new StripeGateway({ platform: this.#platform, account: accountId });
      if (this.client.account === null) this.#accounts.set(accountId, scoped);
    }
    return scoped;
  }

  /**
   * Connect (M6): a direct charge's application fee lives on the platform (ApplicationFees.d.ts; "fees are the
   * platform's": a connected account cannot read them), so a scoped gateway reads it there with GET
   * /v1/application_fees/{id} after any answer carrying a payment. A failed read leaves the fee unknown (null): the
   * payment's answer stands, and a later read of the payment (a webhook) fills it in.
   */
  async #withFee(outcome: GatewayOutcome<GatewayPayment>): Promise<GatewayOutcome<GatewayPayment>> {
    if (this.client.account === null || !('result' in outcome) || !outcome.result) return outcome;
    const feeId = outcome.result.application_fee_id ?? null;
    if (feeId === null) return outcome;
    const sent = await this.#platform.send(undefined, (o) => this.#sdk.applicationFees.retrieve(feeId, {}, o));
    const fee = sent.ok ? connect.toApplicationFee(sent.value) : null;
    return { ...outcome, result: { ...outcome.result, application_fee: fee } };
  }

  /**
   * A refund of a direct charge: the charge's application fee after it (refund_application_fee refunds part of it),
   * found on the platform by the refund's charge (ApplicationFeeListParams.charge).
   */
  async #refundWithFee(outcome: GatewayOutcome<GatewayRefund>): Promise<GatewayOutcome<GatewayRefund>> {
    if (this.client.account === null || !('result' in outcome) || !outcome.result) return outcome;
    const charge = outcome.result.refs.charge;
    if (charge === null) return outcome;
    const sent = await this.#platform.send(undefined, (o) => this.#sdk.applicationFees.list({ charge, limit: 1 }, o));
    const found = sent.ok ? sent.value.data[0] : undefined;
    const fee = found === undefined ? null : connect.toApplicationFee(found);
    return { ...outcome, result: { ...outcome.result, application_fee: fee } };
  }

  get #sdk(): Stripe {
    return this.client.sdk;
  }

  // Every port call runs inside inOperation (exchange.ts): the gateway log (P13) tags each HTTP exchange with
  // the operation, our transaction id and idempotency key. Callers pass nothing new.

  authorize(request: PaymentRequest): Promise<GatewayOutcome<GatewayPayment>> {
    return inOperation('authorize', request, async () => this.#withFee(await this.#createPayment(request, 'manual')));
  }

  charge(request: PaymentRequest): Promise<GatewayOutcome<GatewayPayment>> {
    return inOperation('charge', request, async () => this.#withFee(await this.#createPayment(request, 'automatic')));
  }

  async #createPayment(
    request: PaymentRequest,
    captureMethod: 'manual' | 'automatic',
  ): Promise<GatewayOutcome<GatewayPayment>> {
    let amount: number;
    try {
      checkStripeAmount(request.amount, request.currency, 'amount');
      amount = toStripeWireAmount(request.amount, request.currency);
    } catch (error) {
      return classifyError(error);
    }
    const params: Stripe.PaymentIntentCreateParams = {
      amount,
      currency: request.currency.toLowerCase(),
      capture_method: captureMethod,
      confirm: true,
      payment_method: request.paymentMethod,
      // Server-side confirmation without a return_url: allow only methods that need no redirect (3-D Secure
      // still works: it is an authentication step, not a redirect-based method).
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      metadata: { ...request.metadata, [TRANSACTION_ID_METADATA_KEY]: request.transactionId },
      expand: PAYMENT_EXPAND,
      ...(request.customer === undefined ? {} : { customer: request.customer }),
      ...(request.offSession ? { off_session: true } : {}),
      ...(request.description === undefined ? {} : { description: request.description }),
      // Connect (M6): a direct charge's fee (PaymentIntentCreateParams.application_fee_amount; a fee of 0 is not sent).
      ...(request.applicationFeeAmount === undefined || request.applicationFeeAmount === 0
        ? {}
        : { application_fee_amount: toStripeWireAmount(request.applicationFeeAmount, request.currency) }),
    };
    const sent = await this.client.send(request.idempotencyKey, (o) => this.#sdk.paymentIntents.create(params, o));
    if (!sent.ok) return this.#withDeclinedPayment(sent.outcome);
    return paymentOutcome(sent.value, captureMethod === 'manual' ? 'authorize' : 'charge');
  }

  /**
   * L11: a 402 decline carries the PaymentIntent without its charge expanded, so the charge's outcome (network
   * status, risk level) is not in it. When the decline made a charge, the intent is read once more with the charge
   * expanded and attached to the decline; the decline (the 402's error) stays what it was. A failed read changes
   * nothing: the decline is reported without it.
   */
  async #withDeclinedPayment(outcome: GatewayOutcome<never>): Promise<GatewayOutcome<GatewayPayment>> {
    if (outcome.kind !== 'declined' || outcome.refs.payment_intent === null || outcome.refs.charge === null)
      return outcome;
    const intent = outcome.refs.payment_intent;
    const read = await this.client.send(undefined, (o) =>
      this.#sdk.paymentIntents.retrieve(intent, { expand: PAYMENT_EXPAND }, o),
    );
    if (!read.ok) return outcome;
    const payment = paymentOutcome(read.value, 'read');
    return 'result' in payment && payment.result
      ? { ...outcome, refs: payment.result.refs, result: payment.result }
      : outcome;
  }

  capture(request: CaptureRequest): Promise<GatewayOutcome<GatewayPayment>> {
    return inOperation('capture', request, async () => this.#withFee(await this.#capture(request)));
  }

  async #capture(request: CaptureRequest): Promise<GatewayOutcome<GatewayPayment>> {
    const params: Stripe.PaymentIntentCaptureParams = { expand: PAYMENT_EXPAND };
    if (request.amount !== undefined) {
      try {
        checkStripeAmount(request.amount, request.currency, 'amount');
        params.amount_to_capture = toStripeWireAmount(request.amount, request.currency);
      } catch (error) {
        return classifyError(error);
      }
    }
    // No metadata here: capture's metadata would overwrite the intent's, which already names our transaction.
    const sent = await this.client.send(request.idempotencyKey, (o) =>
      this.#sdk.paymentIntents.capture(request.paymentIntentId, params, o),
    );
    return this.#settle(sent, request.paymentIntentId, 'capture');
  }

  cancel(request: CancelRequest): Promise<GatewayOutcome<GatewayPayment>> {
    return inOperation('cancel', request, async () => this.#withFee(await this.#cancel(request)));
  }

  async #cancel(request: CancelRequest): Promise<GatewayOutcome<GatewayPayment>> {
    // Stripe's cancel takes no metadata; the intent carries our transaction id from its creation.
    const params: Stripe.PaymentIntentCancelParams = {
      expand: PAYMENT_EXPAND,
      ...(request.reason === undefined ? {} : { cancellation_reason: request.reason }),
    };
    const sent = await this.client.send(request.idempotencyKey, (o) =>
      this.#sdk.paymentIntents.cancel(request.paymentIntentId, params, o),
    );
    return this.#settle(sent, request.paymentIntentId, 'cancel');
  }

  /**
   * Habit 5: "already captured / already canceled" is success. When Stripe says the intent is not in the state
   * the call needs, re-read it and classify what is actually true for the operation (captured -> a capture
   * succeeded; canceled -> a cancel succeeded; anything else stays invalid_request, with the intent attached).
   */
  async #settle(
    sent: Sent<Stripe.PaymentIntent>,
    id: string,
    op: PaymentOperation,
  ): Promise<GatewayOutcome<GatewayPayment>> {
    if (sent.ok) return paymentOutcome(sent.value, op);
    const outcome = sent.outcome;
    if (outcome.kind !== 'invalid_request' || !STATE_CODES.has(outcome.error.code ?? '')) return outcome;
    const again = await this.client.send(undefined, (o) =>
      this.#sdk.paymentIntents.retrieve(id, { expand: PAYMENT_EXPAND }, o),
    );
    if (!again.ok) return outcome; // Stripe refused the call, so it did nothing; the re-read just failed
    const actual = paymentOutcome(again.value, op);
    return actual.kind === 'invalid_request' ? { ...actual, error: outcome.error } : actual;
  }

  refund(request: RefundRequest): Promise<GatewayOutcome<GatewayRefund>> {
    return inOperation('refund', request, async () => this.#refundWithFee(await this.#refund(request)));
  }

  async #refund(request: RefundRequest): Promise<GatewayOutcome<GatewayRefund>> {
    let amount: number;
    try {
      amount = refundWireAmount(request.amount, request.currency);
    } catch (error) {
      return classifyError(error);
    }
    const params: Stripe.RefundCreateParams = {
      payment_intent: request.paymentIntentId,
      amount,
      metadata: { ...request.metadata, [TRANSACTION_ID_METADATA_KEY]: request.transactionId },
      expand: ['balance_transaction'],
      ...(request.reason === undefined ? {} : { reason: request.reason }),
      // Connect (M6): RefundCreateParams.refund_application_fee, a direct charge's fee refunded in proportion.
      ...(request.refundApplicationFee === true ? { refund_application_fee: true } : {}),
    };
    const sent = await this.client.send(request.idempotencyKey, (o) => this.#sdk.refunds.create(params, o));
    return sent.ok ? refundOutcome(sent.value) : sent.outcome;
  }

  retrieve(paymentIntentId: string): Promise<GatewayOutcome<GatewayPayment>> {
    return inOperation('retrieve', {}, async () => {
      const sent = await this.client.send(undefined, (o) =>
        this.#sdk.paymentIntents.retrieve(paymentIntentId, { expand: PAYMENT_EXPAND }, o),
      );
      return this.#withFee(sent.ok ? paymentOutcome(sent.value, 'read') : sent.outcome);
    });
  }

  findPaymentByTransactionId(transactionId: string): Promise<GatewayOutcome<GatewayPayment | null>> {
    return inOperation('findPaymentByTransactionId', { transactionId }, async () => {
      const found = await findPayment(this.client, transactionId);
      return found.kind === 'succeeded' && found.result === null
        ? found
        : this.#withFee(found as GatewayOutcome<GatewayPayment>);
    });
  }

  findRefundByTransactionId(request: FindRefundRequest): Promise<GatewayOutcome<GatewayRefund | null>> {
    return inOperation('findRefundByTransactionId', request, async () => {
      const found = await findRefund(this.client, request);
      return found.kind === 'succeeded' && found.result === null
        ? found
        : this.#refundWithFee(found as GatewayOutcome<GatewayRefund>);
    });
  }

  listBalanceTransactions(request: ListBalanceTransactionsRequest): Promise<GatewayOutcome<BalanceTransactionPage>> {
    return inOperation('listBalanceTransactions', {}, () => this.#listBalanceTransactions(request));
  }

  async #listBalanceTransactions(
    request: ListBalanceTransactionsRequest,
  ): Promise<GatewayOutcome<BalanceTransactionPage>> {
    const params: Stripe.BalanceTransactionListParams = {
      limit: request.limit,
      ...(request.payout === undefined ? {} : { payout: request.payout }),
      ...(request.source === undefined ? {} : { source: request.source }),
      ...(request.type === undefined ? {} : { type: request.type }),
      ...(request.startingAfter === undefined ? {} : { starting_after: request.startingAfter }),
      ...lists.createdParam(request.created),
    };
    const sent = await this.client.send(undefined, (o) => this.#sdk.balanceTransactions.list(params, o));
    if (!sent.ok) return sent.outcome;
    const data = [];
    for (const bt of sent.value.data) {
      const balance = toBalance(bt);
      if (balance === null) return unrecognised('balance transaction', bt.id);
      data.push(balance);
    }
    return { kind: 'succeeded', result: { data, has_more: sent.value.has_more } };
  }

  listRefunds(paymentIntentId: string): Promise<GatewayOutcome<GatewayRefund[]>> {
    return inOperation('listRefunds', {}, () => listRefunds(this.client, paymentIntentId));
  }

  retrieveDispute(disputeId: string): Promise<GatewayOutcome<GatewayDispute>> {
    return inOperation('retrieveDispute', {}, async () => {
      const sent = await this.client.send(undefined, (o) =>
        this.#sdk.disputes.retrieve(disputeId, { expand: ['balance_transactions'] }, o),
      );
      return sent.ok ? disputeOutcome(sent.value) : sent.outcome;
    });
  }

  /** Connect (M6, connect.ts): POST /v1/accounts. */
  createConnectedAccount(request: CreateConnectedAccountRequest): Promise<GatewayOutcome<GatewayConnectedAccount>> {
    return connect.createConnectedAccount(this.client, this.#sdk, request);
  }

  /** Connect (M6, connect.ts): GET /v1/accounts/{id}. */
  retrieveConnectedAccount(accountId: string): Promise<GatewayOutcome<GatewayConnectedAccount>> {
    return connect.retrieveConnectedAccount(this.client, this.#sdk, accountId);
  }

  /** Connect (M6, connect.ts): POST /v1/transfers. */
  createTransfer(request: TransferRequest): Promise<GatewayOutcome<GatewayTransfer>> {
    return connect.createTransfer(this.client, this.#sdk, request);
  }

  /** Connect (M6, connect.ts): POST /v1/transfers/{id}/reversals. */
  reverseTransfer(request: TransferReversalRequest): Promise<GatewayOutcome<GatewayTransferReversal>> {
    return connect.reverseTransfer(this.client, this.#sdk, request);
  }

  /** Connect (M6, connect.ts): POST /v1/payouts on a connected account (the Stripe-Account header). */
  createPayout(request: PayoutRequest): Promise<GatewayOutcome<GatewayPayout>> {
    return connect.createPayout(this.client, this.#sdk, request);
  }

  retrievePayout(payoutId: string): Promise<GatewayOutcome<GatewayPayout>> {
    return inOperation('retrievePayout', {}, async () => {
      const sent = await this.client.send(undefined, (o) => this.#sdk.payouts.retrieve(payoutId, {}, o));
      return sent.ok ? payoutOutcome(sent.value) : sent.outcome;
    });
  }

  /** Refunds.d.ts `refunds.retrieve`: payout reconciliation reads a released remainder's charge from it (M2). */
  retrieveRefund(refundId: string): Promise<GatewayOutcome<GatewayRefund>> {
    return inOperation('retrieveRefund', {}, async () => {
      const sent = await this.client.send(undefined, (o) => this.#sdk.refunds.retrieve(refundId, {}, o));
      return sent.ok ? refundOutcome(sent.value) : sent.outcome;
    });
  }

  /** W2: an event's object as the event shows it; no request (map-snapshot.ts). */
  parseSnapshot(event: unknown): GatewaySnapshot | null {
    return parseStripeSnapshot(event);
  }

  retrievePaymentMethod(paymentMethodId: string): Promise<GatewayOutcome<GatewayPaymentMethodDetails>> {
    return inOperation('retrievePaymentMethod', {}, async () => {
      const sent = await this.client.send(undefined, (o) => this.#sdk.paymentMethods.retrieve(paymentMethodId, {}, o));
      return sent.ok ? { kind: 'succeeded', result: paymentMethodDetails(sent.value) } : sent.outcome;
    });
  }

  createCustomer(request: CreateCustomerRequest): Promise<GatewayOutcome<GatewayCustomer>> {
    return inOperation('createCustomer', request, () => this.#createCustomer(request));
  }

  async #createCustomer(request: CreateCustomerRequest): Promise<GatewayOutcome<GatewayCustomer>> {
    const params: Stripe.CustomerCreateParams = {
      metadata: { ...request.metadata, [CUSTOMER_REFERENCE_METADATA_KEY]: request.reference },
      ...(request.name === undefined ? {} : { name: request.name }),
      ...(request.email === undefined ? {} : { email: request.email }),
    };
    const sent = await this.client.send(request.idempotencyKey, (o) => this.#sdk.customers.create(params, o));
    return sent.ok ? { kind: 'succeeded', result: { id: sent.value.id } } : sent.outcome;
  }

  attachPaymentMethod(request: AttachPaymentMethodRequest): Promise<GatewayOutcome<GatewayPaymentMethod>> {
    return inOperation('attachPaymentMethod', request, () => this.#attachPaymentMethod(request));
  }

  async #attachPaymentMethod(request: AttachPaymentMethodRequest): Promise<GatewayOutcome<GatewayPaymentMethod>> {
    const sent = await this.client.send(request.idempotencyKey, (o) =>
      this.#sdk.paymentMethods.attach(request.paymentMethod, { customer: request.customer }, o),
    );
    if (!sent.ok) return sent.outcome;
    const customer = sent.value.customer;
    return {
      kind: 'succeeded',
      result: {
        id: sent.value.id,
        customer: customer === null ? null : typeof customer === 'string' ? customer : customer.id,
      },
    };
  }

  createSetupIntent(request: SetupIntentRequest): Promise<GatewayOutcome<GatewaySetup>> {
    return inOperation('createSetupIntent', request, () => this.#createSetupIntent(request));
  }

  /**
   * Saves a card for off-session charges: created and confirmed in one call, `usage: off_session`, for the customer
   * (https://docs.stripe.com/payments/save-and-reuse). Server-side confirmation without a return_url, so only methods
   * that need no redirect (as for PaymentIntents). The saved PaymentMethod is expanded: its card details come with it.
   */
  async #createSetupIntent(request: SetupIntentRequest): Promise<GatewayOutcome<GatewaySetup>> {
    const params: Stripe.SetupIntentCreateParams = {
      customer: request.customer,
      payment_method: request.paymentMethod,
      confirm: true,
      usage: 'off_session',
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      metadata: { [SETUP_REFERENCE_METADATA_KEY]: request.reference },
      expand: ['payment_method'],
    };
    const sent = await this.client.send(request.idempotencyKey, (o) => this.#sdk.setupIntents.create(params, o));
    return sent.ok ? setupOutcome(sent.value) : sent.outcome;
  }

  retrieveSetupIntent(setupIntentId: string): Promise<GatewayOutcome<GatewaySetup>> {
    return inOperation('retrieveSetupIntent', {}, async () => {
      const sent = await this.client.send(undefined, (o) =>
        this.#sdk.setupIntents.retrieve(setupIntentId, { expand: ['payment_method'] }, o),
      );
      return sent.ok ? setupOutcome(sent.value) : sent.outcome;
    });
  }

  // The backfill's lists (W6; stripe-lists.ts).

  listCustomers(request: ListPageRequest): Promise<GatewayOutcome<GatewayListPage<GatewayCustomerDetails>>> {
    return inOperation('listCustomers', {}, () => lists.listCustomers(this.client, request));
  }

  listCustomerPaymentMethods(
    customer: string,
    request: ListPageRequest,
  ): Promise<GatewayOutcome<GatewayListPage<GatewayPaymentMethodDetails>>> {
    return inOperation('listCustomerPaymentMethods', {}, () =>
      lists.listCustomerPaymentMethods(this.client, customer, request),
    );
  }

  listPayments(request: ListPageRequest): Promise<GatewayOutcome<GatewayListPage<GatewayPayment>>> {
    return inOperation('listPayments', {}, () => lists.listPayments(this.client, request));
  }

  listRefundsCreated(request: ListPageRequest): Promise<GatewayOutcome<GatewayListPage<GatewayRefundOfPayment>>> {
    return inOperation('listRefundsCreated', {}, () => lists.listRefundsCreated(this.client, request));
  }

  listDisputes(request: ListPageRequest): Promise<GatewayOutcome<GatewayListPage<GatewayDispute>>> {
    return inOperation('listDisputes', {}, () => lists.listDisputes(this.client, request));
  }

  listPayouts(request: ListPageRequest): Promise<GatewayOutcome<GatewayListPage<GatewayPayout>>> {
    return inOperation('listPayouts', {}, () => lists.listPayouts(this.client, request));
  }

  /** M5: GET /v1/balance, one request for every currency (docs.stripe.com/api/balance/balance_retrieve). */
  retrieveBalance(): Promise<GatewayOutcome<GatewayAccountBalance[]>> {
    return inOperation('retrieveBalance', {}, async () => {
      const sent = await this.client.send(undefined, (o) => this.#sdk.balance.retrieve({}, o));
      return sent.ok ? { kind: 'succeeded', result: toAccountBalances(sent.value) } : sent.outcome;
    });
  }
}
