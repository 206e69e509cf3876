// Audit events: every change to settings, gateways and API keys records one event in the same transaction, with
// the actor (the API key id, cli or system), before and after (never a secret or a digest); a change that changes
// nothing records none. PATCH /v1/settings honours an Idempotency-Key. GET /v1/audit-events (admin) filters and
// pages like every list.
import { expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../../src/app/api-keys.js';
import type { AuditEventView } from '../../src/app/audit.js';
import type { CommandRunner } from '../../src/app/command-runner.js';
import { createGateway, ensureDefaultEmulatorGateway } from '../../src/app/gateway-records.js';
import { updateSettings } from '../../src/app/settings.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';

/** The API's audit event, with before and after read as the objects they are in these tests. */
type AuditEvent = AuditEventView & { before: Record<string, unknown> | null; after: Record<string, unknown> | null };

async function eventsFor(h: Harness, objectId: string): Promise<AuditEvent[]> {
  const res = await h.request('GET', `/v1/audit-events?object_id=${objectId}&limit=200`);
  expect(res.status).toBe(200);
  return res.body.data;
}

async function countEvents(h: Harness): Promise<number> {
  return (await h.deps.db.selectFrom('audit_events').select('id').execute()).length;
}

const gateway = (name: string) => ({
  name,
  provider: 'stripe' as const,
  settlement_currency: 'usd',
  secret_key_env: 'STRIPE_AUDIT_TEST_KEY',
});

describeEachDatabase('audit events', (get) => {
  it('records key creation and revocation by the acting key, without secrets or digests', async () => {
    const h = get();
    const created = await h.request('POST', '/v1/api-keys', { name: 'audited', scopes: ['read'] });
    const id: string = created.body.id;
    await h.request('POST', `/v1/api-keys/${id}/revoke`);
    await h.request('POST', `/v1/api-keys/${id}/revoke`); // already revoked: nothing more recorded
    const events = await eventsFor(h, id);
    expect(events.map((e) => [e.action, e.actor, e.object_type])).toEqual([
      ['api_key.revoked', 'key_bootstrap', 'api_key'],
      ['api_key.created', 'key_bootstrap', 'api_key'],
    ]);
    const [revoked, creation] = events as [AuditEvent, AuditEvent];
    expect(creation.before).toBeNull();
    expect(creation.after).toEqual({
      id,
      name: 'audited',
      scopes: ['read'],
      created_at: '2026-11-24T12:00:00.000Z',
      revoked_at: null,
    });
    expect(revoked.before).toEqual(creation.after);
    expect(revoked.after).toEqual({ ...creation.after, revoked_at: '2026-11-24T12:00:00.000Z' });
    expect(creation.id).toMatch(/^aud_[0-9a-z]{26}$/);
    expect(creation.created_at).toBe('2026-11-24T12:00:00.000Z');

    const digest = (
      await h.deps.db.selectFrom('api_keys').select('digest').where('id', '=', id).executeTakeFirstOrThrow()
    ).digest;
    const stored = JSON.stringify(await h.deps.db.selectFrom('audit_events').selectAll().execute());
    expect(stored).not.toContain(created.body.secret);
    expect(stored).not.toContain(digest);
    expect(stored).not.toContain('"digest"');
    expect(stored).not.toContain('"secret"');

    // the acting key's own id, not the bootstrap's, when another admin key acts
    const admin = await h.keyWith(['admin']);
    const adminId = (
      await h.deps.db.selectFrom('api_keys').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()
    ).id;
    const byOther = await h.request(
      'POST',
      '/v1/api-keys',
      { name: 'made by another admin', scopes: ['read'] },
      {},
      admin,
    );
    expect((await eventsFor(h, byOther.body.id)).map((e) => e.actor)).toEqual([adminId]);
  });

  it('records the CLI as actor cli', async () => {
    const h = get();
    const { body } = await createApiKey(h.deps, { actor: 'cli' }, { name: 'from the cli', scopes: ['read'] });
    await revokeApiKey(h.deps.db, body.id, h.deps.clock.now(), 'cli');
    expect((await eventsFor(h, body.id)).map((e) => [e.action, e.actor])).toEqual([
      ['api_key.revoked', 'cli'],
      ['api_key.created', 'cli'],
    ]);
  });

  it('records gateway creation and changes with before and after, none for a no-op, and the default flag moved off another gateway', async () => {
    const h = get();
    const first = await h.request('POST', '/v1/gateways', { ...gateway('Audit one'), is_default: true });
    expect(first.status).toBe(201);
    const created = await eventsFor(h, first.body.id);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      action: 'gateway.created',
      actor: 'key_bootstrap',
      object_type: 'gateway',
      before: null,
    });
    expect(created[0]?.after).toMatchObject({
      id: first.body.id,
      name: 'Audit one',
      is_default: true,
      secret_key_env: 'STRIPE_AUDIT_TEST_KEY',
      metadata: {},
    });

    const renamed = await h.request('PATCH', `/v1/gateways/${first.body.id}`, { name: 'Audit one renamed' });
    expect(renamed.status).toBe(200);
    const [update] = await eventsFor(h, first.body.id);
    expect(update).toMatchObject({
      action: 'gateway.updated',
      before: { name: 'Audit one' },
      after: { name: 'Audit one renamed' },
    });
    expect(Object.keys(update?.after ?? {})).not.toContain('version');
    expect(Object.keys(update?.after ?? {})).not.toContain('updated_at');

    const count = await countEvents(h);
    expect((await h.request('PATCH', `/v1/gateways/${first.body.id}`, { name: 'Audit one renamed' })).status).toBe(200);
    expect(await countEvents(h)).toBe(count);

    // a new default clears the flag on the first: both changes are recorded
    const second = await h.request('POST', '/v1/gateways', { ...gateway('Audit two'), is_default: true });
    expect(second.status).toBe(201);
    expect((await eventsFor(h, second.body.id)).map((e) => e.action)).toEqual(['gateway.created']);
    const [cleared] = await eventsFor(h, first.body.id);
    expect(cleared).toMatchObject({
      action: 'gateway.updated',
      before: { is_default: true },
      after: { is_default: false },
    });
  });

  it('records the gateway Settle ensures at start as actor system, and nothing when it is already up to date', async () => {
    const h = get();
    const row = await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:12111' });
    const events = await eventsFor(h, row.id);
    expect(events.map((e) => [e.action, e.actor])).toEqual([['gateway.created', 'system']]);
    await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:12111' });
    expect(await eventsFor(h, row.id)).toHaveLength(1);
    await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:12112' });
    const [moved] = await eventsFor(h, row.id);
    expect(moved).toMatchObject({
      action: 'gateway.updated',
      actor: 'system',
      before: { api_base: 'http://127.0.0.1:12111' },
      after: { api_base: 'http://127.0.0.1:12112' },
    });
  });

  it('records a settings change once, honours an Idempotency-Key, and records nothing for a no-op', async () => {
    const h = get();
    const headers = { 'idempotency-key': 'settings-audit-1' };
    const count = await countEvents(h);
    const first = await h.request('PATCH', '/v1/settings', { webhook_retention_days: 45 }, headers);
    expect(first.status).toBe(200);
    expect(first.body.webhook_retention_days).toBe(45);
    const [event] = await eventsFor(h, 'settings');
    expect(event).toMatchObject({
      action: 'settings.updated',
      actor: 'key_bootstrap',
      object_type: 'settings',
      before: { webhook_retention_days: 30 },
      after: { webhook_retention_days: 45 },
    });
    expect(await countEvents(h)).toBe(count + 1);

    // the same request again: the first answer, replayed, even after the value changed meanwhile; no new event
    await h.request('PATCH', '/v1/settings', { webhook_retention_days: 50 });
    const replay = await h.request('PATCH', '/v1/settings', { webhook_retention_days: 45 }, headers);
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect((await h.request('GET', '/v1/settings')).body.webhook_retention_days).toBe(50);
    expect(await countEvents(h)).toBe(count + 2);
    const reused = await h.request('PATCH', '/v1/settings', { webhook_retention_days: 46 }, headers);
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('idempotency_key_reused');

    // a patch that changes nothing: 200, no event
    expect((await h.request('PATCH', '/v1/settings', { webhook_retention_days: 50 })).status).toBe(200);
    expect(await countEvents(h)).toBe(count + 2);
    // a refused patch records nothing either
    expect((await h.request('PATCH', '/v1/settings', { webhook_retention_days: 0 })).status).toBe(400);
    expect((await h.request('PATCH', '/v1/settings', { colour: 'red' })).status).toBe(400);
    expect(await countEvents(h)).toBe(count + 2);
    await h.request('PATCH', '/v1/settings', { webhook_retention_days: 30 });
  });

  it('filters by actor, object type, object id and time, pages newest first, and needs the admin scope', async () => {
    const h = get();
    const start = '2026-11-24T12:00:00Z';
    try {
      h.clock.set('2026-11-25T08:00:00Z');
      const a = (await h.request('POST', '/v1/api-keys', { name: 'filter a', scopes: ['read'] })).body.id as string;
      h.clock.set('2026-11-25T09:00:00Z');
      const b = (await h.request('POST', '/v1/api-keys', { name: 'filter b', scopes: ['read'] })).body.id as string;
      await h.request('PATCH', '/v1/settings', { stuck_after_seconds: 301 });
      h.clock.set('2026-11-25T10:00:00Z');
      await revokeApiKey(h.deps.db, a, h.deps.clock.now(), 'cli');

      const list = async (query: string) => {
        const res = await h.request('GET', `/v1/audit-events?${query}`);
        expect(res.status, query).toBe(200);
        return (res.body.data as AuditEvent[]).map((e) => `${e.action} ${e.object_id}`);
      };
      expect(await list('actor=cli&object_id=' + a)).toEqual([`api_key.revoked ${a}`]);
      expect(await list('created_after=2026-11-25T07:59:59Z&object_type=api_key')).toEqual([
        `api_key.revoked ${a}`,
        `api_key.created ${b}`,
        `api_key.created ${a}`,
      ]);
      expect(await list('created_after=2026-11-25T08:00:00Z&created_before=2026-11-25T10:00:00Z')).toEqual([
        'settings.updated settings',
        `api_key.created ${b}`,
      ]);
      expect(await list('object_type=settings&created_after=2026-11-25T00:00:00Z')).toEqual([
        'settings.updated settings',
      ]);
      expect(await list('action=api_key.created&created_after=2026-11-25T00:00:00Z')).toEqual([
        `api_key.created ${b}`,
        `api_key.created ${a}`,
      ]);
      expect(await list('actor=nobody')).toEqual([]);

      // pages of 2 through everything, newest first, no event twice
      const all = (await h.request('GET', '/v1/audit-events?limit=200')).body.data.map((e: AuditEvent) => e.id);
      expect(all).toEqual([...all].sort().reverse());
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { data: AuditEvent[]; next_cursor: string | null; has_more: boolean } } = await h.request(
          'GET',
          `/v1/audit-events?limit=2${cursor ? `&starting_after=${cursor}` : ''}`,
        );
        seen.push(...page.body.data.map((e) => e.id));
        cursor = page.body.next_cursor;
      } while (cursor !== null);
      expect(seen).toEqual(all);

      for (const [query, param] of [
        ['starting_after=key_00000000000000000000000000', 'starting_after'],
        ['created_after=yesterday', 'created_after'],
        ['limit=0', 'limit'],
        ['colour=red', 'colour'],
      ]) {
        const res = await h.request('GET', `/v1/audit-events?${query}`);
        expect(res.status, query).toBe(400);
        expect(res.body.error.param, query).toBe(param);
      }
      const write = await h.keyWith(['write']);
      const refused = await h.request('GET', '/v1/audit-events', undefined, {}, write);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('insufficient_scope');
    } finally {
      h.clock.set(start);
      await h.request('PATCH', '/v1/settings', { stuck_after_seconds: 300 });
    }
  });

  it('writes the event in the same transaction as the change: when the transaction fails, neither the change nor its event stays', async () => {
    const h = get();
    const count = await countEvents(h);
    // a command runner whose transaction fails after the work has done everything it does
    const failing: Pick<CommandRunner, 'run'> = {
      run: (idempotency, work) =>
        h.deps.commands.run(idempotency, async (trx) => {
          await work(trx);
          throw new Error('the commit failed');
        }),
    };
    const deps = { ...h.deps, commands: failing as CommandRunner };
    await expect(createApiKey(deps, { actor: 'test' }, { name: 'rolled back', scopes: ['read'] })).rejects.toThrow(
      'the commit failed',
    );
    await expect(createGateway(deps, { actor: 'api_key:key_bootstrap' }, gateway('Rolled back'))).rejects.toThrow(
      'the commit failed',
    );
    await expect(
      updateSettings(deps, { actor: 'api_key:key_bootstrap' }, { stuck_after_seconds: 999 }),
    ).rejects.toThrow('the commit failed');
    expect(await countEvents(h)).toBe(count);
    expect(await h.deps.db.selectFrom('api_keys').select('id').where('name', '=', 'rolled back').execute()).toEqual([]);
    expect(await h.deps.db.selectFrom('gateways').select('id').where('name', '=', 'Rolled back').execute()).toEqual([]);
    expect((await h.request('GET', '/v1/settings')).body.stuck_after_seconds).toBe(300);
    // a refused request records nothing either
    expect((await h.request('POST', '/v1/api-keys', { name: 'x'.repeat(201), scopes: ['read'] })).status).toBe(400);
    expect((await h.request('PATCH', '/v1/gateways/gw_00000000000000000000000000', { name: 'nobody' })).status).toBe(
      404,
    );
    expect(await countEvents(h)).toBe(count);
  });
});
