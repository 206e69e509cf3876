import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/app/ids.js';
import { parseInt8 } from '../../src/store/database.js';
import pg from 'pg';
import { createTestDatabase, databaseKinds, postgresUrl, type TestDatabase } from '../support/databases.js';

describe('int8 parsing', () => {
  it('gives safe numbers and refuses values a number cannot hold exactly', () => {
    expect(parseInt8('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseInt8('-9007199254740991')).toBe(-Number.MAX_SAFE_INTEGER);
    expect(() => parseInt8('9007199254740993')).toThrow(/safe integer/);
  });
});

describe('ids', () => {
  it('carry their type prefix and sort in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => newId('transaction', 1_790_000_000_000));
    expect(ids.every((id) => /^trx_[0-9a-z]{26}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(newId('transaction', 1_700_000_000_000) > ids[ids.length - 1]!).toBe(true);
  });
});

for (const kind of databaseKinds()) {
  describe(`storage [${kind}]`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await createTestDatabase(kind);
    });
    afterAll(async () => {
      await t.drop();
    });

    it('parses int8, date and timestamptz the same way on both drivers', async () => {
      const r = await sql<{ big: number; day: string; at: Date; neg: number }>`
        select 9007199254740991::int8 as big, -42::int8 as neg, '2026-02-28'::date as day, '2026-11-24T12:00:00Z'::timestamptz as at`.execute(
        t.database.db,
      );
      expect(r.rows[0]).toEqual({
        big: Number.MAX_SAFE_INTEGER,
        neg: -42,
        day: '2026-02-28',
        at: new Date('2026-11-24T12:00:00Z'),
      });
      await expect(sql`select 9007199254740993::int8 as big`.execute(t.database.db)).rejects.toThrow(/safe integer/);
    });

    it('refuses impossible amounts and states at the database level too', async () => {
      const base = {
        record_type: 'charge',
        transaction_type: 'normal',
        status: 'open',
        amount: 100,
        currency: 'USD',
        source: 'api',
        metadata: '{}',
        version: 1,
      };
      const insert = (over: Record<string, unknown>) =>
        t.database.db
          .insertInto('transactions')
          .values({ ...base, id: newId('transaction'), ...over } as never)
          .execute();
      await expect(insert({})).resolves.toBeDefined();
      await expect(
        insert({ authorized_amount: 100, captured_amount: 101, status: 'completed', payment_status: 'captured' }),
      ).rejects.toThrow(/captured_le_authorized/);
      await expect(
        insert({
          authorized_amount: 100,
          captured_amount: 100,
          refunded_amount: 101,
          status: 'completed',
          payment_status: 'refunded',
        }),
      ).rejects.toThrow(/refunded_le_captured/);
      await expect(insert({ status: 'completed' })).rejects.toThrow(/payment_status_iff_completed/);
      await expect(insert({ payment_status: 'captured' })).rejects.toThrow(/payment_status_iff_completed/);
      await expect(insert({ transaction_type: 'refund', amount: -5 })).rejects.toThrow(/refund_has_original/);
      await expect(insert({ amount: -5 })).rejects.toThrow(/refund_sign/);
      await expect(insert({ currency: 'usd' })).rejects.toThrow(/currency/);
    });

    it('runs two transactions at once without mixing them (one PGlite connection, handed out one caller at a time)', async () => {
      const db = t.database.db;
      await sql`create table if not exists probe (n int)`.execute(db);
      let inside!: () => void;
      const isInside = new Promise<void>((resolve) => (inside = resolve));
      const failing = db.transaction().execute(async (trx) => {
        await sql`insert into probe values (1)`.execute(trx);
        inside();
        await new Promise((resolve) => setTimeout(resolve, 50));
        await sql`insert into probe values (4)`.execute(trx);
        throw new Error('roll back');
      });
      await isInside;
      // started while the first transaction is open: neither may run inside it
      const outside = sql`insert into probe values (3)`.execute(db);
      const other = db.transaction().execute(async (trx) => {
        await sql`insert into probe values (2)`.execute(trx);
      });
      await expect(failing).rejects.toThrow('roll back');
      await other;
      await outside;
      const rows = await sql<{ n: number }>`select n from probe order by n`.execute(db);
      expect(rows.rows.map((r) => r.n)).toEqual([2, 3]);
    });
  });
}

describe.skipIf(!process.env.TEST_DATABASE_URL)('PostgreSQL connections closed by the server', () => {
  it('survive: the process keeps running and the next query opens a new connection', async () => {
    const t = await createTestDatabase('postgres', 4);
    try {
      const { db } = t.database;
      // open several connections and leave them idle in the pool
      await Promise.all(Array.from({ length: 4 }, () => sql`select pg_sleep(0.02)`.execute(db)));
      const admin = new pg.Client({ connectionString: postgresUrl() });
      await admin.connect();
      try {
        const killed = await admin.query(
          'select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = $1',
          [new URL(t.url!).pathname.slice(1)],
        );
        expect(killed.rows[0].n).toBeGreaterThan(0);
      } finally {
        await admin.end();
      }
      // give the sockets time to deliver the FATAL message: unheard, it would be an uncaught 'error'
      await new Promise((resolve) => setTimeout(resolve, 100));
      const rows = await sql<{ one: number }>`select 1::int as one`.execute(db);
      expect(rows.rows[0]!.one).toBe(1);
    } finally {
      await t.drop();
    }
  });
});
