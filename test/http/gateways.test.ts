import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import {
  ensureDefaultEmulatorGateway,
  ensureDefaultStripeGateway,
  getDefaultGateway,
  requireGateway,
} from '../../src/app/gateway-records.js';
import { WebhookSecrets } from '../../src/app/webhooks/secrets.js';
import { gatewayHostRules, type GatewayHostRules } from '../../src/domain/host-policy.js';
import { setUpDefaultGateway } from '../../src/gateway-adapters/default-gateway.js';
import { GatewayRegistry } from '../../src/gateway-adapters/registry.js';
import type { GatewayRow } from '../../src/store/schema.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';

const SECRET = 'sk_test_supersecret';
const WEBHOOK_SECRET = 'whsec_supersecretwebhook';

async function post(h: Harness, body: Record<string, unknown>) {
  const res = await h.request('POST', '/v1/gateways', body);
  if (res.status !== 201) throw new Error(`POST /v1/gateways failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function countRows(h: Harness, where = sql`true`): Promise<number> {
  const row = await sql<{ n: number }>`select count(*)::int8 as n from gateways where ${where}`.execute(h.deps.db);
  return row.rows[0]!.n;
}

async function defaults(h: Harness): Promise<string[]> {
  const rows = await h.deps.db.selectFrom('gateways').select('id').where('is_default', '=', true).execute();
  return rows.map((r) => r.id);
}

function expectError(res: { status: number; body: any }, status: number, param: string, code?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.param).toBe(param);
  if (code) expect(res.body.error.code).toBe(code);
}

const stripe = {
  name: 'Stripe US',
  provider: 'stripe',
  settlement_currency: 'usd',
  secret_key_env: 'SETTLE_GATEWAY_TEST_SECRET_X',
};

afterEach(() => {
  delete process.env.SETTLE_GATEWAY_TEST_SECRET_X;
  delete process.env.SETTLE_GATEWAY_TEST_WEBHOOK_X;
});

/** Every gateway row as it is (to prove a refused request changed nothing). */
async function snapshot(h: Harness): Promise<string> {
  return JSON.stringify(await h.deps.db.selectFrom('gateways').selectAll().orderBy('id').execute());
}

/** Runs `body` with the server's host rules set to `rules` (as SETTLE_GATEWAY_API_BASE_ALLOW and STRIPE_API_BASE would). */
async function withHostRules<T>(h: Harness, rules: GatewayHostRules, body: () => Promise<T>): Promise<T> {
  const before = h.deps.gatewayHosts;
  h.deps.gatewayHosts = rules;
  try {
    return await body();
  } finally {
    h.deps.gatewayHosts = before;
  }
}

let legacyCount = 0;
/** A record as one made before the credential and api_base rules could be (written straight to the database). */
async function legacyRecord(h: Harness, over: Partial<GatewayRow>): Promise<GatewayRow> {
  const now = new Date('2026-11-24T12:00:00Z');
  legacyCount += 1;
  const id = `gw_legacy${String(legacyCount).padStart(17, '0')}`;
  await h.deps.db
    .insertInto('gateways')
    .values({
      id,
      name: `Legacy ${legacyCount}`,
      provider: 'stripe',
      mode: 'test',
      settlement_currency: 'USD',
      rate_limit_per_second: 25,
      secret_key_env: 'SETTLE_GATEWAY_TEST_SECRET_X',
      webhook_secret_env: null,
      api_base: 'http://127.0.0.1:9',
      metadata: '{}',
      created_at: now,
      updated_at: now,
      ...over,
    } as never)
    .execute();
  return h.deps.db.selectFrom('gateways').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

describeEachDatabase('gateways API', (get) => {
  it('creates, retrieves, lists and updates a gateway, with defaults by mode', async () => {
    const h = get();
    const res = await h.request('POST', '/v1/gateways', {
      ...stripe,
      webhook_secret_env: 'SETTLE_GATEWAY_TEST_WEBHOOK_X',
      metadata: { team: 'payments' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const gw = res.body;
    expect(gw.id).toMatch(/^gw_[0-9a-z]{26}$/);
    expect(gw).toMatchObject({
      object: 'gateway',
      name: 'Stripe US',
      provider: 'stripe',
      mode: 'test',
      is_default: false,
      settlement_currency: 'USD',
      rate_limit_per_second: 25,
      secret_key_env: 'SETTLE_GATEWAY_TEST_SECRET_X',
      webhook_secret_env: 'SETTLE_GATEWAY_TEST_WEBHOOK_X',
      credentials_configured: false,
      webhook_secret_configured: false,
      api_base: null,
      is_emulator: false,
      metadata: { team: 'payments' },
    });
    expect((await h.request('GET', `/v1/gateways/${gw.id}`)).body).toEqual(gw);

    const live = await post(h, { ...stripe, name: 'Stripe live', mode: 'live', settlement_currency: 'EUR' });
    expect(live).toMatchObject({
      mode: 'live',
      rate_limit_per_second: 100,
      settlement_currency: 'EUR',
      api_base: null,
    });
    const spreedly = await post(h, {
      ...stripe,
      name: 'Spreedly',
      provider: 'spreedly',
      rate_limit_per_second: 7,
      api_base: 'http://127.0.0.1:12111/',
    });
    expect(spreedly).toMatchObject({
      provider: 'spreedly',
      rate_limit_per_second: 7,
      api_base: 'http://127.0.0.1:12111',
      webhook_secret_env: null,
    });

    const listed = await h.request('GET', '/v1/gateways');
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((x: any) => x.id).slice(0, 3)).toEqual([spreedly.id, live.id, gw.id]);
    expect((await h.request('GET', '/v1/gateways?provider=spreedly')).body.data.map((x: any) => x.id)).toContain(
      spreedly.id,
    );
    expect((await h.request('GET', '/v1/gateways?mode=live')).body.data.every((x: any) => x.mode === 'live')).toBe(
      true,
    );
    const page = await h.request('GET', '/v1/gateways?limit=2');
    expect(page.body).toMatchObject({ has_more: true, next_cursor: live.id });
    expect((await h.request('GET', '/v1/gateways/gw_00000000000000000000000000')).status).toBe(404);

    const patched = await h.request('PATCH', `/v1/gateways/${gw.id}`, {
      name: 'Stripe main',
      settlement_currency: 'gbp',
      rate_limit_per_second: 10,
      secret_key_env: 'STRIPE_OTHER_KEY',
      webhook_secret_env: null,
      api_base: 'http://localhost:12111',
      metadata: { team: null, region: 'eu' },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Stripe main',
      provider: 'stripe',
      mode: 'test',
      settlement_currency: 'GBP',
      rate_limit_per_second: 10,
      secret_key_env: 'STRIPE_OTHER_KEY',
      webhook_secret_env: null,
      api_base: 'http://localhost:12111',
      metadata: { region: 'eu' },
    });
    expect((await h.request('GET', `/v1/gateways/${gw.id}`)).body).toEqual(patched.body);
    const cleared = await h.request('PATCH', `/v1/gateways/${gw.id}`, { api_base: null });
    expect(cleared.body.api_base).toBeNull();
    expect((await h.request('PATCH', '/v1/gateways/gw_00000000000000000000000000', { name: 'x' })).status).toBe(404);
  });

  it('rejects bad input naming the field and writes nothing', async () => {
    const h = get();
    const gw = await post(h, { ...stripe, name: 'Unchanged' });
    const live = await post(h, { ...stripe, name: 'Live unchanged', mode: 'live' });
    const before = await countRows(h);
    const bad: [Record<string, unknown>, string, string?][] = [
      [{ ...stripe, provider: 'paypal' }, 'provider'],
      [{ ...stripe, mode: 'prod' }, 'mode'],
      [{ ...stripe, settlement_currency: 'ABC' }, 'settlement_currency', 'invalid_currency'],
      [{ ...stripe, settlement_currency: 'US' }, 'settlement_currency'],
      [{ ...stripe, rate_limit_per_second: 0 }, 'rate_limit_per_second'],
      [{ ...stripe, rate_limit_per_second: 1.5 }, 'rate_limit_per_second'],
      [{ ...stripe, rate_limit_per_second: 20000 }, 'rate_limit_per_second'],
      [{ ...stripe, rate_limit_per_second: '25' }, 'rate_limit_per_second'],
      [{ ...stripe, secret_key_env: 'stripe_secret_key' }, 'secret_key_env', 'invalid_env_var_name'],
      [{ ...stripe, secret_key_env: 'STRIPE=1' }, 'secret_key_env', 'invalid_env_var_name'],
      [{ ...stripe, secret_key_env: '1STRIPE' }, 'secret_key_env', 'invalid_env_var_name'],
      [{ ...stripe, secret_key_env: SECRET }, 'secret_key_env', 'secret_value_not_accepted'],
      [{ ...stripe, webhook_secret_env: 'whsec' }, 'webhook_secret_env', 'invalid_env_var_name'],
      [{ ...stripe, api_base: 'ftp://x' }, 'api_base', 'invalid_api_base'],
      [{ ...stripe, api_base: 'not a url' }, 'api_base', 'invalid_api_base'],
      [{ ...stripe, api_base: 'http://user:pass@127.0.0.1:1' }, 'api_base', 'invalid_api_base'],
      [{ ...stripe, api_base: 'http://127.0.0.1:1/v1?x=1' }, 'api_base', 'invalid_api_base'],
      [{ ...stripe, mode: 'live', api_base: 'http://127.0.0.1:12111' }, 'api_base', 'live_api_base_not_allowed'],
      [{ ...stripe, is_emulator: true }, 'is_emulator', 'parameter_unknown'],
      [{ ...stripe, secret_key: SECRET }, 'secret_key', 'parameter_unknown'],
      [{ ...stripe, name: '' }, 'name'],
      [{ ...stripe, provider: undefined }, 'provider', 'parameter_missing'],
      [{ ...stripe, secret_key_env: undefined }, 'secret_key_env', 'parameter_missing'],
    ];
    for (const [body, param, code] of bad) {
      const res = await h.request('POST', '/v1/gateways', body);
      expectError(res, 400, param, code);
      expect(JSON.stringify(res.body)).not.toContain(SECRET);
    }
    expect(await countRows(h)).toBe(before);

    const badPatch: [string, Record<string, unknown>, string, string?][] = [
      [gw.id, { provider: 'spreedly' }, 'provider', 'immutable_field'],
      [gw.id, { provider: 'stripe' }, 'provider', 'immutable_field'],
      [gw.id, { mode: 'live' }, 'mode', 'immutable_field'],
      [gw.id, { settlement_currency: 'XYZ' }, 'settlement_currency', 'invalid_currency'],
      [gw.id, { rate_limit_per_second: 0 }, 'rate_limit_per_second'],
      [gw.id, { rate_limit_per_second: 1.5 }, 'rate_limit_per_second'],
      [gw.id, { rate_limit_per_second: 20000 }, 'rate_limit_per_second'],
      [gw.id, { secret_key_env: 'lower_case' }, 'secret_key_env', 'invalid_env_var_name'],
      [gw.id, { secret_key_env: 'A=B' }, 'secret_key_env', 'invalid_env_var_name'],
      [gw.id, { secret_key_env: null }, 'secret_key_env'],
      [gw.id, { api_base: 'ftp://x' }, 'api_base', 'invalid_api_base'],
      [gw.id, { is_emulator: true }, 'is_emulator', 'parameter_unknown'],
      [gw.id, { name: 'ok', colour: 'red' }, 'colour', 'parameter_unknown'],
      [live.id, { api_base: 'http://127.0.0.1:12111' }, 'api_base', 'live_api_base_not_allowed'],
      [live.id, { is_default: true, api_base: 'http://127.0.0.1:12111' }, 'api_base', 'live_api_base_not_allowed'],
    ];
    for (const [id, body, param, code] of badPatch)
      expectError(await h.request('PATCH', `/v1/gateways/${id}`, body), 400, param, code);
    expect((await h.request('PATCH', `/v1/gateways/${gw.id}`, {})).status).toBe(400);
    expect((await h.request('GET', `/v1/gateways/${gw.id}`)).body).toEqual(gw);
    expect((await h.request('GET', `/v1/gateways/${live.id}`)).body).toEqual(live);
    expect(await countRows(h)).toBe(before);
  });

  it('needs the admin scope to create or change a gateway; read is enough to list', async () => {
    const h = get();
    const gw = await post(h, { ...stripe, name: 'Scoped' });
    const read = await h.keyWith(['read']);
    const write = await h.keyWith(['read', 'write']);
    const before = await countRows(h);
    const denied = await h.request('POST', '/v1/gateways', stripe, {}, write);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ type: 'permission_error', code: 'insufficient_scope' });
    expect((await h.request('PATCH', `/v1/gateways/${gw.id}`, { is_default: true }, {}, write)).status).toBe(403);
    expect((await h.request('POST', '/v1/gateways', stripe, {}, read)).status).toBe(403);
    expect(await countRows(h)).toBe(before);
    expect((await h.request('GET', `/v1/gateways/${gw.id}`, undefined, {}, read)).body.is_default).toBe(false);
    expect((await h.request('GET', '/v1/gateways', undefined, {}, read)).status).toBe(200);
    expect((await h.request('GET', '/v1/gateways', undefined, {}, null)).status).toBe(401);
    const admin = await h.keyWith(['admin']);
    expect((await h.request('PATCH', `/v1/gateways/${gw.id}`, { name: 'Scoped by admin' }, {}, admin)).status).toBe(
      200,
    );
  });

  it('keeps exactly one default when another gateway is made default', async () => {
    const h = get();
    const a = await post(h, { ...stripe, name: 'Default A', is_default: true });
    expect(a.is_default).toBe(true);
    expect(await defaults(h)).toEqual([a.id]);
    const b = await post(h, { ...stripe, name: 'Default B', is_default: true });
    expect(b.is_default).toBe(true);
    expect(await defaults(h)).toEqual([b.id]);
    expect((await h.request('GET', `/v1/gateways/${a.id}`)).body.is_default).toBe(false);
    const c = await post(h, { ...stripe, name: 'Default C' });
    const res = await h.request('PATCH', `/v1/gateways/${c.id}`, { is_default: true });
    expect(res.body.is_default).toBe(true);
    expect(await defaults(h)).toEqual([c.id]);
    expect((await h.request('GET', '/v1/gateways?is_default=true')).body.data.map((x: any) => x.id)).toEqual([c.id]);
    expect((await h.request('PATCH', `/v1/gateways/${c.id}`, { is_default: true })).body.is_default).toBe(true);
    expect(await defaults(h)).toEqual([c.id]);
    expect((await getDefaultGateway(h.deps))?.id).toBe(c.id);
    expect((await requireGateway(h.deps, b.id)).secret_key_env).toBe('SETTLE_GATEWAY_TEST_SECRET_X');
    await expect(requireGateway(h.deps, 'gw_00000000000000000000000000')).rejects.toMatchObject({
      code: 'resource_missing',
      param: 'gateway_id',
    });
    const unset = await h.request('PATCH', `/v1/gateways/${c.id}`, { is_default: false });
    expect(unset.body.is_default).toBe(false);
    expect(await defaults(h)).toEqual([]);
    expect(await getDefaultGateway(h.deps)).toBeUndefined();
    // the database itself refuses a second default
    await h.deps.db.updateTable('gateways').set({ is_default: true }).where('id', '=', a.id).execute();
    await expect(
      h.deps.db.updateTable('gateways').set({ is_default: true }).where('id', '=', b.id).execute(),
    ).rejects.toThrow();
  });

  it('ends with exactly one default under 10 concurrent PATCHes making different gateways default', async () => {
    const h = get();
    const gateways = [];
    for (let i = 0; i < 10; i += 1) gateways.push(await post(h, { ...stripe, name: `Race ${i}` }));
    const results = await Promise.all(
      gateways.map((g) => h.request('PATCH', `/v1/gateways/${g.id}`, { is_default: true })),
    );
    for (const r of results) expect(r.status, JSON.stringify(r.body)).toBe(200);
    const after = await defaults(h);
    expect(after).toHaveLength(1);
    expect(gateways.map((g) => g.id)).toContain(after[0]);
    const listed = await h.request('GET', '/v1/gateways?limit=200');
    expect(listed.body.data.filter((x: any) => x.is_default)).toHaveLength(1);
  });

  it('never returns a secret value, even when its variable is set', async () => {
    const h = get();
    process.env.SETTLE_GATEWAY_TEST_SECRET_X = SECRET;
    process.env.SETTLE_GATEWAY_TEST_WEBHOOK_X = WEBHOOK_SECRET;
    const created = await h.request('POST', '/v1/gateways', {
      ...stripe,
      name: 'Configured',
      webhook_secret_env: 'SETTLE_GATEWAY_TEST_WEBHOOK_X',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      secret_key_env: 'SETTLE_GATEWAY_TEST_SECRET_X',
      credentials_configured: true,
      webhook_secret_configured: true,
    });
    const responses = [
      created,
      await h.request('GET', `/v1/gateways/${created.body.id}`),
      await h.request('GET', '/v1/gateways?limit=200'),
      await h.request('PATCH', `/v1/gateways/${created.body.id}`, { name: 'Configured still' }),
    ];
    for (const res of responses) {
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('supersecret');
    }
    const row = await h.deps.db
      .selectFrom('gateways')
      .selectAll()
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain('supersecret');
    delete process.env.SETTLE_GATEWAY_TEST_SECRET_X;
    const unset = await h.request('GET', `/v1/gateways/${created.body.id}`);
    expect(unset.body).toMatchObject({ credentials_configured: false, webhook_secret_configured: true });
  });

  it('ensureDefaultEmulatorGateway is idempotent, follows the port, and takes the default only when none exists', async () => {
    const h = get();
    await h.deps.db.updateTable('gateways').set({ is_default: false }).execute();
    const first = await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:12111' });
    expect(first).toMatchObject({
      name: 'Stripe emulator',
      provider: 'stripe',
      mode: 'test',
      is_emulator: true,
      is_default: true,
      api_base: 'http://127.0.0.1:12111',
      rate_limit_per_second: 25,
      secret_key_env: null,
    });
    const again = await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:12111' });
    expect(again.id).toBe(first.id);
    expect(again.version).toBe(first.version);
    expect(await countRows(h, sql`is_emulator`)).toBe(1);
    const moved = await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:40001' });
    expect(moved).toMatchObject({ id: first.id, api_base: 'http://127.0.0.1:40001', is_default: true });
    expect(await countRows(h, sql`is_emulator`)).toBe(1);
    const view = await h.request('GET', `/v1/gateways/${first.id}`);
    expect(view.body).toMatchObject({
      is_emulator: true,
      credentials_configured: true,
      api_base: 'http://127.0.0.1:40001',
    });

    // another default stays the default
    const other = await post(h, { ...stripe, name: 'Chosen default', is_default: true });
    const third = await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:40001' });
    expect(third.is_default).toBe(false);
    expect(await defaults(h)).toEqual([other.id]);
    await Promise.all(
      Array.from({ length: 5 }, () => ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:40002' })),
    );
    expect(await countRows(h, sql`is_emulator`)).toBe(1);
    await expect(ensureDefaultEmulatorGateway(h.deps, { apiBase: 'ftp://x' })).rejects.toMatchObject({
      code: 'invalid_api_base',
    });
  });

  it('ensureDefaultStripeGateway finds or creates "Stripe test", follows api_base and takes the default from the emulator', async () => {
    const h = get();
    await h.deps.db.updateTable('gateways').set({ is_default: false }).execute();
    const emulator = await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:12111' });
    expect(emulator.is_default).toBe(true);
    process.env.SETTLE_GATEWAY_TEST_SECRET_X = SECRET;
    const first = await ensureDefaultStripeGateway(h.deps, {
      secretKeyEnv: 'SETTLE_GATEWAY_TEST_SECRET_X',
      apiBase: 'http://127.0.0.1:12111',
    });
    expect(first).toMatchObject({
      name: 'Stripe test',
      mode: 'test',
      is_default: true,
      is_emulator: false,
      secret_key_env: 'SETTLE_GATEWAY_TEST_SECRET_X',
      api_base: 'http://127.0.0.1:12111',
      rate_limit_per_second: 25,
    });
    expect(await defaults(h)).toEqual([first.id]);
    const second = await ensureDefaultStripeGateway(h.deps, { secretKeyEnv: 'SETTLE_GATEWAY_TEST_SECRET_X' });
    expect(second).toMatchObject({ id: first.id, api_base: null, is_default: true });
    expect(await countRows(h, sql`name = 'Stripe test'`)).toBe(1);
    await expect(
      ensureDefaultStripeGateway(h.deps, {
        secretKeyEnv: 'SETTLE_GATEWAY_TEST_SECRET_X',
        mode: 'live',
        apiBase: 'http://127.0.0.1:1',
      }),
    ).rejects.toMatchObject({
      code: 'live_api_base_not_allowed',
    });
    await expect(ensureDefaultStripeGateway(h.deps, { secretKeyEnv: SECRET })).rejects.toMatchObject({
      code: 'secret_value_not_accepted',
    });
    process.env.SETTLE_GATEWAY_TEST_SECRET_X = 'sk_live_supersecret';
    const live = await ensureDefaultStripeGateway(h.deps, { secretKeyEnv: 'SETTLE_GATEWAY_TEST_SECRET_X' });
    expect(live).toMatchObject({ name: 'Stripe live', mode: 'live', rate_limit_per_second: 100, is_default: false });
  });

  it('refuses secret variables a gateway may not name: 400 naming the field, nothing written, no value echoed', async () => {
    const h = get();
    const plain = await post(h, {
      ...stripe,
      name: 'Names: Stripe itself',
      secret_key_env: 'STRIPE_SECRET_KEY',
      webhook_secret_env: 'STRIPE_WEBHOOK_SECRET',
    });
    const pointed = await post(h, {
      ...stripe,
      name: 'Names: pointed',
      api_base: 'http://127.0.0.1:12111',
      webhook_secret_env: 'SETTLE_GATEWAY_TEST_WEBHOOK_X',
    });
    const before = await snapshot(h);
    const loopback = 'http://127.0.0.1:12111';
    const bad: [Record<string, unknown>, string, string][] = [
      [{ secret_key_env: 'DATABASE_URL' }, 'secret_key_env', 'env_var_not_allowed'],
      [{ secret_key_env: 'SETTLE_API_KEY' }, 'secret_key_env', 'env_var_not_allowed'],
      [{ secret_key_env: 'SETTLE_DATA_DIR' }, 'secret_key_env', 'env_var_not_allowed'],
      [{ secret_key_env: 'PATH' }, 'secret_key_env', 'env_var_not_allowed'],
      [{ secret_key_env: 'HOME' }, 'secret_key_env', 'env_var_not_allowed'],
      [{ secret_key_env: 'AWS_SECRET_ACCESS_KEY' }, 'secret_key_env', 'env_var_not_allowed'],
      [{ secret_key_env: 'SETTLE_GATEWAY_' }, 'secret_key_env', 'env_var_not_allowed'],
      [{ secret_key_env: 'STRIPE_' }, 'secret_key_env', 'env_var_not_allowed'],
      [{ secret_key_env: 'STRIPE' }, 'secret_key_env', 'env_var_not_allowed'],
      [{ secret_key_env: 'stripe_secret_key' }, 'secret_key_env', 'invalid_env_var_name'],
      [{ secret_key_env: 'settle_gateway_key' }, 'secret_key_env', 'invalid_env_var_name'],
      [{ secret_key_env: 'SETTLE_GATEWAY_TIMEOUT_MS' }, 'secret_key_env', 'env_var_reserved'],
      [{ secret_key_env: 'SETTLE_GATEWAY_API_BASE_ALLOW' }, 'secret_key_env', 'env_var_reserved'],
      [{ secret_key_env: 'STRIPE_API_BASE' }, 'secret_key_env', 'env_var_reserved'],
      [{ secret_key_env: 'STRIPE_SECRET_KEY', api_base: loopback }, 'secret_key_env', 'env_var_reserved_for_stripe'],
      [
        { secret_key_env: 'STRIPE_WEBHOOK_SECRET', api_base: loopback },
        'secret_key_env',
        'env_var_reserved_for_stripe',
      ],
      [
        { webhook_secret_env: 'STRIPE_WEBHOOK_SECRET', api_base: loopback },
        'webhook_secret_env',
        'env_var_reserved_for_stripe',
      ],
      [
        { webhook_secret_env: 'STRIPE_SECRET_KEY', api_base: 'http://localhost:1' },
        'webhook_secret_env',
        'env_var_reserved_for_stripe',
      ],
      [{ webhook_secret_env: 'DATABASE_URL' }, 'webhook_secret_env', 'env_var_not_allowed'],
      [{ webhook_secret_env: 'LOG_LEVEL' }, 'webhook_secret_env', 'env_var_not_allowed'],
      [{ webhook_secret_env: 'whsec_abc' }, 'webhook_secret_env', 'secret_value_not_accepted'],
      [{ provider: 'spreedly', secret_key_env: 'STRIPE_SECRET_KEY' }, 'secret_key_env', 'env_var_reserved_for_stripe'],
    ];
    for (const [fields, param, code] of bad) {
      const res = await h.request('POST', '/v1/gateways', { ...stripe, ...fields });
      expectError(res, 400, param, code);
      const value = process.env[String(fields[param])];
      if (value && value.length > 3) expect(JSON.stringify(res.body)).not.toContain(value);
    }
    const badPatch: [string, Record<string, unknown>, string, string][] = [
      [plain.id, { api_base: loopback }, 'api_base', 'env_var_reserved_for_stripe'],
      [
        plain.id,
        { api_base: loopback, secret_key_env: 'STRIPE_SECRET_KEY' },
        'api_base',
        'env_var_reserved_for_stripe',
      ],
      [plain.id, { secret_key_env: 'SETTLE_API_KEY' }, 'secret_key_env', 'env_var_not_allowed'],
      [pointed.id, { secret_key_env: 'STRIPE_SECRET_KEY' }, 'secret_key_env', 'env_var_reserved_for_stripe'],
      [
        pointed.id,
        { webhook_secret_env: 'STRIPE_WEBHOOK_SECRET' },
        'webhook_secret_env',
        'env_var_reserved_for_stripe',
      ],
      [pointed.id, { webhook_secret_env: 'HOME' }, 'webhook_secret_env', 'env_var_not_allowed'],
      [pointed.id, { secret_key_env: 'DATABASE_URL', name: 'renamed' }, 'secret_key_env', 'env_var_not_allowed'],
    ];
    for (const [id, body, param, code] of badPatch)
      expectError(await h.request('PATCH', `/v1/gateways/${id}`, body), 400, param, code);
    expect(await snapshot(h)).toBe(before);
    // the legal changes still go through: Stripe itself may name STRIPE_*; a pointed gateway names its own variables
    expect(
      (await h.request('PATCH', `/v1/gateways/${pointed.id}`, { api_base: null, secret_key_env: 'STRIPE_SECRET_KEY' }))
        .status,
    ).toBe(200);
    expect(
      (
        await h.request('PATCH', `/v1/gateways/${plain.id}`, {
          api_base: loopback,
          secret_key_env: 'STRIPE_EU_KEY',
          webhook_secret_env: null,
        })
      ).status,
    ).toBe(200);
  });

  it('refuses api_base hosts that are not loopback or listed, and link-local and metadata ones even when listed', async () => {
    const h = get();
    const gw = await post(h, { ...stripe, name: 'Hosts: test' });
    const live = await post(h, { ...stripe, name: 'Hosts: live', mode: 'live' });
    const forbidden = [
      'http://169.254.169.254',
      'http://169.254.169.254:80',
      'http://2852039166',
      'http://0251.0376.0251.0376',
      'http://0xa9fea9fe',
      'http://0xa9.0xfe.0xa9.0xfe',
      'http://169.254.43518',
      'http://[::ffff:169.254.169.254]',
      'http://[::ffff:a9fe:a9fe]',
      'http://[fe80::1]',
      'http://[fd00:ec2::254]',
      'http://100.100.100.200',
      'http://0.0.0.0:12111',
      'http://[::]:12111',
    ];
    const notListed = [
      'http://10.0.0.1',
      'http://167772161',
      'http://192.168.1.10:8080',
      'https://stripe.proxy.test',
      'https://api.stripe.com',
      'http://8.8.8.8',
    ];
    const check = async (allowList: string[]) => {
      const before = await snapshot(h);
      const cases: [string, Record<string, unknown>, string][] = [
        ...forbidden.map((api_base): [string, Record<string, unknown>, string] => [
          gw.id,
          { api_base },
          'api_base_host_forbidden',
        ]),
        ['', { api_base: 'ftp://127.0.0.1' }, 'invalid_api_base'],
        ['', { api_base: 'http://127.0.0.1:1/v1' }, 'invalid_api_base'],
        ['', { api_base: 'gopher://127.0.0.1' }, 'invalid_api_base'],
        [live.id, { mode: 'live', api_base: 'https://api.stripe.com' }, 'live_api_base_not_allowed'],
        [live.id, { mode: 'live', api_base: 'http://127.0.0.1:12111' }, 'live_api_base_not_allowed'],
      ];
      for (const api_base of notListed)
        if (!allowList.some((host) => api_base.includes(host)))
          cases.push([gw.id, { api_base }, 'api_base_host_not_allowed']);
      for (const [id, fields, code] of cases) {
        expectError(await h.request('POST', '/v1/gateways', { ...stripe, ...fields }), 400, 'api_base', code);
        if (id !== '') {
          const { mode: _mode, ...patch } = fields;
          expectError(await h.request('PATCH', `/v1/gateways/${id}`, patch), 400, 'api_base', code);
        }
      }
      expect(await snapshot(h)).toBe(before);
    };
    await check([]);
    const rules = gatewayHostRules(
      ['10.0.0.1', 'stripe.proxy.test', '169.254.169.254', '[fe80::1]', 'fd00:ec2::254', '0.0.0.0'],
      undefined,
    );
    await withHostRules(h, rules, async () => {
      await check(['10.0.0.1', '167772161', 'stripe.proxy.test']);
      expect((await post(h, { ...stripe, name: 'Hosts: listed', api_base: 'http://10.0.0.1:8080' })).api_base).toBe(
        'http://10.0.0.1:8080',
      );
      expect(
        (await post(h, { ...stripe, name: 'Hosts: listed, decimal', api_base: 'http://167772161' })).api_base,
      ).toBe('http://10.0.0.1');
      expect(
        (await post(h, { ...stripe, name: 'Hosts: listed name', api_base: 'https://stripe.proxy.test' })).api_base,
      ).toBe('https://stripe.proxy.test');
      expect((await h.request('PATCH', `/v1/gateways/${gw.id}`, { api_base: 'http://10.0.0.1' })).status).toBe(200);
    });
    for (const [given, stored] of [
      ['http://127.1:12111', 'http://127.0.0.1:12111'],
      ['http://2130706433:1', 'http://127.0.0.1:1'],
      ['http://[::1]:12111', 'http://[::1]:12111'],
      ['http://[::ffff:127.0.0.1]:1', 'http://[::ffff:7f00:1]:1'],
      ['http://LOCALHOST:1', 'http://localhost:1'],
    ]) {
      expect((await post(h, { ...stripe, name: `Hosts: ${given}`, api_base: given })).api_base).toBe(stored);
    }
  });

  it('never uses a record made before the rules: the registry refuses it and its secrets are never read', async () => {
    const h = get();
    process.env.SETTLE_GATEWAY_TEST_SECRET_X = SECRET;
    const registry = new GatewayRegistry();
    const refused = async (over: Partial<GatewayRow>, reason: RegExp) => {
      const record = await legacyRecord(h, over);
      let error: any;
      try {
        registry.forRecord(record);
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(over)).toMatchObject({ code: 'gateway_not_configured' });
      expect(error.message).toMatch(reason);
      const path = process.env.PATH ?? 'no path';
      expect(error.message).not.toContain(path);
      return record;
    };
    const byPath = await refused({ secret_key_env: 'PATH' }, /secret_key_env/);
    await refused({ secret_key_env: 'DATABASE_URL' }, /secret_key_env/);
    await refused({ secret_key_env: 'HOME', api_base: null }, /secret_key_env/);
    await refused({ secret_key_env: 'STRIPE_SECRET_KEY' }, /STRIPE_SECRET_KEY/);
    await refused({ api_base: 'http://169.254.169.254' }, /link-local/);
    await refused({ api_base: 'http://[fd00:ec2::254]' }, /metadata/);
    await refused({ api_base: 'http://10.0.0.1' }, /SETTLE_GATEWAY_API_BASE_ALLOW/);
    await refused({ mode: 'live', api_base: 'https://stripe.proxy.test' }, /live/);
    // what the API shows: a variable the record may not name is never read, even when it is set
    const view = await h.request('GET', `/v1/gateways/${byPath.id}`);
    expect(view.body).toMatchObject({ secret_key_env: 'PATH', credentials_configured: false });
    const hooks = await legacyRecord(h, { webhook_secret_env: 'PATH' });
    expect(new WebhookSecrets().resolve(hooks)).toHaveProperty('missing');
    expect((await h.request('GET', `/v1/gateways/${hooks.id}`)).body.webhook_secret_configured).toBe(false);
    // a listed host is usable, and a legal record too
    const listed = await legacyRecord(h, { api_base: 'http://10.0.0.1' });
    expect(() =>
      new GatewayRegistry({ hosts: gatewayHostRules(['10.0.0.1'], undefined) }).forRecord(listed),
    ).not.toThrow();
    expect(() => registry.forRecord(listed)).toThrow(/SETTLE_GATEWAY_API_BASE_ALLOW/);
  });

  it("keeps the operator's pairing of STRIPE_SECRET_KEY with STRIPE_API_BASE, which the API cannot make", async () => {
    const h = get();
    process.env.STRIPE_SECRET_KEY = 'sk_test_operatorkey123';
    process.env.STRIPE_WEBHOOK_SECRET = 'whsec_operatorsecret';
    try {
      const operatorBase = 'http://127.0.0.1:12111';
      const record = await ensureDefaultStripeGateway(h.deps, {
        secretKeyEnv: 'STRIPE_SECRET_KEY',
        apiBase: operatorBase,
        webhookSecretEnv: 'STRIPE_WEBHOOK_SECRET',
      });
      expect(record).toMatchObject({
        secret_key_env: 'STRIPE_SECRET_KEY',
        api_base: operatorBase,
        webhook_secret_env: 'STRIPE_WEBHOOK_SECRET',
      });
      const rules = gatewayHostRules([], `${operatorBase}/`);
      expect(() => new GatewayRegistry({ hosts: rules }).forRecord(record)).not.toThrow();
      expect(new WebhookSecrets().resolve(record, rules)).toEqual({ secret: 'whsec_operatorsecret' });
      // once STRIPE_API_BASE says something else, the record is an admin's pairing like any other
      expect(() =>
        new GatewayRegistry({ hosts: gatewayHostRules([], 'http://127.0.0.1:4000') }).forRecord(record),
      ).toThrow(/STRIPE_SECRET_KEY/);
      expect(new WebhookSecrets().resolve(record)).toHaveProperty('missing');
      await withHostRules(h, rules, async () => {
        expect((await h.request('GET', `/v1/gateways/${record.id}`)).body).toMatchObject({
          credentials_configured: true,
          webhook_secret_configured: true,
        });
        expect((await h.request('PATCH', `/v1/gateways/${record.id}`, { rate_limit_per_second: 20 })).status).toBe(200);
        const before = await snapshot(h);
        expectError(
          await h.request('PATCH', `/v1/gateways/${record.id}`, { api_base: 'http://127.0.0.1:4000' }),
          400,
          'api_base',
          'env_var_reserved_for_stripe',
        );
        expectError(
          await h.request('POST', '/v1/gateways', {
            ...stripe,
            secret_key_env: 'STRIPE_SECRET_KEY',
            api_base: operatorBase,
          }),
          400,
          'secret_key_env',
          'env_var_reserved_for_stripe',
        );
        expect(await snapshot(h)).toBe(before);
      });
      // the built-in emulator gateway may name both variables
      const emulator = await ensureDefaultEmulatorGateway(h.deps, {
        apiBase: 'http://127.0.0.1:12112',
        secretKeyEnv: 'STRIPE_SECRET_KEY',
        webhookSecretEnv: 'STRIPE_WEBHOOK_SECRET',
      });
      expect(() => new GatewayRegistry().forRecord(emulator)).not.toThrow();
      await expect(
        ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:12112', secretKeyEnv: 'DATABASE_URL' }),
      ).rejects.toMatchObject({ code: 'env_var_not_allowed' });
      await expect(ensureDefaultStripeGateway(h.deps, { secretKeyEnv: 'SETTLE_API_KEY' })).rejects.toMatchObject({
        code: 'env_var_not_allowed',
      });
      process.env.STRIPE_SECRET_KEY = 'sk_live_operatorkey123';
      await expect(
        ensureDefaultStripeGateway(h.deps, { secretKeyEnv: 'STRIPE_SECRET_KEY', apiBase: operatorBase }),
      ).rejects.toMatchObject({ code: 'live_api_base_not_allowed' });
      // startup says why, before anything is written or started
      const before = await snapshot(h);
      const startup = {
        stripeSecretKey: 'sk_live_operatorkey123',
        stripeApiBase: operatorBase,
        emulatorPort: 0,
        dataDir: '/nonexistent-settle-dir',
      };
      await expect(setUpDefaultGateway(startup, h.deps)).rejects.toThrow(
        /STRIPE_API_BASE cannot be used with a live Stripe key/,
      );
      expect(await snapshot(h)).toBe(before);
    } finally {
      delete process.env.STRIPE_SECRET_KEY;
      delete process.env.STRIPE_WEBHOOK_SECRET;
    }
  });
});
