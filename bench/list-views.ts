// Benchmark `list-views` (issue 19): the first page of each list view of GET /v1/transactions, and of the filters by
// parent, invoice and account, over 1,000,000 transactions (BENCH_SCALE scales them; PostgreSQL only). One operation
// is one GET answered 200 (limit 20, newest first, through app.inject: auth, the query, the payment-method join,
// serialisation); 50 per row, one caller. Target: p95 at most 50 ms at scale 1.
//
// The transactions are seeded set-based (INSERT ... SELECT, 50,000 per statement, foreign keys checked) with the
// totals and allocation triggers off, and the allocations, invoice balances and totals then written set-based and
// checked by the auditor's recomputation (seedLedger says why). Two years of ids, newest last, with a mix a ledger of
// that age has (per mille, decided by a hash of the row number):
// - older than 35 days: 820 paid (1 in 10 of them non-gateway; 1 in 25 gateway ones not on an invoice refunded, with
//   their refund row), 80 failed, 50 canceled, 15 on hold, 15 open manual ones past their due date (overdue), 5 open
//   auto-process with an expired card (to_fix), 3 open auto-process without a due date (to_fix), 12 paid;
// - the last 35 days: 550 generated ahead (auto-process, due 30 days after creation: open while due today or later,
//   else paid or 1 in 20 failed), 150 paid, 50 authorized and not captured, 50 failed, 70 open manual (due 14 days
//   after creation), 30 open with an expired card, 20 open without a due date, 40 canceled, 40 on hold;
// - a quarter of the failed ones have a reattempt: open (auto-process, due 3 days later) for the last 35 days' ones,
//   paid before;
// - every transaction is on an account (1 in 20 on one large account; 1 in 20 of the older half on one account whose
//   transactions are all old, a customer who left a year ago; the rest over N/50 accounts, each with a valid and an
//   expired card), half on a parent (the same: one large parent, one with only old transactions, the rest over N/40
//   parents), 1 in 100 of the paid, generated and manual ones on an invoice (1 in 2,000 on one large invoice, the
//   rest over N/400 invoices); a fifth of those not on an invoice are in EUR.
// Then VACUUM (ANALYZE), as autovacuum would have done. Each row's first page must answer 200 with transactions; the
// note says whether it is full. The query plans (EXPLAIN (ANALYZE, BUFFERS) of each measured query, as
// store/transaction-listings.ts builds it) are written to bench/results/list-views-plans.txt.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../src/store/schema.js';
import { TOTALS_AMOUNT_FIELDS } from '../src/store/totals-repo.js';
import { listTransactionsPage, type TransactionFilters, TRANSACTION_VIEWS } from '../src/store/transaction-listings.js';
import { openBenchApp, postgresOnly, type BenchApp } from './databases.js';
import { type Benchmark, type BenchRow, type OperationResult, runLoad, toRow } from './harness.js';
import {
  fixed,
  executeSeed,
  JSON_HEADERS,
  recomputedTotalsDifferences,
  seedAccounts,
  seededId,
  seededIdSql,
  seededTransactionIdSql,
  seedInChunks,
  seedParents,
  vacuumAnalyze,
} from './ledger-seed.js';

const NAME = 'list-views';
const BASE_TRANSACTIONS = 1_000_000;
const CHUNK = 50_000;
const REQUESTS = 50;
const P95_TARGET_MS = 50;
const POOL_SIZE = 10;
const PLANS_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'list-views-plans.txt');

export interface Sizes {
  transactions: number;
  accounts: number;
  parents: number;
  invoices: number;
}

const utcDay = (expression: string) => `((${expression}) AT TIME ZONE 'UTC')::date`;
const TODAY = utcDay('now()');

/** One chunk of the generated ledger (the mix is described at the top of this file). */
function ledgerStatement(sizes: Sizes, lo: number, hi: number) {
  const n = sizes.transactions;
  return sql`
    WITH g AS (
      SELECT i, now() - (1 - i::float8 / ${n}) * interval '730 days' AS at,
        abs(hashint8(i::int8)) % 1000 AS h, abs(hashint8(i::int8 + 1000003)) % 1000 AS h2
      FROM generate_series(${lo}::int, ${hi - 1}::int) AS i
    ), k AS (
      SELECT g.*, ${sql.raw(utcDay('g.at'))} AS day,
        CASE WHEN g.at > now() - interval '35 days' THEN
          CASE WHEN h < 550 THEN CASE WHEN ${sql.raw(utcDay('g.at'))} + 30 >= ${sql.raw(TODAY)} THEN 'scheduled'
                 WHEN h2 < 50 THEN 'failed' ELSE 'paid' END
            WHEN h < 700 THEN 'paid' WHEN h < 750 THEN 'authorized' WHEN h < 800 THEN 'failed'
            WHEN h < 870 THEN 'manual' WHEN h < 900 THEN 'fix_card' WHEN h < 920 THEN 'fix_no_due'
            WHEN h < 960 THEN 'canceled' ELSE 'on_hold' END
        ELSE
          CASE WHEN h < 820 THEN 'paid' WHEN h < 835 THEN 'manual' WHEN h < 840 THEN 'fix_card'
            WHEN h < 920 THEN 'failed' WHEN h < 970 THEN 'canceled' WHEN h < 985 THEN 'on_hold'
            WHEN h < 988 THEN 'fix_no_due' ELSE 'paid' END
        END AS kind,
        CASE WHEN i % 20 = 1 THEN 0 WHEN i % 20 = 6 AND i < ${n / 2} THEN 1
          ELSE 2 + abs(hashint8(i::int8 + 2000003)) % ${sizes.accounts - 2} END AS acct,
        CASE WHEN i % 20 = 2 THEN 0 WHEN i % 20 = 7 AND i < ${n / 2} THEN 1
          WHEN h2 >= 500 THEN 2 + abs(hashint8(i::int8 + 3000017)) % ${sizes.parents - 2} END AS par,
        (1000 + (i::int8 * 7919) % 99000) AS amount
      FROM g
    ), r AS (
      SELECT k.*,
        k.kind = 'paid' AND k.h2 < 100 AS ng,
        k.kind = 'paid' AND k.h2 >= 100 AND k.i % 25 = 0 AND k.i % 100 <> 3 AS refunded,
        CASE WHEN k.kind IN ('paid', 'scheduled', 'manual') AND k.i % 100 = 3 THEN
          CASE WHEN k.i % 2000 = 3 THEN 0 ELSE 1 + (k.i / 100) % ${sizes.invoices - 1} END END AS inv
      FROM k
    )
    INSERT INTO transactions (id, record_type, transaction_type, status, payment_status, amount, currency,
      authorized_amount, captured_amount, refunded_amount, non_gateway, auto_process, due_date, payment_method_id,
      account_id, parent_id, invoice_id, source, gateway_fee, net_amount, description, processed_at, created_at,
      updated_at)
    SELECT ${sql.raw(seededTransactionIdSql('(extract(epoch FROM r.at) * 1000)::int8', 'r.i'))}, 'charge', 'normal',
      CASE WHEN r.kind IN ('scheduled', 'manual', 'fix_card', 'fix_no_due') THEN 'open'
        WHEN r.kind IN ('paid', 'authorized') THEN 'completed' ELSE r.kind END,
      CASE WHEN r.kind = 'authorized' THEN 'authorized' WHEN r.refunded THEN 'refunded'
        WHEN r.kind = 'paid' THEN 'captured' END,
      r.amount, CASE WHEN r.inv IS NULL AND r.h2 % 5 = 0 THEN 'EUR' ELSE 'USD' END,
      CASE WHEN r.kind IN ('paid', 'authorized') THEN r.amount ELSE 0 END,
      CASE WHEN r.kind = 'paid' THEN r.amount ELSE 0 END,
      CASE WHEN r.refunded THEN r.amount ELSE 0 END,
      r.ng, r.kind IN ('scheduled', 'fix_card', 'fix_no_due'),
      CASE r.kind WHEN 'manual' THEN r.day + 14 WHEN 'fix_no_due' THEN NULL ELSE r.day + 30 END,
      CASE WHEN r.kind = 'fix_card' THEN ${sql.raw(seededIdSql('pmt', 'r.acct', 'e'))}
        WHEN r.ng OR r.kind = 'manual' THEN NULL ELSE ${sql.raw(seededIdSql('pmt', 'r.acct', 'v'))} END,
      ${sql.raw(seededIdSql('acc', 'r.acct'))},
      CASE WHEN r.par IS NOT NULL THEN ${sql.raw(seededIdSql('par', 'r.par'))} END,
      CASE WHEN r.inv IS NOT NULL THEN ${sql.raw(seededIdSql('inv', 'r.inv'))} END,
      'api',
      CASE WHEN r.kind = 'paid' AND NOT r.ng THEN r.amount * 29 / 1000 + 30 END,
      CASE WHEN r.kind = 'paid' AND NOT r.ng THEN r.amount - (r.amount * 29 / 1000 + 30) END,
      'Seeded ' || r.kind || ' ' || r.i,
      CASE WHEN r.kind IN ('paid', 'authorized', 'failed') THEN r.at END, r.at, r.at
    FROM r
  `;
}

/** The refund row of every refunded charge: completed, its whole amount, a little later than the charge. */
const refundsStatement = sql`
  INSERT INTO transactions (id, record_type, transaction_type, status, payment_status, amount, currency,
    payment_method_id, account_id, parent_id, original_transaction_id, source, description, processed_at, created_at,
    updated_at)
  SELECT ${sql.raw(seededTransactionIdSql('(extract(epoch FROM s.at) * 1000)::int8', "'1' || right(c.id, 15)"))},
    'charge', 'refund', 'completed', 'refunded', -c.amount, c.currency, c.payment_method_id, c.account_id,
    c.parent_id, c.id, 'api', 'Seeded refund', s.at, s.at, s.at
  FROM transactions c CROSS JOIN LATERAL (SELECT least(c.created_at + interval '2 days', now()) AS at) AS s
  WHERE c.transaction_type = 'normal' AND c.refunded_amount > 0
`;

/** A reattempt of a quarter of the failed charges: open and due 3 days later for recent ones, paid for older ones. */
const reattemptsStatement = sql`
  INSERT INTO transactions (id, record_type, transaction_type, status, payment_status, amount, currency,
    authorized_amount, captured_amount, auto_process, due_date, payment_method_id, account_id, parent_id,
    reattempt_of_id, reattempt_number, source, description, processed_at, created_at, updated_at)
  SELECT ${sql.raw(seededTransactionIdSql('(extract(epoch FROM s.at) * 1000)::int8', "'2' || right(c.id, 15)"))},
    'charge', 'normal', CASE WHEN s.recent THEN 'open' ELSE 'completed' END,
    CASE WHEN s.recent THEN NULL ELSE 'captured' END, c.amount, c.currency,
    CASE WHEN s.recent THEN 0 ELSE c.amount END, CASE WHEN s.recent THEN 0 ELSE c.amount END, true,
    ${sql.raw(utcDay('s.at'))} + 3, c.payment_method_id, c.account_id, c.parent_id, c.id, 1, 'batch',
    'Seeded reattempt', CASE WHEN s.recent THEN NULL ELSE s.at END, s.at, s.at
  FROM transactions c
  CROSS JOIN LATERAL (SELECT least(c.created_at + interval '1 day', now()) AS at,
    c.created_at > now() - interval '35 days' AS recent) AS s
  WHERE c.status = 'failed' AND right(c.id, 2)::int % 4 = 0
`;

/** Every transaction on an invoice allocated to it in full, applied as far as it is captured (no refund is of one). */
const allocationsStatement = sql`
  INSERT INTO allocations (id, transaction_id, invoice_id, kind, amount, applied_amount, created_at, updated_at)
  SELECT 'alc_' || substr(t.id, 5), t.id, t.invoice_id, 'payment', t.amount, settle_allocatable(t), t.created_at,
    t.created_at
  FROM transactions t WHERE t.invoice_id IS NOT NULL
`;

const invoiceBalancesStatement = sql`
  UPDATE invoices i SET allocated_payments = a.applied, allocations_count = a.n
  FROM (SELECT invoice_id, sum(applied_amount)::int8 AS applied, count(*)::int AS n FROM allocations GROUP BY invoice_id) AS a
  WHERE a.invoice_id = i.id
`;

/** Every owner's totals summed from its transactions, by the trigger's own entries (settle_totals_entries). */
const totalsStatement = sql`
  INSERT INTO totals (owner_id, currency, ${sql.raw(TOTALS_AMOUNT_FIELDS.join(', '))}, last_payment_at, next_due_date)
  SELECT x.owner_id, x.currency, ${sql.raw(TOTALS_AMOUNT_FIELDS.map((f) => `sum(x.${f})::int8`).join(', '))},
    max(CASE WHEN t.status = 'completed' AND t.record_type = 'charge' AND t.transaction_type = 'normal'
      AND t.captured_amount > 0 AND x.currency = t.currency THEN t.processed_at END),
    min(CASE WHEN t.status = 'open' AND t.record_type = 'charge' AND t.transaction_type = 'normal'
      AND x.currency = t.currency THEN t.due_date END)
  FROM transactions t CROSS JOIN LATERAL settle_totals_entries(t) AS x
  GROUP BY x.owner_id, x.currency
`;

/**
 * The ledger, with the totals and allocation triggers off while it is written and their results (allocations, invoice
 * balances, totals) then written set-based: with them on, every owner-currency pair a statement touches is staged in
 * totals_pending and applied at commit by a deferred trigger that fires once per staged row, which made one
 * 50,000-row statement over 20,000 accounts and 25,000 parents take minutes to commit. The foreign keys stay
 * checked. The auditor's recomputation checks the result.
 */
export async function seedLedger(app: BenchApp, sizes: Sizes, log: (line: string) => void): Promise<string> {
  const step = async (what: string, work: () => Promise<unknown>) => {
    const started = Date.now();
    await work();
    log(`  ${what}: ${fixed((Date.now() - started) / 1000, 1)} s`);
  };
  await step('accounts and payment methods', () => seedAccounts(app.db, sizes.accounts, { paymentMethods: true }));
  await step('parents', () => seedParents(app.db, sizes.parents, 'k % 10'));
  await step('invoices', () =>
    sql`
      INSERT INTO invoices (id, number, account_id, currency, total, issued_on, due_date)
      SELECT ${sql.raw(seededIdSql('inv', 'k'))}, 'INV-' || k, ${sql.raw(seededIdSql('acc', `k % ${sizes.accounts}`))},
        'USD', 100000, ${sql.raw(TODAY)} - (k % 700), ${sql.raw(TODAY)} - (k % 700) + 30
      FROM generate_series(0, ${sizes.invoices - 1}::int) AS k
    `.execute(app.db),
  );
  await sql`ALTER TABLE transactions DISABLE TRIGGER USER`.execute(app.db);
  await sql`ALTER TABLE allocations DISABLE TRIGGER USER`.execute(app.db);
  try {
    await step('transactions', () =>
      seedInChunks(sizes.transactions, CHUNK, (lo, hi) => executeSeed(app.db, ledgerStatement(sizes, lo, hi)), log),
    );
    await step('refunds', () => executeSeed(app.db, refundsStatement));
    await step('reattempts', () => executeSeed(app.db, reattemptsStatement));
    await step('allocations and invoice balances', async () => {
      await executeSeed(app.db, allocationsStatement);
      await executeSeed(app.db, invoiceBalancesStatement);
    });
    await step('totals', () => executeSeed(app.db, totalsStatement));
  } finally {
    await sql`ALTER TABLE transactions ENABLE TRIGGER USER`.execute(app.db);
    await sql`ALTER TABLE allocations ENABLE TRIGGER USER`.execute(app.db);
  }
  await step('VACUUM (ANALYZE)', () =>
    vacuumAnalyze(app.db, ['transactions', 'payment_methods', 'totals', 'allocations', 'invoices']),
  );
  let differences = 0;
  await step("the auditor's recomputation", async () => {
    differences = (await recomputedTotalsDifferences(app.db)).length;
  });
  return differences === 0
    ? 'verified: totals_check recomputation finds no difference in the seeded ledger'
    : `VERIFICATION FAILED: totals_check finds ${differences} differences in the seeded ledger`;
}

interface Case {
  label: string;
  query: string;
  filters: TransactionFilters;
}

function cases(): Case[] {
  const views = TRANSACTION_VIEWS.map((view) => ({
    label: `view=${view}`,
    query: `view=${view}`,
    filters: { equals: [], view },
  }));
  const filter = (column: 'parent_id' | 'invoice_id' | 'account_id', id: string, what: string): Case => ({
    label: `${column}=${what}`,
    query: `${column}=${id}`,
    filters: { equals: [[column, id]] },
  });
  return [
    ...views,
    filter('parent_id', seededId('par', 0), 'the largest parent'),
    filter('parent_id', seededId('par', 1), 'a parent with only old transactions'),
    filter('invoice_id', seededId('inv', 0), 'the largest invoice'),
    filter('account_id', seededId('acc', 0), 'the largest account'),
    filter('account_id', seededId('acc', 1), 'an account with only old transactions'),
    filter('account_id', seededId('acc', 2), 'a typical account'),
  ];
}

async function getPage(
  app: BenchApp,
  query: string,
): Promise<{ result: OperationResult; count: number; more: boolean }> {
  const response = await app.app.inject({ method: 'GET', url: `/v1/transactions?${query}`, headers: JSON_HEADERS });
  if (response.statusCode !== 200)
    return { result: `HTTP ${response.statusCode}: ${response.body.slice(0, 300)}`, count: 0, more: false };
  const body = response.json<{ data: unknown[]; has_more: boolean }>();
  if (body.data.length === 0) return { result: 'an empty first page', count: 0, more: false };
  return { result: true, count: body.data.length, more: body.has_more };
}

/** EXPLAIN (ANALYZE, BUFFERS) of each case's query as store/transaction-listings.ts builds it. */
async function explainAll(url: string, list: readonly Case[]): Promise<string> {
  let captured: CompiledQuery | undefined;
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (event.level === 'query') captured = event.query;
    },
  });
  const day = new Date().toISOString().slice(0, 10);
  const out: string[] = [];
  try {
    for (const c of list) {
      await listTransactionsPage(db, c.filters, day, 20);
      if (!captured) continue;
      const plan = await pool.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, BUFFERS) ${captured.sql}`,
        captured.parameters as unknown[],
      );
      out.push(`== ${c.label} (day ${day})`, ...plan.rows.map((row) => row['QUERY PLAN']), '');
    }
  } finally {
    await db.destroy();
  }
  return out.join('\n');
}

function urlOf(serverUrl: string, database: string): string {
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export const listViews: Benchmark = {
  name: NAME,
  description: `the first page (limit 20) of each list view of GET /v1/transactions and of the filters by parent, invoice and account, over 1,000,000 seeded transactions, ${REQUESTS} requests each; target p95 <= ${P95_TARGET_MS} ms.`,
  async run(context) {
    const postgres = postgresOnly(context, NAME, ' (1,000,000 rows are measured on the production database)');
    if (!postgres) return [];
    const count = Math.max(10_000, Math.round(BASE_TRANSACTIONS * context.scale));
    const sizes: Sizes = {
      transactions: count,
      accounts: Math.max(10, Math.round(count / 50)),
      parents: Math.max(10, Math.round(count / 40)),
      invoices: Math.max(10, Math.round(count / 400)),
    };
    const app = await openBenchApp('postgres', { postgres, poolSize: POOL_SIZE });
    try {
      context.log(
        `${NAME}: seeding ${count.toLocaleString('en-US')} transactions (${CHUNK.toLocaleString('en-US')} per statement)...`,
      );
      const seedStarted = Date.now();
      const seedVerification = await seedLedger(app, sizes, context.log);
      const seedSeconds = (Date.now() - seedStarted) / 1000;
      const stored = await sql<{ n: string }>`SELECT count(*) AS n FROM transactions`.execute(app.db);
      const seedNote = `${Number(stored.rows[0]?.n ?? 0).toLocaleString('en-US')} transactions seeded in ${fixed(seedSeconds, 1)} s, then VACUUM (ANALYZE); ${seedVerification}`;
      const seedFailed = seedVerification.startsWith('VERIFICATION FAILED') ? 1 : 0;
      context.log(`${NAME}: ${seedNote}`);
      const list = cases();
      const rows: BenchRow[] = [];
      for (const c of list) {
        let page = { count: 0, more: false };
        // Warm-up: a few requests, as a server that has been serving does (caches, prepared plans).
        await runLoad(Math.min(context.warmup, 5), 1, async () => (await getPage(app, c.query)).result);
        const load = await runLoad(REQUESTS, 1, async () => {
          const got = await getPage(app, c.query);
          page = got;
          return got.result;
        });
        const sorted = Float64Array.from(load.latenciesMs).sort();
        const p95 = sorted[Math.ceil(0.95 * sorted.length) - 1] ?? NaN;
        const notes = [
          `first page: ${page.count} transactions${page.more ? ', more follow' : ', the whole list'}; p95 ${fixed(p95, 2)} ms (target <= ${P95_TARGET_MS} ms at scale 1: ${p95 <= P95_TARGET_MS ? 'met' : 'MISSED'})`,
        ];
        if (rows.length === 0) notes.push(seedNote);
        rows.push(
          toRow(
            { benchmark: `${NAME} (${c.label})`, database: app.label, concurrency: 1, pool_size: POOL_SIZE },
            load,
            notes,
            rows.length === 0 ? seedFailed : 0,
          ),
        );
        context.log(
          `${NAME}: ${c.label}: p50 ${fixed(sorted[Math.ceil(0.5 * sorted.length) - 1] ?? NaN, 2)} ms, p95 ${fixed(p95, 2)} ms, ${page.count} rows`,
        );
      }
      const database = await sql<{ name: string }>`SELECT current_database() AS name`.execute(app.db);
      const plans = await explainAll(urlOf(postgres.url, database.rows[0]?.name ?? ''), list);
      mkdirSync(path.dirname(PLANS_FILE), { recursive: true });
      writeFileSync(PLANS_FILE, `${seedNote}\n\n${plans}`);
      context.log(`${NAME}: query plans written to ${path.relative(process.cwd(), PLANS_FILE)}`);
      return rows;
    } finally {
      await app.close();
    }
  },
};
