// Concurrent writes to configuration (PostgreSQL: PGlite has one connection, so nothing there runs at once):
// revoking one key from many requests, creating a key with one Idempotency-Key from many requests, and changing
// settings from many requests. Each change happens once, and its audit trail holds exactly one event per change.
import { expect, it } from 'vitest';
import { describePostgres } from '../support/harness.js';

const N = 10;

describePostgres(
  'configuration writes at the same time',
  (get) => {
    it('revokes a key once when many requests revoke it at once: one revoked_at, one audit event', async () => {
      const h = get();
      const created = await h.request('POST', '/v1/api-keys', { name: 'contested', scopes: ['read'] });
      expect(created.status).toBe(201);
      const answers = await Promise.all(
        Array.from({ length: N }, () => h.request('POST', `/v1/api-keys/${created.body.id}/revoke`)),
      );
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: N }, () => 200));
      expect(new Set(answers.map((a) => a.body.revoked_at)).size).toBe(1);
      const events = await h.request('GET', `/v1/audit-events?object_id=${created.body.id}&limit=200`);
      expect(events.body.data.map((e: { action: string }) => e.action).sort()).toEqual([
        'api_key.created',
        'api_key.revoked',
      ]);
    });

    it('creates one key for one Idempotency-Key sent by many requests at once; only one answer carries the secret', async () => {
      const h = get();
      const headers = { 'Idempotency-Key': 'concurrent-key-create' };
      const answers = await Promise.all(
        Array.from({ length: N }, () =>
          h.request('POST', '/v1/api-keys', { name: 'once', scopes: ['write'] }, headers),
        ),
      );
      const created = answers.filter((a) => a.status === 201);
      // The first does the work; the others replay it (secret null) or are told it is still in use (409).
      expect(
        answers.every((a) => a.status === 201 || (a.status === 409 && a.body.error.code === 'idempotency_key_in_use')),
      ).toBe(true);
      expect(created.filter((a) => a.body.secret !== null)).toHaveLength(1);
      expect(new Set(created.map((a) => a.body.id)).size).toBe(1);
      const keys = await h.request('GET', '/v1/api-keys?limit=200');
      expect(keys.body.data.filter((k: { name: string }) => k.name === 'once')).toHaveLength(1);
      const events = await h.request('GET', `/v1/audit-events?object_id=${created[0]!.body.id}&limit=200`);
      expect(events.body.data).toHaveLength(1);
    });

    it('applies concurrent settings changes one after another: each audit event starts where the previous ended', async () => {
      const h = get();
      const values = Array.from({ length: N }, (_, i) => 40 + i); // none is the default (a change to the same value records nothing)
      const answers = await Promise.all(
        values.map((days) => h.request('PATCH', '/v1/settings', { webhook_retention_days: days })),
      );
      expect(answers.map((a) => a.status)).toEqual(values.map(() => 200));
      const page = await h.request('GET', '/v1/audit-events?object_type=settings&limit=200');
      const events = [
        ...(page.body.data as { before: Record<string, unknown>; after: Record<string, unknown> }[]),
      ].reverse();
      const last = events.slice(-N);
      expect(last).toHaveLength(N);
      // Serialised by the settings lock: no change was made from a stale read.
      for (let i = 1; i < last.length; i += 1) {
        expect(last[i]!.before.webhook_retention_days).toBe(last[i - 1]!.after.webhook_retention_days);
      }
      const final = await h.request('GET', '/v1/settings');
      expect(final.body.webhook_retention_days).toBe(last.at(-1)!.after.webhook_retention_days);
    });
  },
  { poolSize: 20 },
);
