// Benchmarks `create-transactions` and `create-transactions-idempotent`: POST /v1/transactions through
// the whole HTTP layer in-process (app.inject(): routing, bearer auth, body validation, the command
// runner's database transaction with the transaction row and its history row, response serialisation),
// each answered 201. The idempotent variant sends a fresh Idempotency-Key with every request, as a
// careful client does, which adds the key's claim and its stored response to every create.
import { sql } from 'kysely';
import { BENCH_ADMIN_KEY, DATABASE_LABELS, openBenchApp, type BenchApp } from './databases.js';
import {
  type Benchmark,
  type BenchContext,
  type BenchRow,
  type OperationResult,
  runLoad,
  toRow,
  withCpuProfile,
} from './harness.js';

const BASE_OPERATIONS = 5000;
const CONCURRENCIES = [1, 8] as const;
/** The production default DATABASE_POOL_SIZE; never below the number of callers. */
const DEFAULT_POOL_SIZE = 10;

const HEADERS = { authorization: `Bearer ${BENCH_ADMIN_KEY}`, 'content-type': 'application/json' };
const CURRENCIES = ['usd', 'eur', 'gbp'] as const;

/** A realistic create body: amount, currency, due date, auto-process, description, two metadata keys. */
export function transactionBody(index: number): string {
  const day = String(1 + (index % 28)).padStart(2, '0');
  return JSON.stringify({
    amount: 1000 + ((index * 7919) % 99_000),
    currency: CURRENCIES[index % CURRENCIES.length],
    due_date: `2026-12-${day}`,
    auto_process: index % 2 === 0,
    description: `Invoice INV-${100_000 + index} for monthly subscription`,
    metadata: { order_id: `ord_${100_000 + index}`, customer_ref: `cus_${index % 500}` },
  });
}

interface Variant {
  name: string;
  /** A unique Idempotency-Key per request, or none. */
  idempotent: boolean;
}

async function createOne(app: BenchApp, variant: Variant, runId: string, index: number): Promise<OperationResult> {
  const headers = variant.idempotent ? { ...HEADERS, 'idempotency-key': `bench-${runId}-${index}` } : HEADERS;
  const response = await app.app.inject({
    method: 'POST',
    url: '/v1/transactions',
    headers,
    payload: transactionBody(index),
  });
  if (response.statusCode === 201) return true;
  return `HTTP ${response.statusCode}: ${response.body.slice(0, 300)}`;
}

interface Counts {
  transactions: number;
  history: number;
  /** Transactions without their 'created' history row. */
  withoutHistory: number;
  /** Idempotency keys stored as done (with their response). */
  keysDone: number;
  keysTotal: number;
}

async function countRows(app: BenchApp): Promise<Counts> {
  type Count = string | number;
  const result = await sql<{
    transactions: Count;
    history: Count;
    without_history: Count;
    keys_done: Count;
    keys_total: Count;
  }>`
    select
      (select count(*) from transactions) as transactions,
      (select count(*) from transaction_history) as history,
      (select count(*) from transactions t
        where not exists (select 1 from transaction_history h where h.transaction_id = t.id and h.action = 'created')) as without_history,
      (select count(*) from idempotency_keys where state = 'done' and response_status = 201) as keys_done,
      (select count(*) from idempotency_keys) as keys_total
  `.execute(app.db);
  const row = result.rows[0];
  if (!row) throw new Error('count query returned no row');
  return {
    transactions: Number(row.transactions),
    history: Number(row.history),
    withoutHistory: Number(row.without_history),
    keysDone: Number(row.keys_done),
    keysTotal: Number(row.keys_total),
  };
}

async function runRow(
  context: BenchContext,
  variant: Variant,
  app: BenchApp,
  concurrency: number,
  operations: number,
): Promise<BenchRow> {
  const runId = `${app.target}-c${concurrency}-${Date.now().toString(36)}`;
  const warmup = await runLoad(context.warmup, concurrency, (i) => createOne(app, variant, runId, i));
  const measured = await withCpuProfile(`${variant.name}-${app.target}-c${concurrency}`, () =>
    runLoad(operations, concurrency, (i) => createOne(app, variant, runId, context.warmup + i)),
  );
  const created = warmup.operations - warmup.failures + (measured.operations - measured.failures);
  const counts = await countRows(app);
  const notes: string[] = [];
  let otherFailures = 0;
  if (warmup.failures > 0) {
    otherFailures += warmup.failures;
    notes.push(`${warmup.failures} warm-up failures (first: ${warmup.firstFailure ?? '?'})`);
  }
  const expectedKeys = variant.idempotent ? created : 0;
  const verified =
    counts.transactions === created &&
    counts.history === created &&
    counts.withoutHistory === 0 &&
    counts.keysDone === expectedKeys &&
    counts.keysTotal === expectedKeys;
  const keys = variant.idempotent ? ` and ${counts.keysDone} idempotency keys done` : '';
  if (verified) {
    notes.push(
      `verified: ${counts.transactions} transactions, ${counts.history} history rows${keys} for ${created} created (incl. warm-up)`,
    );
  } else {
    otherFailures += 1;
    notes.push(
      `VERIFICATION FAILED: ${created} created (incl. warm-up) but ${counts.transactions} transactions, ${counts.history} history rows, ` +
        `${counts.withoutHistory} transactions without a 'created' history row, ${counts.keysDone}/${counts.keysTotal} idempotency keys done/stored`,
    );
  }
  return toRow(
    { benchmark: variant.name, database: app.label, concurrency, pool_size: app.poolSize },
    measured,
    notes,
    otherFailures,
  );
}

function createBenchmark(variant: Variant, description: string): Benchmark {
  return {
    name: variant.name,
    description,
    async run(context) {
      const operations = Math.max(1, Math.round(BASE_OPERATIONS * context.scale));
      const rows: BenchRow[] = [];
      for (const target of context.databases) {
        const postgres = 'url' in context.postgres ? context.postgres : undefined;
        if (target === 'postgres' && !postgres) {
          context.log(
            `${variant.name}: ${DATABASE_LABELS.postgres} rows skipped: ${'skipped' in context.postgres ? context.postgres.skipped : ''}`,
          );
          continue;
        }
        for (const concurrency of CONCURRENCIES) {
          const poolSize = Math.max(concurrency, DEFAULT_POOL_SIZE);
          context.log(
            `${variant.name}: ${DATABASE_LABELS[target]}, ${concurrency} caller(s), ${context.warmup} warm-up + ${operations} measured requests...`,
          );
          const app = await openBenchApp(target, { ...(postgres ? { postgres } : {}), poolSize });
          try {
            rows.push(await runRow(context, variant, app, concurrency, operations));
          } finally {
            await app.close();
          }
        }
      }
      return rows;
    },
  };
}

export const createTransactions = createBenchmark(
  { name: 'create-transactions', idempotent: false },
  'POST /v1/transactions through app.inject() with the admin bearer key, answered 201; one operation is one created transaction.',
);

export const createTransactionsIdempotent = createBenchmark(
  { name: 'create-transactions-idempotent', idempotent: true },
  'As create-transactions, with a fresh Idempotency-Key header on every request (the key is claimed and the response stored).',
);
