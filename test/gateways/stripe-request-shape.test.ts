// CONTRACT (request shape): every request the adapter sends uses a method, path and parameter names that exist in
// Stripe's OpenAPI description (../shared/stripe/openapi-spec3-2023-08-16.json), or, for anything newer than that
// spec, in the SDK's own types (the SDK pins 2026-10-28.endive). Requests are recorded on the wire by a
// transport wrapped around the SDK's Node HTTP client, then decoded from Stripe's bracket notation.
import { readFileSync } from 'node:fs';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/gateways/emulator/index.js';
import { StripeGateway } from '../../src/gateways/stripe/stripe-gateway.js';

type Schema = { $ref?: string; properties?: Record<string, Schema>; additionalProperties?: unknown; anyOf?: Schema[]; items?: Schema };
interface Operation {
  parameters?: { name: string; in: string; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}
interface Wire {
  method: string;
  path: string;
  params: string[]; // decoded parameter names, e.g. 'metadata[settle_transaction_id]', 'expand[0]'
  idempotencyKey?: string | undefined;
}

const spec = JSON.parse(readFileSync('/work/shared/stripe/openapi-spec3-2023-08-16.json', 'utf8')) as Spec;

/** Newer than the spec: (METHOD template) -> the SDK .d.ts file and params interface to look in. */
const SDK_TYPES: Record<string, [string, string]> = {
  'POST /v1/payment_intents': ['PaymentIntents', 'PaymentIntentCreateParams'],
  'POST /v1/payment_intents/{intent}/capture': ['PaymentIntents', 'PaymentIntentCaptureParams'],
  'POST /v1/payment_intents/{intent}/cancel': ['PaymentIntents', 'PaymentIntentCancelParams'],
  'GET /v1/payment_intents/{intent}': ['PaymentIntents', 'PaymentIntentRetrieveParams'],
  'GET /v1/payment_intents/search': ['PaymentIntents', 'PaymentIntentSearchParams'],
  'POST /v1/refunds': ['Refunds', 'RefundCreateParams'],
  'GET /v1/refunds': ['Refunds', 'RefundListParams'],
  'GET /v1/balance_transactions': ['BalanceTransactions', 'BalanceTransactionListParams'],
  'POST /v1/customers': ['Customers', 'CustomerCreateParams'],
  'POST /v1/payment_methods/{payment_method}/attach': ['PaymentMethods', 'PaymentMethodAttachParams'],
};

function sdkHasParam(key: string, name: string): boolean {
  const entry = SDK_TYPES[key];
  if (!entry) return false;
  const text = readFileSync(`node_modules/stripe/cjs/resources/${entry[0]}.d.ts`, 'utf8');
  const start = text.indexOf(`export interface ${entry[1]} {`);
  if (start < 0) return false;
  const body = text.slice(start, text.indexOf('\n}', start));
  return new RegExp(`\\n    ${name}\\??:`).test(body);
}

/** Path template for a concrete path: literal templates win over ones with {placeholders}. */
function templateFor(path: string): string | undefined {
  const candidates = Object.keys(spec.paths).filter((t) =>
    new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
  );
  return candidates.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
}

function resolve(schema: Schema | undefined): Schema[] {
  if (!schema) return [];
  if (schema.$ref) return resolve(spec.components.schemas[schema.$ref.replace('#/components/schemas/', '')]);
  if (schema.anyOf) return schema.anyOf.flatMap(resolve);
  return [schema];
}

/** Does `segments` (after the top-level name) exist under this schema? Free-form maps accept any key. */
function hasPath(schema: Schema | undefined, segments: string[]): boolean {
  const [head, ...rest] = segments;
  if (head === undefined) return true;
  return resolve(schema).some((s) => {
    if (/^\d*$/.test(head) && s.items) return hasPath(s.items, rest);
    if (s.properties?.[head]) return hasPath(s.properties[head], rest);
    return s.additionalProperties !== undefined && s.additionalProperties !== false;
  });
}

/** Problems with one recorded request; empty when it matches the spec (or the SDK types for newer names). */
export function checkRequest(wire: Wire): string[] {
  const template = templateFor(wire.path);
  if (!template) return [`${wire.method} ${wire.path}: no such path in the spec`];
  const operation = spec.paths[template]?.[wire.method.toLowerCase()];
  if (!operation) return [`${wire.method} ${template}: the spec has no ${wire.method} for this path`];
  const key = `${wire.method} ${template}`;
  const problems: string[] = [];
  for (const name of wire.params) {
    const [top = '', ...rest] = name.split('[').map((s) => s.replace(/\]$/, ''));
    const schema =
      wire.method === 'GET'
        ? operation.parameters?.find((p) => p.in === 'query' && p.name === top)?.schema
        : operation.requestBody?.content?.['application/x-www-form-urlencoded']?.schema?.properties?.[top];
    if (schema ? hasPath(schema, rest) : sdkHasParam(key, top)) continue;
    problems.push(`${key}: parameter '${name}' is not in the 2023-08-16 spec nor in the SDK types`);
  }
  return problems;
}

const recorded: Wire[] = [];
const inner = Stripe.createNodeHttpClient();
const recorder: NonNullable<Stripe.StripeConfig['httpClient']> = {
  getClientName: () => 'recording',
  makeRequest: (host, port, path, method, headers, data, protocol, timeout) => {
    const [pathname = '', query = ''] = path.split('?');
    const form = method === 'GET' ? query : data;
    const key = headers['Idempotency-Key'];
    recorded.push({ method, path: pathname, params: [...new URLSearchParams(form).keys()], idempotencyKey: key === undefined ? undefined : String(key) });
    return inner.makeRequest(host, port, path, method, headers, data, protocol, timeout);
  },
};

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});
afterAll(() => emulator.close());

describe('request shapes against the Stripe OpenAPI spec', () => {
  it('the checker itself rejects unknown paths, methods and parameter names', () => {
    expect(checkRequest({ method: 'POST', path: '/v1/payment_intents/pi_1/capture', params: ['amount_to_captur'] })[0]).toMatch(
      /POST \/v1\/payment_intents\/\{intent\}\/capture: parameter 'amount_to_captur'/,
    );
    expect(checkRequest({ method: 'POST', path: '/v1/payment_intents', params: ['automatic_payment_methods[redirects]'] })).toHaveLength(1);
    expect(checkRequest({ method: 'DELETE', path: '/v1/refunds', params: [] })).toHaveLength(1);
    expect(checkRequest({ method: 'GET', path: '/v1/nope', params: [] })).toHaveLength(1);
    expect(checkRequest({ method: 'POST', path: '/v1/payment_intents', params: ['metadata[anything]', 'expand[0]'] })).toEqual([]);
  });

  it('every request of every gateway operation uses names Stripe defines', async () => {
    const g = new StripeGateway({
      secretKey: 'sk_test_shape',
      apiBase: emulator.url,
      timeoutMs: 5000,
      rateLimitPerSecond: 1000,
      maxRetries: 0,
      httpClient: recorder,
    });
    const base = { currency: 'USD', paymentMethod: 'pm_card_visa', description: 'shape', metadata: { order: '1' } };
    const cus = await g.createCustomer({ idempotencyKey: 'shape_cus', reference: 'acct_1', name: 'N', email: 'n@example.com' });
    const customer = cus.kind === 'succeeded' ? cus.result.id : 'cus_x';
    const pm = await g.attachPaymentMethod({ idempotencyKey: 'shape_att', paymentMethod: 'pm_card_visa', customer });
    const auth = await g.authorize({ ...base, idempotencyKey: 'shape_a', transactionId: 'txn_shape_a', amount: 1000 });
    const pi = auth.kind === 'succeeded' ? (auth.result.refs.payment_intent ?? '') : 'pi_x';
    await g.capture({ idempotencyKey: 'shape_c', transactionId: 'txn_shape_a', paymentIntentId: pi, currency: 'USD', amount: 800 });
    await g.refund({ idempotencyKey: 'shape_r', transactionId: 'txn_shape_r', paymentIntentId: pi, currency: 'USD', amount: 100, reason: 'requested_by_customer', metadata: { why: 'x' } });
    const auth2 = await g.authorize({ ...base, idempotencyKey: 'shape_a2', transactionId: 'txn_shape_a2', amount: 1000 });
    const pi2 = auth2.kind === 'succeeded' ? (auth2.result.refs.payment_intent ?? '') : 'pi_y';
    await g.cancel({ idempotencyKey: 'shape_x', transactionId: 'txn_shape_a2', paymentIntentId: pi2, reason: 'abandoned' });
    const pmId = pm.kind === 'succeeded' ? pm.result.id : 'pm_card_visa';
    await g.charge({ ...base, paymentMethod: pmId, customer, offSession: true, idempotencyKey: 'shape_ch', transactionId: 'txn_shape_ch', amount: 2000 });
    await g.retrieve(pi);
    await g.findPaymentByTransactionId('txn_shape_a');
    await g.findRefundByTransactionId({ paymentIntentId: pi, transactionId: 'txn_shape_r' });
    await g.listBalanceTransactions({ limit: 5, payout: 'po_1', source: 'ch_1', type: 'charge', startingAfter: 'txn_1' });

    const seen = new Set(recorded.map((w) => `${w.method} ${templateFor(w.path) ?? w.path}`));
    expect([...seen].sort()).toEqual(Object.keys(SDK_TYPES).sort()); // every operation was exercised
    expect(recorded.flatMap(checkRequest)).toEqual([]);
    // Our keys on every write (never the SDK's random stripe-node-retry-... keys), none on reads.
    for (const w of recorded) {
      if (w.method === 'POST') expect(w.idempotencyKey, `${w.method} ${w.path}`).toMatch(/^shape_/);
      else expect(w.idempotencyKey, `${w.method} ${w.path}`).toBeUndefined();
    }
    expect(recorded.find((w) => w.path === '/v1/payment_intents' && w.method === 'POST')?.params).toEqual(
      expect.arrayContaining(['metadata[settle_transaction_id]', 'capture_method', 'confirm', 'amount']),
    );
  });
});
