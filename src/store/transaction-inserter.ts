// Group commit for new transactions (group-commit.ts): creates that arrive together are written by one statement
// (a multi-row INSERT of the transactions and their history rows, atomic on its own). Each caller's promise
// resolves only after that statement has committed, so a 201 still means "on disk". If a batch fails, its rows are
// retried one by one: a bad row fails only its own request (the failed statement wrote nothing).
import { createHash } from 'node:crypto';
import { CompiledQuery, type Kysely } from 'kysely';
import type { PreparedExecutor } from './database.js';
import type { Database, NewTransactionRow, TransactionRow } from './schema.js';
import { GroupCommit } from './group-commit.js';
import { creationChanges, type HistoryEntry, historyParams, historyValuesSql } from './history.js';

interface Pending {
  row: NewTransactionRow;
  history: HistoryEntry;
  resolve: (row: TransactionRow) => void;
  reject: (error: unknown) => void;
}

export interface InserterOptions {
  maxBatch?: number;
  maxInFlight?: number;
  /** PostgreSQL's prepared-statement path (see database.ts); without it the statement goes through Kysely. */
  prepared?: PreparedExecutor | undefined;
}

export class TransactionInserter {
  readonly #db: Kysely<Database>;
  readonly #prepared: PreparedExecutor | undefined;
  readonly #batches: GroupCommit<Pending>;

  constructor(db: Kysely<Database>, options: InserterOptions = {}) {
    this.#db = db;
    this.#prepared = options.prepared;
    this.#batches = new GroupCommit((batch) => this.#write(batch), options);
  }

  /** Inserts a transaction with its history row; resolves with the stored row once committed. */
  insert(row: NewTransactionRow, actor: string, action = 'created'): Promise<TransactionRow> {
    const changes = creationChanges(row);
    return new Promise<TransactionRow>((resolve, reject) => {
      this.#batches.push({ row, history: { transaction_id: row.id, actor, action, changes }, resolve, reject });
    });
  }

  async #write(batch: Pending[]): Promise<void> {
    try {
      const rows = await this.#statement(batch);
      batch.forEach((pending, i) => pending.resolve(rows[i] as TransactionRow));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // Nothing of the batch was written; give each row its own statement and its own outcome.
      await Promise.all(batch.map((pending) => this.#write([pending])));
    }
  }

  /**
   * One statement for the batch: the transactions and their history rows. Settle supplies every column
   * (no database defaults are involved), so the stored rows are exactly the ones sent and nothing needs
   * to come back; the SQL text is built once per batch size.
   */
  async #statement(batch: Pending[]): Promise<TransactionRow[]> {
    const first = batch[0];
    if (!first) return [];
    const columns = Object.keys(first.row) as (keyof NewTransactionRow)[];
    const params: unknown[] = [];
    for (const pending of batch) {
      if (Object.keys(pending.row).length !== columns.length)
        throw new Error('rows of one batch must have the same columns');
      for (const column of columns) params.push(pending.row[column] ?? null);
    }
    for (const pending of batch) params.push(...historyParams(pending.history));
    const { name, text } = this.#sqlFor(columns, batch.length);
    if (this.#prepared) await this.#prepared(name, text, params);
    else await this.#db.executeQuery(CompiledQuery.raw(text, params));
    return batch.map((pending) => ({ ...pending.row, metadata: JSON.parse(pending.row.metadata) }) as TransactionRow);
  }

  #sqlCache = new Map<string, { name: string; text: string }>();

  #sqlFor(columns: readonly string[], rows: number): { name: string; text: string } {
    const key = `${rows}:${columns.join(',')}`;
    const cached = this.#sqlCache.get(key);
    if (cached) return cached;
    let n = 0;
    const tuple = (width: number) => `(${Array.from({ length: width }, () => `$${++n}`).join(', ')})`;
    const txValues = Array.from({ length: rows }, () => tuple(columns.length)).join(', ');
    const text =
      `WITH inserted AS (INSERT INTO transactions (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${txValues}) ` +
      historyValuesSql(rows, n + 1);
    const name = `settle_insert_transactions_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    const entry = { name, text };
    if (this.#sqlCache.size > 256) this.#sqlCache.clear();
    this.#sqlCache.set(key, entry);
    return entry;
  }
}
