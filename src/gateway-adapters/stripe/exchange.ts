// Seeing every HTTP exchange the adapter makes (P13): a wrapper around the SDK's HTTP client that reports
// each request and its answer (or the lack of one) to an `onExchange` hook, tagged with the port operation it
// belongs to. StripeGateway sets that operation (and our transaction id and idempotency key) in an
// AsyncLocalStorage around each port call, so callers of the port pass nothing new.
//
// The hook may return a promise (a log write): the port call waits for it before returning, so a call's logs
// are stored when its outcome is known; a failing or throwing hook never affects the call.
import { AsyncLocalStorage } from 'node:async_hooks';
import type Stripe from 'stripe';
import { sentAtOf } from './paced-http-client.js';

/** The port operations (Gateway's methods). */
export type GatewayOperation =
  | 'authorize'
  | 'charge'
  | 'capture'
  | 'cancel'
  | 'refund'
  | 'retrieve'
  | 'findPaymentByTransactionId'
  | 'findRefundByTransactionId'
  | 'listBalanceTransactions'
  | 'listRefunds'
  | 'retrieveDispute'
  | 'retrievePayout'
  | 'retrieveRefund'
  | 'retrieveBalance'
  | 'retrievePaymentMethod'
  | 'createCustomer'
  | 'attachPaymentMethod'
  | 'createSetupIntent'
  | 'retrieveSetupIntent'
  | 'listCustomers'
  | 'listCustomerPaymentMethods'
  | 'listPayments'
  | 'listRefundsCreated'
  | 'listDisputes'
  | 'listPayouts'
  | 'createConnectedAccount'
  | 'retrieveConnectedAccount'
  | 'createTransfer'
  | 'reverseTransfer'
  | 'createPayout';

export interface OperationContext {
  operation: GatewayOperation;
  transactionId: string | null;
  idempotencyKey: string | null;
  /** Hook results still running; awaited (never rejected) before the port call returns. */
  pending: Promise<unknown>[];
}

/** One request and what came back. */
export interface StripeExchange {
  operation: GatewayOperation | null; // null: the SDK was used outside a port call
  transactionId: string | null;
  idempotencyKey: string | null;
  method: string;
  /** The path without its query string. */
  path: string;
  /** The form body (writes) or query string (reads), decoded with bracket notation into an object. */
  requestBody: Record<string, unknown>;
  /** null: no answer arrived (timeout, dropped or refused connection). */
  status: number | null;
  requestId: string | null;
  /** The answer's body parsed as JSON; null when there was none or it was not JSON. */
  responseBody: unknown;
  /** The socket or timeout error code when no answer arrived (ETIMEDOUT, ECONNRESET, ECONNREFUSED, ...). */
  errorCode: string | null;
  errorMessage: string | null;
  latencyMs: number;
}

export type ExchangeHook = (exchange: StripeExchange) => void | Promise<unknown>;

export const operationContext = new AsyncLocalStorage<OperationContext>();

/** Runs one port call with its operation set; waits for the hook's work (log writes) before returning. */
export async function inOperation<T>(
  operation: GatewayOperation,
  meta: { transactionId?: string | null | undefined; idempotencyKey?: string | null | undefined },
  call: () => Promise<T>,
): Promise<T> {
  const context: OperationContext = {
    operation,
    transactionId: meta.transactionId ?? null,
    idempotencyKey: meta.idempotencyKey ?? null,
    pending: [],
  };
  return operationContext.run(context, async () => {
    try {
      return await call();
    } finally {
      await Promise.allSettled(context.pending);
    }
  });
}

/** Decodes `a[b][0]=x&c=y` into `{ a: { b: ['x'] }, c: 'y' }` (Stripe's form encoding). */
export function decodeForm(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const parts = name.replace(/\]/g, '').split('[');
    let node: Record<string, unknown> | unknown[] = root;
    parts.forEach((part, index) => {
      const last = index === parts.length - 1;
      const key =
        Array.isArray(node) && (part === '' || /^\d+$/.test(part)) ? (part === '' ? node.length : Number(part)) : part;
      const container = node as Record<string | number, unknown>;
      if (last) {
        container[key] = value;
        return;
      }
      const nextIsIndex = /^\d*$/.test(parts[index + 1] ?? '');
      const existing = container[key];
      if (existing === null || typeof existing !== 'object') container[key] = nextIsIndex ? [] : {};
      node = container[key] as Record<string, unknown> | unknown[];
    });
  }
  return root;
}

function header(headers: Record<string, unknown>, name: string): string | null {
  const value = headers[name] ?? headers[name.toLowerCase()];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : null;
  return typeof value === 'string' ? value : null;
}

export type HttpClient = NonNullable<Stripe.StripeConfig['httpClient']>;
type HttpClientResponse = Awaited<ReturnType<HttpClient['makeRequest']>>;

/** The SDK's HTTP client with every exchange reported to `onExchange`. */
export function recordingHttpClient(inner: HttpClient, onExchange: ExchangeHook): HttpClient {
  const wrapper = Object.create(inner) as HttpClient;
  wrapper.makeRequest = async (host, port, fullPath, method, headers, requestData, protocol, timeout) => {
    const context = operationContext.getStore();
    const started = performance.now();
    const [path = fullPath, query = ''] = fullPath.split('?', 2);
    const hookKey = header(headers, 'Idempotency-Key');
    const base = {
      operation: context?.operation ?? null,
      transactionId: context?.transactionId ?? null,
      idempotencyKey: context?.idempotencyKey ?? hookKey,
      method,
      path,
      requestBody: decodeForm(method === 'GET' || method === 'DELETE' ? query : requestData),
    };
    const report = (exchange: StripeExchange): void => {
      try {
        const result = onExchange(exchange);
        if (result) {
          const settled = Promise.resolve(result).catch(() => undefined);
          context?.pending.push(settled);
        }
      } catch {
        // a log must never fail a gateway call
      }
    };
    // From the write when the transport says when it happened (PacedHttpClient), else from the hand-over.
    const latency = (of: unknown): number => Math.max(0, Math.round(performance.now() - (sentAtOf(of) ?? started)));
    let response: HttpClientResponse;
    try {
      response = await inner.makeRequest(host, port, fullPath, method, headers, requestData, protocol, timeout);
    } catch (error) {
      report({
        ...base,
        ...noAnswer(error),
        status: null,
        requestId: null,
        responseBody: null,
        latencyMs: latency(error),
      });
      throw error;
    }
    const status = response.getStatusCode();
    const requestId = header(response.getHeaders(), 'request-id');
    const wrapped = Object.create(response) as HttpClientResponse;
    wrapped.toJSON = async () => {
      try {
        const body: unknown = await response.toJSON();
        // Copied before the SDK decorates an error body with headers and status.
        report({
          ...base,
          status,
          requestId,
          responseBody: structuredClone(body),
          errorCode: null,
          errorMessage: null,
          latencyMs: latency(response),
        });
        return body;
      } catch (error) {
        report({ ...base, ...noAnswer(error), status, requestId, responseBody: null, latencyMs: latency(response) });
        throw error;
      }
    };
    return wrapped;
  };
  return wrapper;
}

function noAnswer(error: unknown): { errorCode: string | null; errorMessage: string | null } {
  const code =
    error && typeof error === 'object' && 'code' in error && typeof error.code === 'string' ? error.code : null;
  return { errorCode: code, errorMessage: error instanceof Error ? error.message : String(error) };
}
