// Shared by the gateway log tests: a gateway record pointing at the emulator, a registry whose adapters log to
// the test database, and payment requests with fresh keys.
import type { PaymentRequest } from '../../src/app/gateway-port.js';
import { GatewayLogWriter } from '../../src/app/gateway-log.js';
import type { GatewayRow } from '../../src/store/schema.js';
import { GatewayRegistry } from '../../src/gateway-adapters/registry.js';
import type { Harness } from '../support/harness.js';

/** The API key the adapter sends: it must never appear in a stored row. */
export const SECRET_KEY = 'sk_test_gatewaylog_51Hx9ZqTopSecretValue';
export const KEY_ENV = 'SETTLE_GATEWAY_TEST_LOG_KEY';
/** A fake secret put into metadata to prove the bodies are scrubbed. */
export const FAKE_SECRET = 'sk_test_fakeSecretInMetadata123';

let n = 0;
export const fresh = (prefix: string): string => `${prefix}_${process.pid}_${Date.now()}_${(n += 1)}`;

export function payment(overrides: Partial<PaymentRequest> = {}): PaymentRequest {
  return {
    idempotencyKey: fresh('idem'),
    transactionId: fresh('trx'),
    amount: 1000,
    currency: 'USD',
    paymentMethod: 'pm_card_visa',
    ...overrides,
  };
}

/** A gateway record for the emulator at `apiBase`, created through the API. */
export async function emulatorGateway(h: Harness, apiBase: string): Promise<GatewayRow> {
  process.env[KEY_ENV] = SECRET_KEY;
  const created = await h.request('POST', '/v1/gateways', {
    name: fresh('log test'),
    provider: 'stripe',
    settlement_currency: 'USD',
    rate_limit_per_second: 1000,
    secret_key_env: KEY_ENV,
    api_base: apiBase,
  });
  if (created.status !== 201) throw new Error(`gateway not created: ${JSON.stringify(created.body)}`);
  return h.deps.db.selectFrom('gateways').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
}

export function loggingRegistry(h: Harness, writer = new GatewayLogWriter(h.deps.db)): GatewayRegistry {
  return new GatewayRegistry({ timeoutMs: 5000, gatewayLogs: writer });
}

export async function logsOf(h: Harness, filter: { transactionId?: string; idempotencyKey?: string }) {
  let q = h.deps.db.selectFrom('gateway_logs').selectAll();
  if (filter.transactionId !== undefined) q = q.where('transaction_id', '=', filter.transactionId);
  if (filter.idempotencyKey !== undefined) q = q.where('idempotency_key', '=', filter.idempotencyKey);
  return q.orderBy('id', 'asc').execute();
}
