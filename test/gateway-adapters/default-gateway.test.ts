// `settle serve`'s default gateway: the in-process emulator (state in the data directory), a separate
// emulator through STRIPE_API_BASE, or real Stripe by key; and the registry that turns a record into the
// Stripe adapter.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getDefaultGateway } from '../../src/app/gateway-records.js';
import { startEmulator } from '@settle/stripe-emulator';
import { setUpDefaultGateway } from '../../src/gateway-adapters/default-gateway.js';
import { GatewayRegistry } from '../../src/gateway-adapters/registry.js';
import { describeEachDatabase } from '../support/harness.js';

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'settle-gw-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describeEachDatabase('default gateway and registry', (get) => {
  it('starts the emulator in-process, registers it as default, and the adapter reaches it', async () => {
    const h = get();
    const config = {
      stripeSecretKey: undefined,
      stripeApiBase: undefined,
      emulatorPort: 0,
      dataDir: path.join(dataDir, h.kind),
    };
    const first = await setUpDefaultGateway(config, h.deps);
    let paymentIntent: string | null = null;
    try {
      expect(first.record).toMatchObject({ is_emulator: true, is_default: true, mode: 'test', provider: 'stripe' });
      expect((await getDefaultGateway(h.deps))?.id).toBe(first.record.id);
      const gateway = new GatewayRegistry().forRecord(first.record);
      const outcome = await gateway.authorize({
        idempotencyKey: `it-${h.kind}-1`,
        transactionId: `trx_default_gateway_${h.kind}`,
        amount: 2500,
        currency: 'USD',
        paymentMethod: 'pm_card_visa',
      });
      expect(outcome.kind).toBe('succeeded');
      if (outcome.kind === 'succeeded') {
        expect(outcome.result.authorized_amount).toBe(2500);
        paymentIntent = outcome.result.refs.payment_intent;
      }
    } finally {
      await first.close();
    }
    // a restart: new port, same gateway record, and the emulator remembers its objects
    const second = await setUpDefaultGateway(config, h.deps);
    try {
      expect(second.record.id).toBe(first.record.id);
      const gateway = new GatewayRegistry().forRecord(second.record);
      const again = await gateway.retrieve(paymentIntent ?? 'missing');
      expect(again.kind).toBe('succeeded');
    } finally {
      await second.close();
    }
  });

  it('uses a separately running emulator through STRIPE_API_BASE', async () => {
    const h = get();
    const emulator = await startEmulator({ port: 0 });
    try {
      const setup = await setUpDefaultGateway(
        { stripeSecretKey: undefined, stripeApiBase: emulator.url, emulatorPort: 0, dataDir },
        h.deps,
      );
      expect(setup.record.api_base).toBe(emulator.url);
      expect(setup.description).toContain('STRIPE_API_BASE');
      await setup.close();
    } finally {
      await emulator.close();
    }
  });

  it('a real Stripe key makes a Stripe gateway the default without storing the key', async () => {
    const h = get();
    process.env.STRIPE_SECRET_KEY = 'sk_test_notarealkey123';
    try {
      const setup = await setUpDefaultGateway(
        { stripeSecretKey: 'sk_test_notarealkey123', stripeApiBase: undefined, emulatorPort: 0, dataDir },
        h.deps,
      );
      expect(setup.record).toMatchObject({
        is_emulator: false,
        is_default: true,
        mode: 'test',
        secret_key_env: 'STRIPE_SECRET_KEY',
        api_base: null,
      });
      const listed = await h.request('GET', '/v1/gateways?limit=200');
      expect(JSON.stringify(listed.body)).not.toContain('sk_test_notarealkey123');
      const rows = await h.deps.db.selectFrom('gateways').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain('sk_test_notarealkey123');
      await setup.close();
    } finally {
      delete process.env.STRIPE_SECRET_KEY;
    }
  });

  it('refuses to build an adapter for a gateway whose key variable is not set', async () => {
    const h = get();
    const created = await h.request('POST', '/v1/gateways', {
      name: 'No key',
      provider: 'stripe',
      settlement_currency: 'USD',
      secret_key_env: 'SETTLE_GATEWAY_TEST_UNSET_KEY',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const record = await h.deps.db
      .selectFrom('gateways')
      .selectAll()
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(() => new GatewayRegistry().forRecord(record)).toThrow(/SETTLE_GATEWAY_TEST_UNSET_KEY/);
  });
});
