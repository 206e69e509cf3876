// /v1/api-keys: keys managed while Settle runs. The secret is in the fresh create only (never in a replay, the
// idempotency store, a list or a retrieve); scopes are enforced; a revoked key stops working (at once in the
// process that revoked it, within the cache lifetime elsewhere); the bootstrap key is listed and not revocable;
// last_used_at moves at most once a minute. Also the start-up banner's key lines.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ApiKeyVerifier, ensureBootstrapKey } from '../../src/app/api-keys.js';
import { buildApp } from '../../src/http/app.js';
import { bootstrapKeyLines } from '../../src/http/server.js';
import { ADMIN_KEY, describeEachDatabase, type Harness } from '../support/harness.js';

async function createKey(h: Harness, body: unknown, headers: Record<string, string> = {}, key: string = ADMIN_KEY) {
  return h.request('POST', '/v1/api-keys', body, headers, key);
}

/** Calls another app (another process's view: its own key cache) on the harness's database. */
async function call(app: Awaited<ReturnType<typeof buildApp>>, key: string, url = '/v1/transactions') {
  return app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
}

describeEachDatabase('API keys', (get) => {
  it('creates a key whose secret is in the fresh answer only; list and retrieve never show it', async () => {
    const h = get();
    const created = await createKey(h, { name: 'reporting', scopes: ['read'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      object: 'api_key',
      name: 'reporting',
      scopes: ['read'],
      revoked_at: null,
      last_used_at: null,
      bootstrap: false,
      created_at: '2026-11-24T12:00:00.000Z',
    });
    expect(created.body.id).toMatch(/^key_[0-9a-z]{26}$/);
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^settle_[A-Za-z0-9_-]{43}$/);
    expect(Object.keys(created.body).sort()).toEqual([
      'bootstrap',
      'created_at',
      'id',
      'last_used_at',
      'name',
      'object',
      'revoked_at',
      'scopes',
      'secret',
    ]);

    const one = await h.request('GET', `/v1/api-keys/${created.body.id}`);
    expect(one.status).toBe(200);
    const { secret: _secret, ...withoutSecret } = created.body;
    expect(one.body).toEqual(withoutSecret);
    const list = await h.request('GET', '/v1/api-keys?limit=200');
    expect(list.status).toBe(200);
    expect(list.body.data.map((k: { id: string }) => k.id)).toContain(created.body.id);
    const digest = (
      await h.deps.db
        .selectFrom('api_keys')
        .select('digest')
        .where('id', '=', created.body.id)
        .executeTakeFirstOrThrow()
    ).digest;
    for (const text of [JSON.stringify(one.body), JSON.stringify(list.body)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(digest);
      expect(text).not.toContain('"secret"');
      expect(text).not.toContain('"digest"');
    }

    // the new key works, within its scope
    expect((await h.request('GET', '/v1/transactions', undefined, {}, secret)).status).toBe(200);
    expect((await h.request('POST', '/v1/transactions', { amount: 100, currency: 'USD' }, {}, secret)).status).toBe(
      403,
    );
  });

  it('a replay with the same Idempotency-Key answers secret: null, and the idempotency store never holds the secret', async () => {
    const h = get();
    const headers = { 'idempotency-key': 'create-key-replay-1' };
    const first = await createKey(h, { name: 'replayed', scopes: ['read', 'write'] }, headers);
    expect(first.status).toBe(201);
    expect(typeof first.body.secret).toBe('string');
    const replay = await createKey(h, { name: 'replayed', scopes: ['read', 'write'] }, headers);
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(replay.body).toEqual({ ...first.body, secret: null });
    expect((await h.deps.db.selectFrom('api_keys').select('id').where('name', '=', 'replayed').execute()).length).toBe(
      1,
    );

    const stored = await h.deps.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('key', '=', 'create-key-replay-1')
      .executeTakeFirstOrThrow();
    expect(stored.state).toBe('done');
    expect(stored.response_body).toMatchObject({ id: first.body.id, secret: null });
    expect(JSON.stringify(stored)).not.toContain(first.body.secret);
    // the replayed answer is all a retry gets: the key itself works only with the first answer's secret
    expect((await h.request('GET', '/v1/transactions', undefined, {}, first.body.secret)).status).toBe(200);
  });

  it('enforces the admin scope: a read or write key can neither create, list nor revoke keys', async () => {
    const h = get();
    const read = await h.keyWith(['read']);
    const write = await h.keyWith(['write']);
    const target = (await createKey(h, { name: 'target', scopes: ['read'] })).body.id;
    for (const key of [read, write]) {
      expect((await createKey(h, { name: 'escalate', scopes: ['admin'] }, {}, key)).status).toBe(403);
      expect((await h.request('GET', '/v1/api-keys', undefined, {}, key)).status).toBe(403);
      expect((await h.request('GET', `/v1/api-keys/${target}`, undefined, {}, key)).status).toBe(403);
      const revoke = await h.request('POST', `/v1/api-keys/${target}/revoke`, undefined, {}, key);
      expect(revoke.status).toBe(403);
      expect(revoke.body.error.code).toBe('insufficient_scope');
    }
    expect((await h.deps.db.selectFrom('api_keys').select('id').where('name', '=', 'escalate').execute()).length).toBe(
      0,
    );
    expect((await h.request('GET', `/v1/api-keys/${target}`)).body.revoked_at).toBeNull();
    // an admin key made through the API can manage keys
    const admin = (await createKey(h, { name: 'second admin', scopes: ['admin'] })).body.secret;
    expect((await createKey(h, { name: 'made by second admin', scopes: ['read'] }, {}, admin)).status).toBe(201);
  });

  it('refuses bad bodies naming the field, writing nothing', async () => {
    const h = get();
    const before = (await h.deps.db.selectFrom('api_keys').select('id').execute()).length;
    const cases: [unknown, string][] = [
      [{ scopes: ['read'] }, 'name'],
      [{ name: 'x' }, 'scopes'],
      [{ name: 'x', scopes: [] }, 'scopes'],
      [{ name: 'x', scopes: ['root'] }, 'scopes.0'],
      [{ name: '   ', scopes: ['read'] }, 'name'],
      [{ name: 'x', scopes: ['read'], secret: 'mine' }, 'secret'],
    ];
    for (const [body, param] of cases) {
      const res = await createKey(h, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.param, JSON.stringify(body)).toBe(param);
    }
    expect((await h.deps.db.selectFrom('api_keys').select('id').execute()).length).toBe(before);
  });

  it('revoking: at once in this process, idempotent, 404 for an unknown key; another process refuses it within its cache lifetime', async () => {
    const h = get();
    const created = (await createKey(h, { name: 'to revoke', scopes: ['read'] })).body;
    // another process's view of the same database, with the default 5-second cache on the harness clock
    const other = await buildApp({
      deps: h.deps,
      bootstrapApiKey: undefined,
      keyCacheSeconds: 5,
      apiRateLimitPerSecond: 0,
    });
    try {
      expect((await h.request('GET', '/v1/transactions', undefined, {}, created.secret)).status).toBe(200);
      expect((await call(other, created.secret)).statusCode).toBe(200);

      const revoked = await h.request('POST', `/v1/api-keys/${created.id}/revoke`);
      expect(revoked.status).toBe(200);
      expect(revoked.body).toMatchObject({ id: created.id, revoked_at: '2026-11-24T12:00:00.000Z' });
      // the process that revoked it refuses it at once, although it verified it a moment ago
      const refused = await h.request('GET', '/v1/transactions', undefined, {}, created.secret);
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('api_key_invalid');
      // the other process still trusts its cache entry until the cache lifetime has passed
      expect((await call(other, created.secret)).statusCode).toBe(200);
      h.clock.advance(5_000);
      expect((await call(other, created.secret)).statusCode).toBe(401);

      // idempotent: the same answer, the revocation time unchanged
      const again = await h.request('POST', `/v1/api-keys/${created.id}/revoke`, {});
      expect(again.status).toBe(200);
      expect(again.body).toEqual(revoked.body);
      const missing = await h.request('POST', '/v1/api-keys/key_00000000000000000000000000/revoke');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('resource_missing');
      expect((await h.request('GET', '/v1/api-keys/key_nope')).status).toBe(404);
    } finally {
      await other.close();
      h.clock.set('2026-11-24T12:00:00Z');
    }
  });

  it('with a cache of 0 seconds, another process refuses a revoked key on its next request', async () => {
    const h = get();
    const created = (await createKey(h, { name: 'no cache', scopes: ['read'] })).body;
    const other = await buildApp({
      deps: h.deps,
      bootstrapApiKey: undefined,
      keyCacheSeconds: 0,
      apiRateLimitPerSecond: 0,
    });
    try {
      expect((await call(other, created.secret)).statusCode).toBe(200);
      expect((await h.request('POST', `/v1/api-keys/${created.id}/revoke`)).status).toBe(200);
      expect((await call(other, created.secret)).statusCode).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('lists the bootstrap key first, retrieves it, and refuses to revoke it with how to rotate it', async () => {
    const h = get();
    const list = await h.request('GET', '/v1/api-keys?limit=1');
    expect(list.body.data).toEqual([
      {
        id: 'key_bootstrap',
        object: 'api_key',
        name: 'bootstrap',
        scopes: ['admin'],
        created_at: null,
        last_used_at: null,
        revoked_at: null,
        bootstrap: true,
      },
    ]);
    expect(list.body).toMatchObject({ has_more: true, next_cursor: 'key_bootstrap' });
    const next = await h.request('GET', '/v1/api-keys?limit=200&starting_after=key_bootstrap');
    expect(next.status).toBe(200);
    expect(next.body.data.length).toBeGreaterThan(0);
    expect(next.body.data.every((k: { id: string }) => k.id !== 'key_bootstrap')).toBe(true);
    expect(next.body.has_more).toBe(false);
    expect((await h.request('GET', '/v1/api-keys/key_bootstrap')).body.bootstrap).toBe(true);

    const refused = await h.request('POST', '/v1/api-keys/key_bootstrap/revoke');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('bootstrap_key_not_revocable');
    expect(refused.body.error.message).toContain('SETTLE_API_KEY');
    expect(refused.body.error.message).toContain('admin-api-key');
    expect((await h.request('GET', '/v1/transactions')).status).toBe(200);

    // a server started with SETTLE_API_KEY names it so, and says how to rotate it
    const env = await buildApp({
      deps: h.deps,
      bootstrapApiKey: ADMIN_KEY,
      bootstrapKeySource: { kind: 'env' },
      apiRateLimitPerSecond: 0,
    });
    try {
      const auth = { authorization: `Bearer ${ADMIN_KEY}` };
      const one = await env.inject({ method: 'GET', url: '/v1/api-keys/key_bootstrap', headers: auth });
      expect(one.json().name).toBe('bootstrap (SETTLE_API_KEY)');
      const revoke = await env.inject({ method: 'POST', url: '/v1/api-keys/key_bootstrap/revoke', headers: auth });
      expect(revoke.statusCode).toBe(409);
      expect(revoke.json().error.message).toMatch(/set SETTLE_API_KEY to a new value and restart/);
    } finally {
      await env.close();
    }
  });

  it('pages through keys newest first and refuses a foreign or made-up cursor', async () => {
    const h = get();
    for (let i = 0; i < 3; i += 1) await createKey(h, { name: `page ${i}`, scopes: ['read'] });
    const all = (await h.request('GET', '/v1/api-keys?limit=200')).body.data.map((k: { id: string }) => k.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: { id: string }[]; next_cursor: string | null } } = await h.request(
        'GET',
        `/v1/api-keys?limit=2${cursor ? `&starting_after=${cursor}` : ''}`,
      );
      seen.push(...page.body.data.map((k) => k.id));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    expect(seen).toEqual(all);
    expect(all[0]).toBe('key_bootstrap');
    expect(all.slice(1)).toEqual([...all.slice(1)].sort().reverse());
    for (const bad of ['trx_0000000000000000000000000a', 'key_x', 'aud_0000000000000000000000000a']) {
      const res = await h.request('GET', `/v1/api-keys?starting_after=${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_cursor', param: 'starting_after' });
    }
  });

  it('sets last_used_at once, does not move it again within the minute (in this process or another), then does', async () => {
    const h = get();
    const created = (await createKey(h, { name: 'usage', scopes: ['read'] })).body;
    const lastUsed = async () =>
      (
        await h.deps.db
          .selectFrom('api_keys')
          .select('last_used_at')
          .where('id', '=', created.id)
          .executeTakeFirstOrThrow()
      ).last_used_at;
    // counts the verifier's writes: a use within the minute must not even try one
    let writes = 0;
    const countingDb = new Proxy(h.deps.db, {
      get(target, prop, receiver) {
        if (prop === 'updateTable') writes += 1;
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const verifier = new ApiKeyVerifier(countingDb, undefined, 0, h.clock);
    const app = await buildApp({
      deps: h.deps,
      bootstrapApiKey: undefined,
      apiKeyVerifier: verifier,
      apiRateLimitPerSecond: 0,
    });
    try {
      h.clock.set('2026-11-24T13:00:00Z');
      expect((await call(app, created.secret)).statusCode).toBe(200);
      await verifier.whenIdle();
      expect(new Date((await lastUsed()) as Date).toISOString()).toBe('2026-11-24T13:00:00.000Z');
      expect(writes).toBe(1);

      h.clock.advance(30_000);
      expect((await call(app, created.secret)).statusCode).toBe(200);
      expect((await call(app, created.secret)).statusCode).toBe(200);
      await verifier.whenIdle();
      expect(new Date((await lastUsed()) as Date).toISOString()).toBe('2026-11-24T13:00:00.000Z');
      expect(writes).toBe(1);

      // a process that never saw the key: the UPDATE's own condition keeps it within the minute
      const fresh = new ApiKeyVerifier(h.deps.db, undefined, 0, h.clock);
      expect(await fresh.verify(created.secret)).toMatchObject({ keyId: created.id });
      await fresh.whenIdle();
      expect(new Date((await lastUsed()) as Date).toISOString()).toBe('2026-11-24T13:00:00.000Z');

      h.clock.advance(31_000);
      expect((await call(app, created.secret)).statusCode).toBe(200);
      await verifier.whenIdle();
      expect(writes).toBe(2);
      expect(new Date((await lastUsed()) as Date).toISOString()).toBe('2026-11-24T13:01:01.000Z');
      expect((await h.request('GET', `/v1/api-keys/${created.id}`)).body.last_used_at).toBe('2026-11-24T13:01:01.000Z');
    } finally {
      await app.close();
      h.clock.set('2026-11-24T12:00:00Z');
    }
  });

  it('a process whose memory predates a newer write by another process does not move last_used_at within that minute', async () => {
    const h = get();
    const created = (await createKey(h, { name: 'two processes', scopes: ['read'] })).body;
    const lastUsed = async () =>
      new Date(
        (
          await h.deps.db
            .selectFrom('api_keys')
            .select('last_used_at')
            .where('id', '=', created.id)
            .executeTakeFirstOrThrow()
        ).last_used_at as Date,
      ).toISOString();
    // process B trusts its cache for 10 minutes (it does not read the row again); process A reads it each time
    const b = new ApiKeyVerifier(h.deps.db, undefined, 600_000, h.clock);
    const a = new ApiKeyVerifier(h.deps.db, undefined, 0, h.clock);
    try {
      h.clock.set('2026-11-24T14:00:00Z');
      await b.verify(created.secret);
      await b.whenIdle();
      expect(await lastUsed()).toBe('2026-11-24T14:00:00.000Z');
      h.clock.set('2026-11-24T14:01:01Z');
      await a.verify(created.secret);
      await a.whenIdle();
      expect(await lastUsed()).toBe('2026-11-24T14:01:01.000Z');
      // B's memory says a minute has passed since its own write: its UPDATE finds the newer time and changes nothing
      h.clock.set('2026-11-24T14:01:10Z');
      await b.verify(created.secret);
      await b.whenIdle();
      expect(await lastUsed()).toBe('2026-11-24T14:01:01.000Z');
    } finally {
      h.clock.set('2026-11-24T12:00:00Z');
    }
  });

  it('a failed last_used_at write does not fail the request', async () => {
    const h = get();
    const created = (await createKey(h, { name: 'usage failure', scopes: ['read'] })).body;
    // a database whose UPDATEs fail: the key is read as usual, the write of last_used_at is refused
    const failingDb = new Proxy(h.deps.db, {
      get(target, prop, receiver) {
        if (prop === 'updateTable')
          return () => ({
            set: () => ({
              where: () => ({
                where: () => ({ execute: () => Promise.reject(new Error('database refused the write')) }),
              }),
            }),
          });
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const verifier = new ApiKeyVerifier(failingDb, undefined, 0, h.clock);
    expect(await verifier.verify(created.secret)).toMatchObject({ keyId: created.id });
    await verifier.whenIdle();
    expect(
      (
        await h.deps.db
          .selectFrom('api_keys')
          .select('last_used_at')
          .where('id', '=', created.id)
          .executeTakeFirstOrThrow()
      ).last_used_at,
    ).toBeNull();
  });
});

it('the start-up banner prints an environment key by its first 8 characters, a generated key once, then where it is kept', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'settle-bootstrap-key-'));
  try {
    const address = 'http://127.0.0.1:3000';
    const fromEnv = ensureBootstrapKey(dir, 'settle_env_key_abcdefghijklmnopqrstuvwxyz');
    const envLines = bootstrapKeyLines(fromEnv, address).join('\n');
    expect(envLines).toContain('settle_e...');
    expect(envLines).not.toContain('settle_env_key_abcdefghijklmnopqrstuvwxyz');
    expect(envLines).toContain('Bearer $SETTLE_API_KEY');

    const generated = ensureBootstrapKey(dir, undefined);
    expect(generated.generated).toBe(true);
    expect(statSync(path.join(dir, 'admin-api-key')).mode & 0o777).toBe(0o600);
    const first = bootstrapKeyLines(generated, address).join('\n');
    expect(first.split(generated.secret).length - 1).toBe(1);
    expect(first).toContain(`$(cat ${path.join(dir, 'admin-api-key')})`);

    const kept = ensureBootstrapKey(dir, undefined);
    expect(kept).toMatchObject({ secret: generated.secret, generated: false });
    const later = bootstrapKeyLines(kept, address).join('\n');
    expect(later).not.toContain(generated.secret);
    expect(later).not.toContain(generated.secret.slice(8));
    expect(later).toContain(path.join(dir, 'admin-api-key'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
