// Webhook signing secrets: resolution per gateway (its variable, else the emulator endpoint Settle registered),
// registration with the emulator through the Stripe API (kept in the data directory, reused while the endpoint
// exists), the emulator's signed deliveries accepted end to end, and no secret in any answer, log or table.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ensureDefaultEmulatorGateway } from '../../src/app/gateway-records.js';
import {
  EMULATOR_ENDPOINT_FILE,
  registerEmulatorEndpoint,
  setUpWebhookSecret,
  WebhookSecrets,
} from '../../src/app/webhooks/secrets.js';
import { setUpDefaultGateway } from '../../src/gateway-adapters/default-gateway.js';
import { type Emulator, startEmulator } from '@settle/stripe-emulator';
import { stripeWebhookEndpoints } from '../../src/gateway-adapters/stripe/webhook-endpoints.js';
import { buildApp } from '../../src/http/app.js';
import type { GatewayRow } from '../../src/store/schema.js';
import { ADMIN_KEY, describeEachDatabase } from '../support/harness.js';

const record = (over: Partial<GatewayRow> = {}) =>
  ({
    id: 'gw_test',
    webhook_secret_env: null,
    is_emulator: false,
    is_default: false,
    api_base: null,
    ...over,
  }) as GatewayRow;

let dir: string;
let emulator: Emulator;
let stripe: Stripe;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'settle-webhook-secrets-'));
  emulator = await startEmulator({ port: 0, stateFile: path.join(dir, 'emulator.json') });
  // Endpoints registered by earlier tests point at servers that are gone: no retries towards them.
  emulator.controls.configureWebhooks({ retryDelaysMs: [], timeoutMs: 2000 });
  stripe = new Stripe('sk_test_x', { host: '127.0.0.1', port: emulator.port, protocol: 'http', maxNetworkRetries: 0 });
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env.SETTLE_GATEWAY_TEST_WHSEC_RESOLVE;
  delete process.env.STRIPE_WEBHOOK_SECRET;
});

it('resolves a secret from the variable the gateway names first, else from the registered endpoint, else says what to set', () => {
  const secrets = new WebhookSecrets();
  const named = record({ webhook_secret_env: 'SETTLE_GATEWAY_TEST_WHSEC_RESOLVE', is_emulator: true });
  expect(secrets.resolve(named)).toEqual({
    missing: expect.stringContaining('Set the environment variable SETTLE_GATEWAY_TEST_WHSEC_RESOLVE'),
  });
  secrets.register('gw_test', 'whsec_registered');
  expect(secrets.resolve(named)).toEqual({ secret: 'whsec_registered' });
  process.env.SETTLE_GATEWAY_TEST_WHSEC_RESOLVE = 'whsec_from_env';
  expect(secrets.resolve(named)).toEqual({ secret: 'whsec_from_env' });
  const none = new WebhookSecrets();
  expect(none.resolve(record({ is_default: true }))).toEqual({
    missing: expect.stringContaining('set STRIPE_WEBHOOK_SECRET and restart'),
  });
  expect(none.resolve(record({ is_emulator: true }))).toEqual({
    missing: expect.stringContaining('registers its endpoint with the emulator'),
  });
  expect(none.resolve(record())).toEqual({ missing: expect.stringContaining('PATCH /v1/gateways/gw_test') });
});

it('registers with the emulator once, keeps the secret in the data directory (0600) and reuses it while the endpoint exists', async () => {
  const dataDir = mkdtempSync(path.join(dir, 'data-'));
  const gw = record({ id: 'gw_register', is_emulator: true, api_base: emulator.url });
  const api = stripeWebhookEndpoints({ secretKey: 'sk_test_x', apiBase: emulator.url });
  const register = (secrets: WebhookSecrets, baseUrl = 'http://127.0.0.1:3999') =>
    registerEmulatorEndpoint({ record: gw, baseUrl, dataDir, api, secrets, now: new Date() });

  const first = new WebhookSecrets();
  const created = await register(first);
  expect(created).toMatchObject({ how: 'registered', url: 'http://127.0.0.1:3999/v1/webhooks/gw_register' });
  const file = path.join(dataDir, EMULATOR_ENDPOINT_FILE);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const kept = JSON.parse(readFileSync(file, 'utf8'));
  expect(kept).toMatchObject({
    gateway_id: 'gw_register',
    endpoint_id: created.endpointId,
    url: created.url,
    secret: expect.stringMatching(/^whsec_/),
  });
  expect(first.resolve(gw)).toEqual({ secret: kept.secret });
  const endpoint = await stripe.webhookEndpoints.retrieve(created.endpointId);
  expect(endpoint).toMatchObject({ url: created.url, enabled_events: ['*'], status: 'enabled' });
  const endpointsAt = async (url: string) =>
    (await stripe.webhookEndpoints.list({ limit: 100 })).data.filter((e) => e.url === url).map((e) => e.id);

  // A restart (new process state), the emulator restarted on its state file: the same endpoint and secret.
  const again = new WebhookSecrets();
  expect(await register(again)).toMatchObject({ how: 'reused', endpointId: created.endpointId });
  expect(again.resolve(gw)).toEqual({ secret: kept.secret });
  expect(await endpointsAt(created.url)).toEqual([created.endpointId]);

  // Settle on another port (or the endpoint disabled): the same endpoint, pointed at the new URL and enabled.
  const moved = await register(new WebhookSecrets(), 'http://127.0.0.1:4000');
  expect(moved).toMatchObject({
    how: 'updated',
    endpointId: created.endpointId,
    url: 'http://127.0.0.1:4000/v1/webhooks/gw_register',
  });
  expect(await endpointsAt(created.url)).toEqual([]);
  expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ url: moved.url, secret: kept.secret });
  await stripe.webhookEndpoints.update(created.endpointId, { disabled: true });
  expect(await register(new WebhookSecrets(), 'http://127.0.0.1:4000')).toMatchObject({
    how: 'updated',
    endpointId: created.endpointId,
  });
  expect((await stripe.webhookEndpoints.retrieve(created.endpointId)).status).toBe('enabled');

  // The endpoint deleted at the emulator: registered again, the file replaced.
  await stripe.webhookEndpoints.del(created.endpointId);
  const replaced = await register(new WebhookSecrets());
  expect(replaced.how).toBe('registered');
  expect(replaced.endpointId).not.toBe(created.endpointId);
  expect(JSON.parse(readFileSync(file, 'utf8')).endpoint_id).toBe(replaced.endpointId);

  // An unreadable file: a new endpoint.
  writeFileSync(file, '{not json');
  expect((await register(new WebhookSecrets())).how).toBe('registered');
});

it('start-up: a configured variable means no registration; a failed registration is reported, not thrown', async () => {
  const dataDir = mkdtempSync(path.join(dir, 'data-'));
  let calls = 0;
  const failing = () => {
    calls += 1;
    return {
      create: async () => Promise.reject(new Error('404 no such route')),
      retrieve: async () => undefined,
      update: async () => undefined,
    };
  };
  const base = { baseUrl: 'http://127.0.0.1:3000', dataDir, secrets: new WebhookSecrets(), now: new Date() };
  process.env.STRIPE_WEBHOOK_SECRET = 'whsec_configured';
  const configured = await setUpWebhookSecret({
    ...base,
    record: record({ is_emulator: true, webhook_secret_env: 'STRIPE_WEBHOOK_SECRET' }),
    api: failing,
  });
  expect(configured).toEqual({ ok: true, description: 'signing secret from STRIPE_WEBHOOK_SECRET' });
  expect(calls).toBe(0);
  const failed = await setUpWebhookSecret({ ...base, record: record({ is_emulator: true }), api: failing });
  expect(failed.ok).toBe(false);
  expect(failed.description).toContain('could not register with the emulator (404 no such route)');
  const plain = await setUpWebhookSecret({ ...base, record: record({ id: 'gw_plain' }), api: failing });
  expect(plain.ok).toBe(false);
  expect(plain.description).toContain('PATCH /v1/gateways/gw_plain');
  expect(calls).toBe(1);
});

describeEachDatabase('webhook secrets with the emulator', (get) => {
  it("STRIPE_WEBHOOK_SECRET becomes the default gateway's secret variable (the emulator too); its value is never shown", async () => {
    const h = get();
    process.env.STRIPE_WEBHOOK_SECRET = 'whsec_default_gateway_secret_value';
    const gateway = await setUpDefaultGateway(
      {
        stripeSecretKey: undefined,
        stripeApiBase: emulator.url,
        emulatorPort: 0,
        dataDir: dir,
        stripeWebhookSecret: 'whsec_default_gateway_secret_value',
      },
      h.deps,
    );
    expect(gateway.record).toMatchObject({ is_emulator: true, webhook_secret_env: 'STRIPE_WEBHOOK_SECRET' });
    const res = await h.request('GET', `/v1/gateways/${gateway.record.id}`);
    expect(res.body).toMatchObject({ webhook_secret_env: 'STRIPE_WEBHOOK_SECRET', webhook_secret_configured: true });
    expect(JSON.stringify((await h.request('GET', '/v1/gateways')).body)).not.toContain(
      'whsec_default_gateway_secret_value',
    );
    await h.deps.db
      .updateTable('gateways')
      .set({ webhook_secret_env: null })
      .where('id', '=', gateway.record.id)
      .execute();
  });

  it("the emulator's signed deliveries are accepted and stored once; the registered secret appears in no answer, log or table", async () => {
    const h = get();
    h.clock.set(new Date()); // the emulator signs with the wall clock
    const logs: string[] = [];
    const stream = new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) });
    const secrets = new WebhookSecrets();
    const app = await buildApp({
      deps: h.deps,
      bootstrapApiKey: ADMIN_KEY,
      webhookSecrets: secrets,
      logger: { level: 'trace', stream },
    });
    try {
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      const gw = await ensureDefaultEmulatorGateway(h.deps, { apiBase: emulator.url });
      const dataDir = mkdtempSync(path.join(dir, 'data-'));
      const setUp = await setUpWebhookSecret({
        record: gw,
        baseUrl: address,
        dataDir,
        secrets,
        now: new Date(),
        api: () => stripeWebhookEndpoints({ secretKey: 'sk_test_x', apiBase: emulator.url }),
      });
      expect(setUp.ok, setUp.description).toBe(true);
      const { secret, endpoint_id: endpointId } = JSON.parse(
        readFileSync(path.join(dataDir, EMULATOR_ENDPOINT_FILE), 'utf8'),
      ) as { secret: string; endpoint_id: string };

      const pi = await stripe.paymentIntents.create({
        amount: 2000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, // no return_url: Stripe's rule since 2023-08-16
      });
      await emulator.controls.settleWebhooks();
      const mine = emulator.controls.webhookDeliveries().filter((d) => d.endpointId === endpointId);
      const ours = await h.deps.db.selectFrom('webhook_events').selectAll().where('gateway_id', '=', gw.id).execute();
      expect(ours.filter((e) => e.object_id === pi.id).map((e) => e.type)).toEqual(
        expect.arrayContaining(['payment_intent.created', 'payment_intent.succeeded']),
      );
      expect(mine.map((d) => d.eventId).sort()).toEqual(ours.map((e) => e.event_id).sort());
      expect(mine.every((d) => d.status === 200)).toBe(true);
      expect(ours.every((e) => e.deliveries === 1 && e.livemode === false)).toBe(true);

      // A delivery signed with another secret is refused.
      const body = JSON.stringify(ours[0]?.payload);
      const forged = Stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_not_the_one' });
      const refused = await app.inject({
        method: 'POST',
        url: `/v1/webhooks/${gw.id}`,
        headers: { 'content-type': 'application/json', 'stripe-signature': forged },
        payload: body,
      });
      expect(refused.statusCode).toBe(400);

      const answers = [
        (await app.inject({ method: 'GET', url: '/v1/gateways', headers: { authorization: `Bearer ${ADMIN_KEY}` } }))
          .body,
        (
          await app.inject({
            method: 'GET',
            url: `/v1/gateways/${gw.id}`,
            headers: { authorization: `Bearer ${ADMIN_KEY}` },
          })
        ).body,
        (
          await app.inject({
            method: 'GET',
            url: '/v1/webhook-events?limit=200',
            headers: { authorization: `Bearer ${ADMIN_KEY}` },
          })
        ).body,
        (await app.inject({ method: 'GET', url: '/openapi.json' })).body,
      ];
      const tables = JSON.stringify([
        await h.deps.db.selectFrom('gateways').selectAll().execute(),
        await h.deps.db.selectFrom('gateway_logs').selectAll().execute(),
        await h.deps.db.selectFrom('webhook_events').selectAll().execute(),
        await h.deps.db.selectFrom('settings').selectAll().execute(),
      ]);
      expect(logs.length).toBeGreaterThan(0);
      for (const text of [...answers, logs.join(''), tables, setUp.description]) expect(text).not.toContain(secret);
    } finally {
      await app.close();
    }
  });
});
