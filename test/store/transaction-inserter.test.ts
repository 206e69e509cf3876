// Group commit: creates that arrive together share one statement, and a bad row fails only itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/app/ids.js';
import { transactionDefaults } from '../../src/app/transactions/create-transaction.js';
import type { NewTransactionRow } from '../../src/store/schema.js';
import { TransactionInserter } from '../../src/store/transaction-inserter.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js';

/**
 * A complete row: every column of transactionDefaults (the one list of a new row's columns, so that a column added
 * by a migration is covered here without touching this file), with an amount, a due date and metadata.
 */
function row(over: Partial<NewTransactionRow> = {}): NewTransactionRow {
  const now = new Date('2026-11-24T12:00:00.123Z');
  return {
    ...transactionDefaults(newId('transaction'), now),
    amount: 1000,
    due_date: '2026-12-01',
    description: 'batch',
    metadata: JSON.stringify({ k: 'v' }),
    ...over,
  };
}

for (const kind of databaseKinds()) {
  describe(`transaction inserter [${kind}]`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await createTestDatabase(kind, 10);
    });
    afterAll(async () => {
      await t.drop();
    });

    it('writes each row with its history and returns exactly what a read gives back', async () => {
      const inserter = new TransactionInserter(t.database.db, { prepared: t.database.prepared });
      const rows = Array.from({ length: 30 }, (_, i) => row({ amount: 100 + i }));
      const stored = await Promise.all(rows.map((r) => inserter.insert(r, 'tester')));
      for (const [i, s] of stored.entries()) {
        const read = await t.database.db
          .selectFrom('transactions')
          .selectAll()
          .where('id', '=', rows[i]!.id)
          .executeTakeFirstOrThrow();
        expect(s).toEqual(read);
        const history = await t.database.db
          .selectFrom('transaction_history')
          .selectAll()
          .where('transaction_id', '=', rows[i]!.id)
          .execute();
        expect(history).toHaveLength(1);
        expect(history[0]).toMatchObject({ actor: 'tester', action: 'created' });
        expect(history[0]!.changes.amount).toEqual([null, 100 + i]);
        expect(history[0]!.changes.metadata).toEqual([null, { k: 'v' }]);
        expect(history[0]!.changes).not.toHaveProperty('gateway_fee');
      }
    });

    it('batches rows that arrive together into fewer statements', async () => {
      let statements = 0;
      const prepared = t.database.prepared;
      const inserter = new TransactionInserter(t.database.db, {
        maxInFlight: 1,
        prepared: prepared ? (name, text, params) => ((statements += 1), prepared(name, text, params)) : undefined,
      });
      if (!prepared) {
        // PGlite: count statements through a wrapped Kysely instead
        const original = t.database.db.executeQuery.bind(t.database.db);
        (t.database.db as any).executeQuery = (q: any) => ((statements += 1), original(q));
        try {
          await Promise.all(Array.from({ length: 20 }, () => inserter.insert(row(), 'tester')));
        } finally {
          (t.database.db as any).executeQuery = original;
        }
      } else {
        await Promise.all(Array.from({ length: 20 }, () => inserter.insert(row(), 'tester')));
      }
      expect(statements).toBeGreaterThan(0);
      expect(statements).toBeLessThan(20);
    });

    it('a bad row fails only its own insert; the rest of its batch is written', async () => {
      const inserter = new TransactionInserter(t.database.db, { maxInFlight: 1, prepared: t.database.prepared });
      const good = Array.from({ length: 9 }, () => row({ description: 'neighbour' }));
      const bad = row({ currency: 'usd', description: 'bad' }); // violates the currency CHECK
      const results = await Promise.allSettled(
        [...good.slice(0, 4), bad, ...good.slice(4)].map((r) => inserter.insert(r, 'tester')),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(9);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(String(rejected[0]!.reason)).toMatch(/currency/);
      const stored = await t.database.db
        .selectFrom('transactions')
        .select('id')
        .where('description', 'in', ['neighbour', 'bad'])
        .execute();
      expect(stored.map((s) => s.id).sort()).toEqual(good.map((g) => g.id).sort());
      const history = await t.database.db
        .selectFrom('transaction_history')
        .select('transaction_id')
        .where('transaction_id', '=', bad.id)
        .execute();
      expect(history).toHaveLength(0);
    });

    it('a statement that fails writes neither the transaction nor its history', async () => {
      const inserter = new TransactionInserter(t.database.db, { prepared: t.database.prepared });
      const first = row();
      await inserter.insert(first, 'tester');
      await expect(inserter.insert({ ...first }, 'tester')).rejects.toThrow();
      const history = await t.database.db
        .selectFrom('transaction_history')
        .select('id')
        .where('transaction_id', '=', first.id)
        .execute();
      expect(history).toHaveLength(1);
    });
  });
}
