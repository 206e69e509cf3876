import { expect, it } from 'vitest';
import { listApiKeys, revokeApiKey } from '../../src/app/api-keys.js';
import { describeEachDatabase } from '../support/harness.js';

describeEachDatabase('API keys and scopes', (get) => {
  it('401 without a key or with a wrong one', async () => {
    const h = get();
    const none = await h.request('GET', '/v1/transactions', undefined, {}, null);
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ type: 'authentication_error', code: 'api_key_missing' });
    const wrong = await h.request('GET', '/v1/transactions', undefined, {}, 'settle_not_a_real_key_000000000000');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('api_key_invalid');
    const basic = await h.request('GET', '/v1/transactions', undefined, { authorization: 'Basic abc' }, null);
    expect(basic.status).toBe(401);
  });

  it('403 for a key without the scope; read < write < admin', async () => {
    const h = get();
    const read = await h.keyWith(['read']);
    const write = await h.keyWith(['write']);
    expect((await h.request('GET', '/v1/transactions', undefined, {}, read)).status).toBe(200);
    const denied = await h.request('POST', '/v1/transactions', { amount: 100, currency: 'USD' }, {}, read);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ type: 'permission_error', code: 'insufficient_scope' });
    expect((await h.request('POST', '/v1/transactions', { amount: 100, currency: 'USD' }, {}, write)).status).toBe(201);
    expect((await h.request('GET', '/v1/settings', undefined, {}, write)).status).toBe(200);
    expect((await h.request('PATCH', '/v1/settings', { timezone: 'Europe/Paris' }, {}, write)).status).toBe(403);
    expect((await h.request('PATCH', '/v1/settings', { timezone: 'UTC' })).status).toBe(200);
  });

  it('stores keys only as SHA-256 digests, and a revoked key stops working', async () => {
    const h = get();
    const secret = await h.keyWith(['read']);
    const rows = await h.deps.db.selectFrom('api_keys').selectAll().execute();
    expect(rows.some((r) => r.digest.includes(secret) || JSON.stringify(r).includes(secret))).toBe(false);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.digest))).toBe(true);
    const listed = await listApiKeys(h.deps.db);
    expect(JSON.stringify(listed)).not.toContain(secret);
    for (const key of listed) await revokeApiKey(h.deps.db, key.id, new Date());
    expect((await listApiKeys(h.deps.db)).every((key) => key.revoked_at !== null)).toBe(true);
    await expect(revokeApiKey(h.deps.db, 'key_missing', new Date())).rejects.toThrow(/No API key/);
    // a fresh app has no cache of verified keys
    const { buildApp } = await import('../../src/http/app.js');
    const app = await buildApp({ deps: h.deps, bootstrapApiKey: undefined });
    const res = await app.inject({
      method: 'GET',
      url: '/v1/transactions',
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(res.statusCode).toBe(401);
    await app.close();
  });

  it('decides from the route matched, not from the URL: a query string naming another path changes nothing', async () => {
    const h = get();
    const read = await h.keyWith(['read']);
    expect((await h.request('GET', '/v1/transactions?/healthz', undefined, {}, null)).status).toBe(401);
    expect((await h.request('GET', '/v1/transactions?x=/healthz&y=..%2f', undefined, {}, null)).status).toBe(401);
    expect((await h.request('GET', '/healthz?/v1/transactions', undefined, {}, null)).status).toBe(200);
    expect((await h.request('GET', '/metrics?public=true', undefined, {}, null)).status).toBe(401);
    // HEAD is a read like GET: a key is needed, read is enough.
    expect((await h.request('HEAD', '/v1/transactions', undefined, {}, null)).status).toBe(401);
    expect((await h.request('HEAD', '/v1/transactions', undefined, {}, read)).status).toBe(200);
    // A route that does not exist is a 404 whoever asks; no 401 is given for it.
    expect((await h.request('GET', '/v1/transactionz', undefined, {}, null)).status).toBe(404);
  });

  it('reads the key only from Authorization: Bearer <key> (scheme in any case, one token)', async () => {
    const h = get();
    const read = await h.keyWith(['read']);
    expect(
      (await h.request('GET', '/v1/transactions', undefined, { authorization: `bearer ${read}` }, null)).status,
    ).toBe(200);
    expect(
      (await h.request('GET', '/v1/transactions', undefined, { authorization: `Bearer   ${read}  ` }, null)).status,
    ).toBe(200);
    for (const authorization of [`Bearer ${read} extra`, `Token ${read}`, read, 'Bearer', 'Bearer ']) {
      const answer = await h.request('GET', '/v1/transactions', undefined, { authorization }, null);
      expect({ authorization, status: answer.status, code: answer.body.error.code }).toEqual({
        authorization,
        status: 401,
        code: 'api_key_missing',
      });
    }
    const other = await h.request('GET', '/v1/transactions', undefined, { authorization: `Bearer ${read}x` }, null);
    expect(other.body.error.code).toBe('api_key_invalid');
    // A key sent another way is not a key.
    expect((await h.request('GET', `/v1/transactions?api_key=${read}`, undefined, {}, null)).status).toBe(401);
    expect((await h.request('GET', '/v1/transactions', undefined, { 'x-api-key': read }, null)).status).toBe(401);
  });
});
