// A gateway log that cannot be written never makes a gateway call fail: the writer reports the database error
// to its logger and the call's outcome is unchanged; a throwing or rejecting hook is ignored the same way.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GatewayLogWriter } from '../../src/app/gateway-log.js';
import { startEmulator, type Emulator } from '@settle/stripe-emulator';
import { GatewayRegistry } from '../../src/gateway-adapters/registry.js';
import { StripeGateway } from '../../src/gateway-adapters/stripe/index.js';
import { openDatabase, type OpenDatabase } from '../../src/store/database.js';
import { describeEachDatabase } from '../support/harness.js';
import { emulatorGateway, payment } from './support.js';

let emulator: Emulator;
let unmigrated: OpenDatabase;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  unmigrated = await openDatabase({}); // no gateway_logs table: every insert fails
});
afterAll(async () => {
  await unmigrated.close();
  await emulator.close();
});

describeEachDatabase('gateway log: failures to log', (get) => {
  it('a writer whose database fails: the call succeeds and the error is reported', async () => {
    const errors: string[] = [];
    const writer = new GatewayLogWriter(unmigrated.db, { logger: { error: (message) => errors.push(message) } });
    const record = await emulatorGateway(get(), emulator.url);
    const gateway = new GatewayRegistry({ timeoutMs: 5000, gatewayLogs: writer }).forRecord(record);
    const request = payment();
    const auth = await gateway.authorize(request);
    expect(auth).toMatchObject({
      kind: 'succeeded',
      result: { status: 'requires_capture', transaction_id: request.transactionId },
    });
    expect(errors).toEqual([`gateway log: could not store a authorization interaction of gateway ${record.id}`]);
  });

  it('a writer on a closed database fails the same way, without failing the call', async () => {
    const closed = await openDatabase({});
    await closed.close();
    const errors: unknown[] = [];
    const writer = new GatewayLogWriter(closed.db, { logger: { error: (_message, error) => errors.push(error) } });
    const record = await emulatorGateway(get(), emulator.url);
    const outcome = await new GatewayRegistry({ gatewayLogs: writer }).forRecord(record).charge(payment());
    expect(outcome.kind).toBe('succeeded');
    // One per HTTP exchange: usually one, two when the SDK resent once on a keep-alive socket the emulator had closed.
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.length).toBeLessThanOrEqual(2);
  });
});

it('a hook that throws or rejects is ignored', async () => {
  const base = {
    secretKey: 'sk_test_hooks',
    apiBase: emulator.url,
    timeoutMs: 5000,
    rateLimitPerSecond: 1000,
    maxRetries: 0,
  };
  const throwing = new StripeGateway({
    ...base,
    onExchange: () => {
      throw new Error('hook broke');
    },
  });
  expect((await throwing.authorize(payment())).kind).toBe('succeeded');
  const rejecting = new StripeGateway({ ...base, onExchange: () => Promise.reject(new Error('hook rejected')) });
  expect((await rejecting.authorize(payment())).kind).toBe('succeeded');
});

it('the port call waits for the hook, so its logs are stored when the outcome is returned', async () => {
  const seen: string[] = [];
  const gateway = new StripeGateway({
    secretKey: 'sk_test_hooks',
    apiBase: emulator.url,
    timeoutMs: 5000,
    rateLimitPerSecond: 1000,
    onExchange: async (exchange) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      seen.push(`${exchange.operation} ${exchange.method} ${exchange.status}`);
    },
  });
  await gateway.authorize(payment());
  expect(seen).toEqual(['authorize POST 200']);
});
