// The last enabled admin (console users, app/users.ts): PATCH /v1/users/{id} refuses to demote or disable it with 409
// last_admin, writing nothing (no change, no audit event, its sessions untouched). Two demotions of the last two
// admins at once cannot both succeed: each locks the enabled admins in id order first (users-repo.ts
// lockEnabledAdmins), so the second sees what the first did.
import { expect, it } from 'vitest';
import { describeEachDatabase, describePostgres, expectStatus, type Harness } from '../support/harness.js';
import { insertUser, signIn } from './support.js';

async function auditCount(h: Harness, id: string): Promise<number> {
  const row = await h.deps.db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('object_id', '=', id)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function enabledAdmins(h: Harness): Promise<string[]> {
  const rows = await h.deps.db
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'admin')
    .where('disabled', '=', false)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

const patch = (h: Harness, id: string, body: Record<string, unknown>) => h.request('PATCH', `/v1/users/${id}`, body);

describeEachDatabase('the last enabled admin', (get) => {
  it('cannot be demoted or disabled (409 last_admin, nothing written); can once another admin exists', async () => {
    const h = get();
    const ann = await insertUser(h, 'ann@example.com', 'admin');
    const bob = await insertUser(h, 'bob@example.com', 'operator');
    const session = await signIn(h, 'ann@example.com');
    const before = (await h.request('GET', `/v1/users/${ann}`)).body;

    for (const body of [
      { role: 'operator' },
      { role: 'viewer' },
      { disabled: true },
      { role: 'viewer', disabled: true },
    ]) {
      const res = await patch(h, ann, body);
      expect(res.status, JSON.stringify(body)).toBe(409);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'last_admin' });
      expect(res.body.error.message).toMatch(/last enabled admin/);
    }
    expect((await h.request('GET', `/v1/users/${ann}`)).body).toEqual(before);
    expect(await auditCount(h, ann)).toBe(0);
    const live = await h.deps.db.selectFrom('sessions').select('revoked_at').where('user_id', '=', ann).execute();
    expect(live.map((s) => s.revoked_at)).toEqual([null]);
    expect(session.response.status).toBe(201);

    // Changes that keep the admin are fine (nothing to change: 200 as it is).
    expectStatus(await patch(h, ann, { role: 'admin', disabled: false }), 200);

    // With a second enabled admin, the first may go; then the second is the last.
    expectStatus(await patch(h, bob, { role: 'admin' }), 200);
    const disabled = await patch(h, ann, { disabled: true });
    expectStatus(disabled, 200);
    expect(disabled.body).toMatchObject({ disabled: true, role: 'admin' });
    expect(await enabledAdmins(h)).toEqual([bob]);
    expect((await patch(h, bob, { role: 'viewer' })).body.error.code).toBe('last_admin');
    expect((await patch(h, bob, { disabled: true })).body.error.code).toBe('last_admin');

    // A disabled admin is not counted, and may be demoted; enabling it again makes two.
    expectStatus(await patch(h, ann, { role: 'operator' }), 200);
    expectStatus(await patch(h, ann, { role: 'admin', disabled: false }), 200);
    expect(await enabledAdmins(h)).toEqual([ann, bob].sort());
    expectStatus(await patch(h, bob, { role: 'operator' }), 200);
    expect(await enabledAdmins(h)).toEqual([ann]);
  });
});

describePostgres('the last two admins demoted at once', (get) => {
  it('one demotion succeeds, the other is 409 last_admin: an enabled admin always remains', async () => {
    const h = get();
    for (let round = 0; round < 8; round += 1) {
      // Exactly two enabled admins, then each demoted (or disabled) by its own request, at once.
      for (const id of await enabledAdmins(h)) {
        await h.deps.db.updateTable('users').set({ role: 'operator' }).where('id', '=', id).execute();
      }
      const first = await insertUser(h, `first${round}@example.com`, 'admin');
      const second = await insertUser(h, `second${round}@example.com`, 'admin');
      const results = await Promise.all([
        patch(h, first, round % 2 === 0 ? { role: 'viewer' } : { disabled: true }),
        patch(h, second, { role: 'operator' }),
      ]);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses, JSON.stringify(results.map((r) => r.body))).toEqual([200, 409]);
      expect(results.find((r) => r.status === 409)!.body.error.code).toBe('last_admin');
      expect(await enabledAdmins(h)).toHaveLength(1);
    }
  });
});
