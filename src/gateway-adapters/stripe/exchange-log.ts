// One Stripe HTTP exchange -> one gateway log entry (P13). The writer scrubs secrets; this decides what the
// exchange was (interaction type), how it went (interaction status) and Settle's result code, which follows the
// adapter's outcome classes (classify-error.ts, map-payment.ts):
//   succeeded -> success, declined -> decline, pending and unknown -> indeterminate, invalid_request ->
//   validation_error, configuration -> permanent_fail, retryable and 5xx -> system_error, requires_action ->
//   requires_review.
// Interaction status: success (an answer meaning it worked, or needs the customer), failed (an answer saying
// no), timeout (no answer). A GET made inside a write (the re-read after "already captured") is a `sync`.
import type { GatewayLogEntry, InteractionType, ResultCode } from '../../app/gateway-log.js';
import { TRANSACTION_ID_METADATA_KEY, type OutcomeKind } from '../../app/gateway-port.js';
import type { GatewayOperation, StripeExchange } from './exchange.js';
import { refundOutcome } from './map-objects.js';
import { paymentOutcome, type PaymentOperation } from './map-payment.js';

const INTERACTION: Record<GatewayOperation, InteractionType> = {
  authorize: 'authorization',
  charge: 'sale',
  capture: 'capture',
  cancel: 'authorization_reversal',
  refund: 'referenced_refund',
  retrieve: 'sync',
  findPaymentByTransactionId: 'sync',
  findRefundByTransactionId: 'sync',
  listBalanceTransactions: 'sync',
  listRefunds: 'sync',
  retrieveDispute: 'sync',
  retrievePayout: 'sync',
  retrieveRefund: 'sync',
  retrieveBalance: 'sync',
  retrievePaymentMethod: 'sync',
  createCustomer: 'tokenize',
  attachPaymentMethod: 'tokenize',
  createSetupIntent: 'tokenize',
  retrieveSetupIntent: 'sync',
  listCustomers: 'sync',
  listCustomerPaymentMethods: 'sync',
  listPayments: 'sync',
  listRefundsCreated: 'sync',
  listDisputes: 'sync',
  listPayouts: 'sync',
  // Connect (M6): an account is no money movement; its creation is logged as the other object creations are.
  createConnectedAccount: 'tokenize',
  retrieveConnectedAccount: 'sync',
  // A transfer moves money out of the platform's balance: logged as a sale-like write would be, with its key.
  createTransfer: 'sale',
  // A transfer reversal brings money back from the connected account: logged as a refund of the transfer, with its key.
  reverseTransfer: 'referenced_refund',
  // A connected account's payout moves money out of its balance: logged like a transfer.
  createPayout: 'sale',
};

const RESULT: Record<OutcomeKind, ResultCode> = {
  succeeded: 'success',
  pending: 'indeterminate',
  requires_action: 'requires_review',
  declined: 'decline',
  retryable: 'system_error',
  unknown: 'indeterminate',
  invalid_request: 'validation_error',
  configuration: 'permanent_fail',
};

/** Socket errors raised before the request was written (classify-error.ts NOT_SENT_CODES, the common ones). */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']);

/** Result codes of a 2xx answer that count as a successful interaction (pending and needs-the-customer included). */
const ANSWERED_OK: ReadonlySet<ResultCode> = new Set(['success', 'requires_review', 'indeterminate']);

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | null =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : null;
const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

function paymentOp(operation: GatewayOperation | null): PaymentOperation {
  return operation === 'authorize' || operation === 'charge' || operation === 'capture' || operation === 'cancel'
    ? operation
    : 'read';
}

/** The outcome class of an answered exchange, as the adapter would classify it. */
function answeredKind(exchange: StripeExchange, body: Obj | null): OutcomeKind {
  const status = exchange.status ?? 0;
  const error = obj(body?.error);
  if (status >= 200 && status < 300 && body && !error) {
    const op = exchange.method === 'GET' ? 'read' : paymentOp(exchange.operation);
    try {
      // Casts: `object` says which Stripe type this answer body is; the mappers take the SDK's types.
      if (body.object === 'payment_intent') return paymentOutcome(body as never, op).kind;
      if (body.object === 'refund') return refundOutcome(body as never).kind;
    } catch {
      return 'unknown';
    }
    return 'succeeded';
  }
  const type = str(error?.type);
  if (status === 402 || type === 'card_error') return 'declined';
  if (status === 401 || status === 403) return 'configuration';
  if (status === 429) return 'retryable';
  if (type === 'idempotency_error') return 'invalid_request';
  if ((status === 400 || status === 404) && body) return 'invalid_request';
  if (status >= 500) return 'retryable'; // 5xx: system_error (the adapter itself treats it as unknown)
  return 'unknown';
}

function resultCode(exchange: StripeExchange, body: Obj | null): ResultCode {
  if (exchange.status === null)
    return exchange.errorCode !== null && NEVER_SENT.has(exchange.errorCode) ? 'system_error' : 'indeterminate';
  return RESULT[answeredKind(exchange, body)];
}

/** The PaymentIntent (or refund, customer, ...) the exchange is about. */
function refNumber(exchange: StripeExchange, body: Obj | null): string | null {
  const error = obj(body?.error);
  if (body && !error && body.object !== 'list' && body.object !== 'search_result') return str(body.id);
  const intent = obj(error?.payment_intent);
  const fromError = str(intent?.id) ?? str(error?.charge);
  if (fromError) return fromError;
  const fromPath = exchange.path.split('/').find((part) => /^(pi|re|cus|pm|ch|txn|dp|po)_[A-Za-z0-9]+$/.test(part));
  return fromPath ?? str(obj(exchange.requestBody)?.payment_intent);
}

function authCode(body: Obj | null): string | null {
  const charge = obj(body?.latest_charge) ?? (body?.object === 'charge' ? body : null);
  const card = obj(obj(charge?.payment_method_details)?.card);
  return str(card?.authorization_code);
}

function gatewayDate(body: Obj | null): Date | null {
  const created = body?.created ?? obj(obj(body?.error)?.payment_intent)?.created;
  return typeof created === 'number' && Number.isFinite(created) ? new Date(created * 1000) : null;
}

function transactionOf(exchange: StripeExchange, body: Obj | null): string | null {
  if (exchange.transactionId !== null) return exchange.transactionId;
  const holder = obj(body?.metadata) ?? obj(obj(obj(body?.error)?.payment_intent)?.metadata);
  return str(holder?.[TRANSACTION_ID_METADATA_KEY]);
}

/** The gateway's own words: error message, code and type, or the object's status. */
function gatewayResult(
  exchange: StripeExchange,
  body: Obj | null,
): { message: string | null; code: string | null; description: string | null } {
  if (exchange.status === null) {
    return { message: exchange.errorMessage, code: exchange.errorCode, description: 'no answer from the gateway' };
  }
  const error = obj(body?.error) ?? obj(body?.last_payment_error);
  if (error) {
    const code = str(error.decline_code) ?? str(error.code);
    const parts = [str(error.type), str(error.code) !== code ? str(error.code) : null, str(error.advice_code)];
    return { message: str(error.message), code, description: parts.filter((p) => p !== null).join('; ') || null };
  }
  const status = str(body?.status);
  const object = str(body?.object);
  return {
    message: status && object ? `${object} ${status}` : object,
    code: status,
    description: str(body?.failure_reason),
  };
}

export function exchangeLogEntry(exchange: StripeExchange): GatewayLogEntry {
  const body = obj(exchange.responseBody);
  const code = resultCode(exchange, body);
  const answered = exchange.status !== null;
  const ok2xx = exchange.status !== null && exchange.status >= 200 && exchange.status < 300;
  const operationType = exchange.operation === null ? 'sync' : INTERACTION[exchange.operation];
  const result = gatewayResult(exchange, body);
  return {
    transaction_id: transactionOf(exchange, body),
    interaction_type: exchange.method === 'GET' ? 'sync' : operationType,
    interaction_status: !answered ? 'timeout' : ok2xx && ANSWERED_OK.has(code) ? 'success' : 'failed',
    result_code: code,
    gateway_ref_number: refNumber(exchange, body),
    gateway_auth_code: authCode(body),
    gateway_date: gatewayDate(body),
    gateway_message: result.message,
    gateway_result_code: result.code,
    gateway_result_code_description: result.description,
    idempotency_key: exchange.idempotencyKey,
    is_notification: false,
    http_method: exchange.method,
    http_path: exchange.path,
    http_status: exchange.status,
    request_id: exchange.requestId,
    request_body: exchange.requestBody,
    response_body: exchange.responseBody,
    latency_ms: exchange.latencyMs,
  };
}
