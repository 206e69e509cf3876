// Repeated statements run as named prepared statements on PostgreSQL (src/store/prepared-statements.ts).
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { StatementNames } from '../../src/store/prepared-statements.js';
import { describePostgres } from '../support/harness.js';

describe('StatementNames', () => {
  it('names a data statement the second time its text is seen, with the same name every time after', () => {
    const names = new StatementNames();
    const text = 'select * from transactions where id = $1';
    expect(names.nameFor(text)).toBeUndefined();
    const name = names.nameFor(text);
    expect(name).toMatch(/^settle_[0-9a-f]{20}$/);
    expect(names.nameFor(text)).toBe(name);
    expect(names.nameFor(`${text} `)).toBeUndefined();
  });

  it('never names anything but data statements', () => {
    const names = new StatementNames();
    for (const text of ['begin', 'commit', 'CREATE DATABASE x', 'set synchronous_commit = off', 'DROP DATABASE x']) {
      expect(names.nameFor(text)).toBeUndefined();
      expect(names.nameFor(text)).toBeUndefined();
    }
    expect(names.size).toBe(0);
    const cte = '  WITH updated AS (update t set v = $1 returning *) select * from updated';
    names.nameFor(cte);
    expect(names.nameFor(cte)).toBeDefined();
  });

  it('stops naming new texts at its limit and keeps the names it gave', () => {
    const names = new StatementNames(2);
    const named = ['select 1', 'select 2'].map((text) => {
      names.nameFor(text);
      return names.nameFor(text);
    });
    expect(named.every((n) => n !== undefined)).toBe(true);
    names.nameFor('select 3');
    expect(names.nameFor('select 3')).toBeUndefined();
    expect(names.size).toBe(2);
    expect(names.nameFor('select 1')).toBe(named[0]);
  });
});

describePostgres('named prepared statements on a pooled connection', (get) => {
  it('a statement sent twice through Kysely is prepared once on the connection and gives the same rows', async () => {
    const { db } = get().deps;
    await db.connection().execute(async (conn) => {
      const read = () => conn.selectFrom('settings').select(['key']).where('key', '=', 'timezone').execute();
      const first = await read();
      const second = await read();
      const third = await read();
      expect(second).toEqual(first);
      expect(third).toEqual(first);
      const prepared = await sql<{
        name: string;
        statement: string;
      }>`select name, statement from pg_prepared_statements`.execute(conn);
      const mine = prepared.rows.filter(
        (r) => r.statement.includes('from "settings"') && r.statement.includes('"key" = $1'),
      );
      expect(mine).toHaveLength(1);
      expect(mine[0]?.name).toMatch(/^settle_/);
    });
  });
});
