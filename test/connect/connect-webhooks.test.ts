// The Connect webhook secret (M6): a gateway's `connect_webhook_secret_env` names the variable holding its Connect
// endpoint's signing secret. Events that carry `account` are accepted only signed with it, the platform's own only
// with `webhook_secret_env`'s; the other pairing is a 400 that stores nothing. The variable follows the naming rules
// of webhook_secret_env (docs/SECURITY.md).
import { afterAll, expect, it } from 'vitest';
import { processWebhookEvents } from '../../src/app/webhooks/processor.js';
import { describeEachDatabase } from '../support/harness.js';
import { countEvents, eventText, gatewayWithSecret, sendSigned, stripeEvent } from '../webhooks/intake-helpers.js';

const PLATFORM_ENV = 'SETTLE_GATEWAY_TEST_CONNECT_PLATFORM_SECRET';
const CONNECT_ENV = 'SETTLE_GATEWAY_TEST_CONNECT_SECRET';
const PLATFORM = 'whsec_platform_connect_test';
const CONNECT = 'whsec_connect_endpoint_test';

afterAll(() => {
  delete process.env[PLATFORM_ENV];
  delete process.env[CONNECT_ENV];
});

const connectEvent = () =>
  eventText(stripeEvent({ account: 'acct_1Connected', type: 'charge.succeeded' }, { object: 'charge', id: 'ch_c1' }));
const platformEvent = () => eventText(stripeEvent());

describeEachDatabase('the Connect webhook secret', (harness) => {
  let gateway = '';

  it('names the variable under the naming rules and shows whether it is set', async () => {
    const h = harness();
    process.env[CONNECT_ENV] = CONNECT;
    gateway = await gatewayWithSecret(h, PLATFORM_ENV, PLATFORM);
    for (const [value, code] of [
      ['PATH', 'env_var_not_allowed'],
      ['whsec_abc', 'secret_value_not_accepted'],
      ['DATABASE_URL', 'env_var_not_allowed'],
    ] as const) {
      const res = await h.request('PATCH', `/v1/gateways/${gateway}`, { connect_webhook_secret_env: value });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatchObject({ code, param: 'connect_webhook_secret_env' });
    }
    const unchanged = await h.request('GET', `/v1/gateways/${gateway}`);
    expect(unchanged.body).toMatchObject({
      connect_webhook_secret_env: null,
      connect_webhook_secret_configured: false,
    });
    const set = await h.request('PATCH', `/v1/gateways/${gateway}`, { connect_webhook_secret_env: CONNECT_ENV });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({
      connect_webhook_secret_env: CONNECT_ENV,
      connect_webhook_secret_configured: true,
      webhook_secret_configured: true,
    });
  });

  it("accepts a connected account's event signed with the Connect secret and refuses it signed with the platform's", async () => {
    const h = harness();
    const before = await countEvents(h, gateway);
    const wrong = await sendSigned(h, gateway, connectEvent(), PLATFORM);
    expect(wrong.status, JSON.stringify(wrong.body)).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: 'webhook_secret_mismatch' });
    expect(await countEvents(h, gateway)).toBe(before);
    const right = await sendSigned(h, gateway, connectEvent(), CONNECT);
    expect(right.status, JSON.stringify(right.body)).toBe(200);
    expect(await countEvents(h, gateway)).toBe(before + 1);
    // Stored, and recorded as not applied: Settle does not know the account (no connected_accounts row; M6).
    // (The processor needs a usable gateway record, so its key variable is set while it runs; nothing is sent.)
    process.env.SETTLE_GATEWAY_TEST_UNUSED_KEY = 'sk_test_unused';
    const summary = await processWebhookEvents(h.deps, { ids: [right.body.id as string] }).finally(() => {
      delete process.env.SETTLE_GATEWAY_TEST_UNUSED_KEY;
    });
    const stored = await h.request('GET', `/v1/webhook-events/${right.body.id}`);
    expect(summary, JSON.stringify(stored.body)).toMatchObject({ not_supported: 1, failed: 0 });
    expect(stored.body).toMatchObject({ status: 'not_supported' });
    expect(stored.body.outcome).toContain('acct_1Connected');
  });

  it('accepts a platform event signed with the platform secret and refuses it signed with the Connect secret', async () => {
    const h = harness();
    const before = await countEvents(h, gateway);
    const wrong = await sendSigned(h, gateway, platformEvent(), CONNECT);
    expect(wrong.status, JSON.stringify(wrong.body)).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: 'webhook_secret_mismatch' });
    const unknown = await sendSigned(h, gateway, platformEvent(), 'whsec_someone_else');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'signature_mismatch' });
    expect(await countEvents(h, gateway)).toBe(before);
    const right = await sendSigned(h, gateway, platformEvent(), PLATFORM);
    expect(right.status, JSON.stringify(right.body)).toBe(200);
    expect(await countEvents(h, gateway)).toBe(before + 1);
  });

  it('refuses Connect events when no Connect secret is configured, and a malformed account', async () => {
    const h = harness();
    const platformOnly = await gatewayWithSecret(h, PLATFORM_ENV, PLATFORM);
    const signedWithPlatform = await sendSigned(h, platformOnly, connectEvent(), PLATFORM);
    expect(signedWithPlatform.status).toBe(400);
    expect(signedWithPlatform.body.error).toMatchObject({ code: 'webhook_secret_mismatch' });
    const signedWithConnect = await sendSigned(h, platformOnly, connectEvent(), CONNECT);
    expect(signedWithConnect.status).toBe(400);
    expect(signedWithConnect.body.error).toMatchObject({ code: 'signature_mismatch' });
    const malformed = eventText(stripeEvent({ account: 42 }));
    const bad = await sendSigned(h, gateway, malformed, PLATFORM);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_event', param: 'account' });
    expect(await countEvents(h, platformOnly)).toBe(0);
  });

  it('with only a Connect secret: Connect events are accepted, platform events refused', async () => {
    const h = harness();
    const res = await h.request('POST', '/v1/gateways', {
      name: 'connect only',
      provider: 'stripe',
      settlement_currency: 'usd',
      secret_key_env: 'SETTLE_GATEWAY_TEST_UNUSED_KEY',
      connect_webhook_secret_env: CONNECT_ENV,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id as string;
    expect((await sendSigned(h, id, connectEvent(), CONNECT)).status).toBe(200);
    const platform = await sendSigned(h, id, platformEvent(), CONNECT);
    expect(platform.status).toBe(400);
    expect(platform.body.error).toMatchObject({ code: 'webhook_secret_mismatch' });
    expect(await countEvents(h, id)).toBe(1);
  });
});
