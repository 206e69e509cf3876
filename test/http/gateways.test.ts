import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { ensureDefaultEmulatorGateway, ensureDefaultStripeGateway, getDefaultGateway, requireGateway } from '../../src/app/gateways.js';
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

const stripe = { name: 'Stripe US', provider: 'stripe', settlement_currency: 'usd', secret_key_env: 'TEST_SECRET_X' };

afterEach(() => {
  delete process.env.TEST_SECRET_X;
  delete process.env.TEST_WEBHOOK_X;
});

describeEachDatabase('gateways API', (get) => {
  it('creates, retrieves, lists and updates a gateway, with defaults by mode', async () => {
    const h = get();
    const res = await h.request('POST', '/v1/gateways', { ...stripe, webhook_secret_env: 'TEST_WEBHOOK_X', metadata: { team: 'payments' } });
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
      secret_key_env: 'TEST_SECRET_X',
      webhook_secret_env: 'TEST_WEBHOOK_X',
      credentials_configured: false,
      webhook_secret_configured: false,
      api_base: null,
      is_emulator: false,
      metadata: { team: 'payments' },
    });
    expect((await h.request('GET', `/v1/gateways/${gw.id}`)).body).toEqual(gw);

    const live = await post(h, { ...stripe, name: 'Stripe live', mode: 'live', settlement_currency: 'EUR', api_base: 'https://stripe.proxy.test' });
    expect(live).toMatchObject({ mode: 'live', rate_limit_per_second: 100, settlement_currency: 'EUR', api_base: 'https://stripe.proxy.test' });
    const spreedly = await post(h, { ...stripe, name: 'Spreedly', provider: 'spreedly', rate_limit_per_second: 7, api_base: 'http://127.0.0.1:12111/' });
    expect(spreedly).toMatchObject({ provider: 'spreedly', rate_limit_per_second: 7, api_base: 'http://127.0.0.1:12111', webhook_secret_env: null });

    const listed = await h.request('GET', '/v1/gateways');
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((x: any) => x.id).slice(0, 3)).toEqual([spreedly.id, live.id, gw.id]);
    expect((await h.request('GET', '/v1/gateways?provider=spreedly')).body.data.map((x: any) => x.id)).toContain(spreedly.id);
    expect((await h.request('GET', '/v1/gateways?mode=live')).body.data.every((x: any) => x.mode === 'live')).toBe(true);
    const page = await h.request('GET', '/v1/gateways?limit=2');
    expect(page.body).toMatchObject({ has_more: true, next_cursor: live.id });
    expect((await h.request('GET', '/v1/gateways/gw_00000000000000000000000000')).status).toBe(404);

    const patched = await h.request('PATCH', `/v1/gateways/${gw.id}`, {
      name: 'Stripe main',
      settlement_currency: 'gbp',
      rate_limit_per_second: 10,
      secret_key_env: 'OTHER_KEY',
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
      secret_key_env: 'OTHER_KEY',
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
      [{ ...stripe, mode: 'live', api_base: 'http://127.0.0.1:12111' }, 'api_base', 'insecure_api_base'],
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
      [live.id, { api_base: 'http://127.0.0.1:12111' }, 'api_base', 'insecure_api_base'],
      [live.id, { is_default: true, api_base: 'http://127.0.0.1:12111' }, 'api_base', 'insecure_api_base'],
    ];
    for (const [id, body, param, code] of badPatch) expectError(await h.request('PATCH', `/v1/gateways/${id}`, body), 400, param, code);
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
    expect((await h.request('PATCH', `/v1/gateways/${gw.id}`, { name: 'Scoped by admin' }, {}, admin)).status).toBe(200);
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
    expect((await requireGateway(h.deps, b.id)).secret_key_env).toBe('TEST_SECRET_X');
    await expect(requireGateway(h.deps, 'gw_00000000000000000000000000')).rejects.toMatchObject({ code: 'resource_missing', param: 'gateway_id' });
    const unset = await h.request('PATCH', `/v1/gateways/${c.id}`, { is_default: false });
    expect(unset.body.is_default).toBe(false);
    expect(await defaults(h)).toEqual([]);
    expect(await getDefaultGateway(h.deps)).toBeUndefined();
    // the database itself refuses a second default
    await h.deps.db.updateTable('gateways').set({ is_default: true }).where('id', '=', a.id).execute();
    await expect(h.deps.db.updateTable('gateways').set({ is_default: true }).where('id', '=', b.id).execute()).rejects.toThrow();
  });

  it('ends with exactly one default under 10 concurrent PATCHes making different gateways default', async () => {
    const h = get();
    const gateways = [];
    for (let i = 0; i < 10; i += 1) gateways.push(await post(h, { ...stripe, name: `Race ${i}` }));
    const results = await Promise.all(gateways.map((g) => h.request('PATCH', `/v1/gateways/${g.id}`, { is_default: true })));
    for (const r of results) expect(r.status, JSON.stringify(r.body)).toBe(200);
    const after = await defaults(h);
    expect(after).toHaveLength(1);
    expect(gateways.map((g) => g.id)).toContain(after[0]);
    const listed = await h.request('GET', '/v1/gateways?limit=200');
    expect(listed.body.data.filter((x: any) => x.is_default)).toHaveLength(1);
  });

  it('never returns a secret value, even when its variable is set', async () => {
    const h = get();
    process.env.TEST_SECRET_X = SECRET;
    process.env.TEST_WEBHOOK_X = WEBHOOK_SECRET;
    const created = await h.request('POST', '/v1/gateways', { ...stripe, name: 'Configured', webhook_secret_env: 'TEST_WEBHOOK_X' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ secret_key_env: 'TEST_SECRET_X', credentials_configured: true, webhook_secret_configured: true });
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
    const row = await h.deps.db.selectFrom('gateways').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain('supersecret');
    delete process.env.TEST_SECRET_X;
    const unset = await h.request('GET', `/v1/gateways/${created.body.id}`);
    expect(unset.body).toMatchObject({ credentials_configured: false, webhook_secret_configured: true });
  });

  it('ensureDefaultEmulatorGateway is idempotent, follows the port, and takes the default only when none exists', async () => {
    const h = get();
    await h.deps.db.updateTable('gateways').set({ is_default: false }).execute();
    const first = await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:12111' });
    expect(first).toMatchObject({ name: 'Stripe emulator', provider: 'stripe', mode: 'test', is_emulator: true, is_default: true, api_base: 'http://127.0.0.1:12111', rate_limit_per_second: 25, secret_key_env: null });
    const again = await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:12111' });
    expect(again.id).toBe(first.id);
    expect(again.version).toBe(first.version);
    expect(await countRows(h, sql`is_emulator`)).toBe(1);
    const moved = await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:40001' });
    expect(moved).toMatchObject({ id: first.id, api_base: 'http://127.0.0.1:40001', is_default: true });
    expect(await countRows(h, sql`is_emulator`)).toBe(1);
    const view = await h.request('GET', `/v1/gateways/${first.id}`);
    expect(view.body).toMatchObject({ is_emulator: true, credentials_configured: true, api_base: 'http://127.0.0.1:40001' });

    // another default stays the default
    const other = await post(h, { ...stripe, name: 'Chosen default', is_default: true });
    const third = await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:40001' });
    expect(third.is_default).toBe(false);
    expect(await defaults(h)).toEqual([other.id]);
    await Promise.all(Array.from({ length: 5 }, () => ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:40002' })));
    expect(await countRows(h, sql`is_emulator`)).toBe(1);
    await expect(ensureDefaultEmulatorGateway(h.deps, { apiBase: 'ftp://x' })).rejects.toMatchObject({ code: 'invalid_api_base' });
  });

  it('ensureDefaultStripeGateway finds or creates "Stripe test", follows api_base and takes the default from the emulator', async () => {
    const h = get();
    await h.deps.db.updateTable('gateways').set({ is_default: false }).execute();
    const emulator = await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:12111' });
    expect(emulator.is_default).toBe(true);
    process.env.TEST_SECRET_X = SECRET;
    const first = await ensureDefaultStripeGateway(h.deps, { secretKeyEnv: 'TEST_SECRET_X', apiBase: 'http://127.0.0.1:12111' });
    expect(first).toMatchObject({ name: 'Stripe test', mode: 'test', is_default: true, is_emulator: false, secret_key_env: 'TEST_SECRET_X', api_base: 'http://127.0.0.1:12111', rate_limit_per_second: 25 });
    expect(await defaults(h)).toEqual([first.id]);
    const second = await ensureDefaultStripeGateway(h.deps, { secretKeyEnv: 'TEST_SECRET_X' });
    expect(second).toMatchObject({ id: first.id, api_base: null, is_default: true });
    expect(await countRows(h, sql`name = 'Stripe test'`)).toBe(1);
    await expect(ensureDefaultStripeGateway(h.deps, { secretKeyEnv: 'TEST_SECRET_X', mode: 'live', apiBase: 'http://127.0.0.1:1' })).rejects.toMatchObject({
      code: 'insecure_api_base',
    });
    await expect(ensureDefaultStripeGateway(h.deps, { secretKeyEnv: SECRET })).rejects.toMatchObject({ code: 'secret_value_not_accepted' });
    process.env.TEST_SECRET_X = 'sk_live_supersecret';
    const live = await ensureDefaultStripeGateway(h.deps, { secretKeyEnv: 'TEST_SECRET_X' });
    expect(live).toMatchObject({ name: 'Stripe live', mode: 'live', rate_limit_per_second: 100, is_default: false });
  });
});
