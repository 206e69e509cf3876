// R1: /v1/parents. Create, retrieve, list (filters, paging), update (compare-and-set, metadata merge), idempotent
// creates, and each refusal (400 naming the field, 404 for a missing account or contact, 409 parent_exists) writing
// nothing, including two creates of one (type, external_id) at once.
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../support/harness.js';
import { created, expectError, expectStatus, rowCount } from './support.js';

const MISSING_ACCOUNT = 'acc_00000000000000000000000000';
const MISSING_CONTACT = 'con_00000000000000000000000000';

describeEachDatabase('parents API', (get) => {
  it('creates, retrieves, lists and updates a parent, with its (empty) totals', async () => {
    const h = get();
    const account = await created(h, '/v1/accounts', { name: 'Parent Co' });
    const contact = await created(h, '/v1/contacts', { last_name: 'Lovelace', account_id: account.id });
    const res = await h.request('POST', '/v1/parents', {
      type: 'opportunity',
      external_id: 'OPP-1',
      name: 'Renewal 2027',
      account_id: account.id,
      contact_id: contact.id,
      metadata: { crm: 'sf', stage: 'won' },
    });
    expectStatus(res, 201);
    const p = res.body;
    expect(p.id).toMatch(/^par_[0-9a-z]{26}$/);
    expect(p).toEqual({
      id: p.id,
      object: 'parent',
      type: 'opportunity',
      external_id: 'OPP-1',
      name: 'Renewal 2027',
      account_id: account.id,
      contact_id: contact.id,
      metadata: { crm: 'sf', stage: 'won' },
      totals: [],
      created_at: '2026-11-24T12:00:00.000Z',
      updated_at: '2026-11-24T12:00:00.000Z',
    });
    expect((await h.request('GET', `/v1/parents/${p.id}`)).body).toEqual(p);

    const bare = await created(h, '/v1/parents', { type: 'subscription' });
    expect(bare).toMatchObject({ external_id: null, name: null, account_id: null, contact_id: null, metadata: {} });

    h.clock.advance(1000);
    const patched = await h.request('PATCH', `/v1/parents/${p.id}`, {
      name: null,
      external_id: 'OPP-1b',
      contact_id: null,
      metadata: { stage: '', region: 'eu' },
    });
    expectStatus(patched, 200);
    expect(patched.body).toEqual({
      ...p,
      name: null,
      external_id: 'OPP-1b',
      contact_id: null,
      metadata: { crm: 'sf', region: 'eu' },
      updated_at: '2026-11-24T12:00:01.000Z',
    });
    expect((await h.request('GET', `/v1/parents/${p.id}`)).body).toEqual(patched.body);
    const moved = await h.request('PATCH', `/v1/parents/${p.id}`, { account_id: null });
    expect(moved.body.account_id).toBeNull();
  });

  it('lists newest first, filters by type, external_id and account_id, and pages with a cursor', async () => {
    const h = get();
    const account = await created(h, '/v1/accounts', { name: 'Lister' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const p = await created(h, '/v1/parents', {
        type: 'listed',
        external_id: `L-${i}`,
        ...(i % 2 === 0 ? { account_id: account.id } : {}),
      });
      ids.push(p.id);
    }
    await created(h, '/v1/parents', { type: 'other_listed', external_id: 'L-0' });
    const newestFirst = [...ids].reverse();

    const page1 = await h.request('GET', '/v1/parents?type=listed&limit=2');
    expectStatus(page1, 200);
    expect(page1.body).toMatchObject({ object: 'list', has_more: true, next_cursor: newestFirst[1] });
    expect(page1.body.data.map((p: any) => p.id)).toEqual(newestFirst.slice(0, 2));
    expect(page1.body.data[0].totals).toEqual([]);
    const page2 = await h.request('GET', `/v1/parents?type=listed&limit=2&starting_after=${page1.body.next_cursor}`);
    expect(page2.body.data.map((p: any) => p.id)).toEqual(newestFirst.slice(2, 4));
    const page3 = await h.request('GET', `/v1/parents?type=listed&limit=2&starting_after=${page2.body.next_cursor}`);
    expect(page3.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(page3.body.data.map((p: any) => p.id)).toEqual(newestFirst.slice(4));

    const byExternal = await h.request('GET', '/v1/parents?external_id=L-0');
    expect(byExternal.body.data.map((p: any) => p.type).sort()).toEqual(['listed', 'other_listed']);
    const exact = await h.request('GET', '/v1/parents?type=listed&external_id=L-3');
    expect(exact.body.data.map((p: any) => p.id)).toEqual([ids[3]]);
    const ofAccount = await h.request('GET', `/v1/parents?account_id=${account.id}`);
    expect(ofAccount.body.data.map((p: any) => p.id)).toEqual([ids[4], ids[2], ids[0]]);
    expect((await h.request('GET', '/v1/parents?type=nothing_here')).body.data).toEqual([]);

    expectError(await h.request('GET', `/v1/parents?starting_after=${account.id}`), 400, 'invalid_cursor');
    expectError(await h.request('GET', '/v1/parents?type=Listed'), 400, 'parameter_invalid_value', 'type');
    expectError(await h.request('GET', '/v1/parents?limit=0'), 400, 'parameter_invalid', 'limit');
    expectError(await h.request('GET', '/v1/parents?colour=red'), 400, 'parameter_unknown', 'colour');
  });

  it('refuses bad input with a 400 naming the field, and writes nothing', async () => {
    const h = get();
    const before = await rowCount(h, 'parents');
    const bad: [Record<string, unknown>, string, string][] = [
      [{}, 'type', 'parameter_missing'],
      [{ type: 'Opportunity' }, 'type', 'parameter_invalid_value'],
      [{ type: '1st' }, 'type', 'parameter_invalid_value'],
      [{ type: 'sales-order' }, 'type', 'parameter_invalid_value'],
      [{ type: 'a b' }, 'type', 'parameter_invalid_value'],
      [{ type: 'a'.repeat(41) }, 'type', 'parameter_invalid'],
      [{ type: 7 }, 'type', 'parameter_invalid_type'],
      [{ type: 'deal', external_id: '' }, 'external_id', 'parameter_invalid'],
      [{ type: 'deal', external_id: '   ' }, 'external_id', 'invalid_string'],
      [{ type: 'deal', external_id: 'x'.repeat(201) }, 'external_id', 'parameter_invalid'],
      [{ type: 'deal', name: 'x'.repeat(201) }, 'name', 'parameter_invalid'],
      [{ type: 'deal', name: ' ' }, 'name', 'invalid_string'],
      [{ type: 'deal', metadata: { k: 5 } }, 'metadata.k', 'parameter_invalid_type'],
      [{ type: 'deal', metadata: { ['k'.repeat(41)]: 'v' } }, `metadata.${'k'.repeat(41)}`, 'invalid_metadata'],
      [{ type: 'deal', account_id: '' }, 'account_id', 'parameter_invalid'],
      [{ type: 'deal', totals: [] }, 'totals', 'parameter_unknown'],
    ];
    for (const [body, param, code] of bad) expectError(await h.request('POST', '/v1/parents', body), 400, code, param);
    expectError(
      await h.request('POST', '/v1/parents', { type: 'deal', account_id: MISSING_ACCOUNT }),
      404,
      'resource_missing',
      'account_id',
    );
    expectError(
      await h.request('POST', '/v1/parents', { type: 'deal', contact_id: MISSING_CONTACT }),
      404,
      'resource_missing',
      'contact_id',
    );
    expect(await rowCount(h, 'parents')).toBe(before);

    const p = await created(h, '/v1/parents', { type: 'deal', external_id: 'D-1', name: 'Keep' });
    const badPatches: [Record<string, unknown>, string | undefined, string][] = [
      [{}, undefined, 'parameter_missing'],
      [{ type: 'other' }, 'type', 'parameter_unknown'],
      [{ name: '' }, 'name', 'parameter_invalid'],
      [{ external_id: '  ' }, 'external_id', 'invalid_string'],
      [{ metadata: { k: 1 } }, 'metadata.k', 'parameter_invalid_type'],
    ];
    for (const [body, param, code] of badPatches)
      expectError(await h.request('PATCH', `/v1/parents/${p.id}`, body), 400, code, param);
    expectError(
      await h.request('PATCH', `/v1/parents/${p.id}`, { account_id: MISSING_ACCOUNT }),
      404,
      'resource_missing',
    );
    expectError(
      await h.request('PATCH', `/v1/parents/${p.id}`, { contact_id: MISSING_CONTACT }),
      404,
      'resource_missing',
    );
    expect((await h.request('GET', `/v1/parents/${p.id}`)).body).toEqual(p);
    expectError(await h.request('GET', '/v1/parents/par_00000000000000000000000000'), 404, 'resource_missing');
    expectError(
      await h.request('PATCH', '/v1/parents/par_00000000000000000000000000', { name: 'x' }),
      404,
      'resource_missing',
    );
    expect(await rowCount(h, 'parents')).toBe(before + 1);
  });

  it('keeps external_id unique per type: 409 parent_exists on create and on update, other types and nulls free', async () => {
    const h = get();
    const first = await created(h, '/v1/parents', { type: 'unique_kind', external_id: 'U-1' });
    const before = await rowCount(h, 'parents');
    const dup = await h.request('POST', '/v1/parents', { type: 'unique_kind', external_id: 'U-1', name: 'again' });
    expectError(dup, 409, 'parent_exists');
    expect(dup.body.error.message).toMatch(/external_id/);
    expect(await rowCount(h, 'parents')).toBe(before);
    // The same external_id of another type, and any number without one, are other parents.
    await created(h, '/v1/parents', { type: 'unique_kind_b', external_id: 'U-1' });
    await created(h, '/v1/parents', { type: 'unique_kind' });
    await created(h, '/v1/parents', { type: 'unique_kind' });
    const second = await created(h, '/v1/parents', { type: 'unique_kind', external_id: 'U-2' });
    expectError(await h.request('PATCH', `/v1/parents/${second.id}`, { external_id: 'U-1' }), 409, 'parent_exists');
    expect((await h.request('GET', `/v1/parents/${second.id}`)).body).toEqual(second);
    expect((await h.request('GET', `/v1/parents/${first.id}`)).body).toEqual(first);
  });

  it('two creates of one (type, external_id) at once: one parent, the others 409 parent_exists', async () => {
    const h = get();
    const before = await rowCount(h, 'parents');
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        h.request('POST', '/v1/parents', { type: 'race', external_id: 'R-1', name: `racer ${i}` }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.error.code).toBe('parent_exists');
    expect(await rowCount(h, 'parents')).toBe(before + 1);
    const listed = await h.request('GET', '/v1/parents?type=race&external_id=R-1');
    expect(listed.body.data).toHaveLength(1);
  });

  it('keeps every one of 10 concurrent metadata edits (compare-and-set on version)', async () => {
    const h = get();
    const p = await created(h, '/v1/parents', { type: 'busy' });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        h.request('PATCH', `/v1/parents/${p.id}`, { metadata: { [`k${i}`]: String(i) } }),
      ),
    );
    for (const r of results) expectStatus(r, 200);
    const after = await h.request('GET', `/v1/parents/${p.id}`);
    expect(after.body.metadata).toEqual(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, String(i)])));
    const version = await h.deps.db.selectFrom('parents').select('version').where('id', '=', p.id).executeTakeFirst();
    expect(version?.version).toBe(11);
  });

  it('replays a create with its Idempotency-Key (one parent), and refuses the key with another body', async () => {
    const h = get();
    const before = await rowCount(h, 'parents');
    const body = { type: 'idem', external_id: 'I-1' };
    const headers = { 'idempotency-key': 'parent-create-1' };
    const first = await h.request('POST', '/v1/parents', body, headers);
    expectStatus(first, 201);
    const again = await h.request('POST', '/v1/parents', body, headers);
    expectStatus(again, 201);
    expect(again.headers['idempotency-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expectError(
      await h.request('POST', '/v1/parents', { ...body, name: 'other' }, headers),
      409,
      'idempotency_key_reused',
    );
    // Concurrent requests with one key: one parent.
    const together = await Promise.all(
      Array.from({ length: 4 }, () =>
        h.request(
          'POST',
          '/v1/parents',
          { type: 'idem', external_id: 'I-2' },
          { 'idempotency-key': 'parent-create-2' },
        ),
      ),
    );
    for (const r of together) expect([201, 409]).toContain(r.status);
    expect(together.filter((r) => r.status === 201).map((r) => r.body.id)).toSatisfy(
      (ids: string[]) => ids.length >= 1 && new Set(ids).size === 1,
    );
    expect(await rowCount(h, 'parents')).toBe(before + 2);
  });

  it('a transaction names a parent; a missing parent is a 404 and writes nothing', async () => {
    const h = get();
    const p = await created(h, '/v1/parents', { type: 'holder' });
    const t = await created(h, '/v1/transactions', { amount: 500, currency: 'USD', parent_id: p.id });
    expect(t.parent_id).toBe(p.id);
    const listed = await h.request('GET', `/v1/transactions?parent_id=${p.id}`);
    expect(listed.body.data.map((x: any) => x.id)).toEqual([t.id]);
    const before = await rowCount(h, 'transactions');
    expectError(
      await h.request('POST', '/v1/transactions', {
        amount: 500,
        currency: 'USD',
        parent_id: 'par_00000000000000000000000000',
      }),
      404,
      'resource_missing',
      'parent_id',
    );
    expect(await rowCount(h, 'transactions')).toBe(before);
  });
});
