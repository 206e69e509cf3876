// Connected accounts (Connect, M6) through the real SDK and adapter against the emulator: creating one at the
// gateway, recording an existing acct_ id, the refusals (each a 4xx that writes nothing), concurrent records of one
// account (one row), listing and reading.
import { expect, it } from 'vitest';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { stripeFor } from '../webhooks/store-event.js';

const countAccounts = async (h: Harness) =>
  Number(
    (
      await h.deps.db
        .selectFrom('connected_accounts')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describeEachDatabase(
  'connected accounts against the emulator',
  (harness) => {
    it('creates an account at the gateway and records it', async () => {
      const h = harness();
      const res = await h.request('POST', '/v1/connected-accounts', {
        type: 'express',
        country: 'GB',
        email: 'seller@example.com',
        metadata: { shop: 'north' },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({
        object: 'connected_account',
        type: 'express',
        country: 'GB',
        email: 'seller@example.com',
        default_currency: 'GBP',
        charges_enabled: true,
        payouts_enabled: true,
        metadata: { shop: 'north' },
      });
      expect(res.body.id).toMatch(/^cac_/);
      expect(res.body.account).toMatch(/^acct_/);
      // The gateway's account names its Settle record.
      const account = await stripeFor(h).accounts.retrieve(res.body.account as string);
      expect(account.metadata).toMatchObject({ shop: 'north', settle_connected_account_id: res.body.id });
      const read = await h.request('GET', `/v1/connected-accounts/${res.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(res.body);
    });

    it('records an existing account after reading it at the gateway, once', async () => {
      const h = harness();
      const existing = await stripeFor(h).accounts.create({ type: 'custom', country: 'US' });
      const res = await h.request('POST', '/v1/connected-accounts', { account: existing.id });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({ account: existing.id, type: 'custom', country: 'US', default_currency: 'USD' });
      const before = await countAccounts(h);
      const again = await h.request('POST', '/v1/connected-accounts', { account: existing.id });
      expect(again.status, JSON.stringify(again.body)).toBe(409);
      expect(again.body.error).toMatchObject({ code: 'connected_account_exists' });
      expect(await countAccounts(h)).toBe(before);
    });

    it('records one row when the same account is recorded concurrently', async () => {
      const h = harness();
      const existing = await stripeFor(h).accounts.create({ type: 'standard' });
      const before = await countAccounts(h);
      const answers = await Promise.all(
        Array.from({ length: 4 }, () => h.request('POST', '/v1/connected-accounts', { account: existing.id })),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409]);
      expect(await countAccounts(h)).toBe(before + 1);
    });

    it('an Idempotency-Key is checked before the gateway: a replay creates nothing, another body is refused', async () => {
      const h = harness();
      const countLogs = async () =>
        Number(
          (
            await h.deps.db
              .selectFrom('gateway_logs')
              .select((eb) => eb.fn.countAll<string>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const headers = { 'idempotency-key': 'cac-once' };
      const first = await h.request('POST', '/v1/connected-accounts', { type: 'express', country: 'US' }, headers);
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      const accounts = await countAccounts(h);
      const logs = await countLogs();
      const replay = await h.request('POST', '/v1/connected-accounts', { type: 'express', country: 'US' }, headers);
      expect(replay.status).toBe(201);
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      const reused = await h.request('POST', '/v1/connected-accounts', { type: 'custom', country: 'GB' }, headers);
      expect(reused.status).toBe(409);
      expect(reused.body.error).toMatchObject({ code: 'idempotency_key_reused' });
      // Neither called the gateway (the log has a row for every request Settle sends) nor recorded an account.
      expect(await countLogs()).toBe(logs);
      expect(await countAccounts(h)).toBe(accounts);
      const listed = await stripeFor(h).accounts.list({ limit: 100 });
      expect(listed.data.filter((a) => a.metadata?.settle_connected_account_id === first.body.id)).toHaveLength(1);
    });

    it('refuses bad input and unknown accounts with a 4xx that writes nothing', async () => {
      const h = harness();
      const before = await countAccounts(h);
      const refusals: [Record<string, unknown>, number, string][] = [
        [{ account: 'acct_doesnotexist1' }, 400, 'account_not_found'],
        [{ account: 'ba_123' }, 400, 'parameter_invalid_value'],
        [{ account: 'acct_x', type: 'custom' }, 400, 'parameter_not_allowed'],
        [{ type: 'platinum' }, 400, 'parameter_invalid_value'],
        [{ country: 'us' }, 400, 'parameter_invalid_value'],
        [{ country: 'usa' }, 400, 'parameter_invalid'],
        [{ email: 'not an email' }, 400, 'parameter_invalid_value'],
        [{ gateway_id: 'gw_missing' }, 404, 'resource_missing'],
      ];
      for (const [body, status, code] of refusals) {
        const res = await h.request('POST', '/v1/connected-accounts', body);
        expect(res.status, JSON.stringify([body, res.body])).toBe(status);
        expect(res.body.error.code, JSON.stringify(body)).toBe(code);
      }
      expect((await h.request('POST', '/v1/connected-accounts', { bogus: 1 })).status).toBe(400);
      expect((await h.request('GET', '/v1/connected-accounts/cac_missing')).status).toBe(404);
      expect(await countAccounts(h)).toBe(before);
    });

    it('lists newest first, a page at a time', async () => {
      const h = harness();
      const all: string[] = [];
      let after: string | null = null;
      for (;;) {
        const res = await h.request(
          'GET',
          `/v1/connected-accounts?limit=2${after === null ? '' : `&starting_after=${after}`}`,
        );
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        all.push(...(res.body.data as { id: string }[]).map((a) => a.id));
        if (!res.body.has_more) break;
        after = res.body.next_cursor as string;
      }
      expect(all).toHaveLength(await countAccounts(h));
      expect([...all].sort().reverse()).toEqual(all);
      expect((await h.request('GET', '/v1/connected-accounts?starting_after=trx_1')).status).toBe(400);
    });
  },
  { emulator: true },
);
