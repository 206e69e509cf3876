// Shared by the issue-19 benchmarks (rollup-cost, hot-parent, list-views): seeding accounts, parents, payment methods,
// invoices and transactions set-based (INSERT ... SELECT over generate_series, in large statements, so the totals
// trigger of migration 0020 runs once per statement and not once per row), the request every one of them measures
// (a completed non-gateway payment), the auditor's recomputation as a verification, and splitting one measured load
// into its parts. Seeded ids have the format newId() makes (prefix, 10 base-36 characters of time, 16 more), so
// seeded rows sort by id like real ones and a page cursor built from them is valid.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../src/store/schema.js';
import { type TotalsDifference, totalsDifferences } from '../src/store/totals-repo.js';
import { BENCH_ADMIN_KEY, type BenchApp } from './databases.js';
import type { LoadResult, OperationResult } from './harness.js';

export const JSON_HEADERS = { authorization: `Bearer ${BENCH_ADMIN_KEY}`, 'content-type': 'application/json' };

const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';
const BASE36_POWERS = '{101559956668416,2821109907456,78364164096,2176782336,60466176,1679616,46656,1296,36,1}';

/**
 * SQL for a transaction id made by a seed: 'trx_', the time `msSql` (epoch milliseconds, int8) in 10 base-36
 * characters, then `seqSql` (a number unique within the seed, below 10^16) in 16 digits.
 */
export function seededTransactionIdSql(msSql: string, seqSql: string): string {
  return `('trx_' || (SELECT string_agg(substr('${BASE36}', ((${msSql}) / p % 36)::int + 1, 1), '' ORDER BY p DESC)
    FROM unnest('${BASE36_POWERS}'::int8[]) AS p) || lpad((${seqSql})::text, 16, '0'))`;
}

/** The id of the k-th seeded record of a kind: its prefix, `tag` (a letter or none) and k, 26 characters in all. */
export function seededId(prefix: string, k: number, tag = ''): string {
  return `${prefix}_${tag}${String(k).padStart(26 - tag.length, '0')}`;
}

/** The same id in SQL, for a k computed by the statement. */
export function seededIdSql(prefix: string, kSql: string, tag = ''): string {
  return `('${prefix}_${tag}' || lpad((${kSql})::text, ${26 - tag.length}, '0'))`;
}

/**
 * Accounts 0..count-1 (seededId('acc', k)), each with a valid card (tag v, expiring in 2099) and, when asked, an
 * expired one (tag e, 2020): what the to_fix view finds unusable.
 */
export async function seedAccounts(
  db: Kysely<Database>,
  count: number,
  options: { paymentMethods: boolean },
): Promise<void> {
  await sql`
    INSERT INTO accounts (id, name)
    SELECT ${sql.raw(seededIdSql('acc', 'k'))}, 'Bench account ' || k FROM generate_series(0, ${count - 1}::int) AS k
  `.execute(db);
  if (!options.paymentMethods) return;
  await sql`
    INSERT INTO payment_methods (id, gateway_token, type, status, brand, last4, exp_month, exp_year, account_id)
    SELECT ${sql.raw(seededIdSql('pmt', 'k', 'v'))}, 'pm_bench_v' || k, 'card', 'valid', 'visa', '4242', 12, 2099,
      ${sql.raw(seededIdSql('acc', 'k'))}
    FROM generate_series(0, ${count - 1}::int) AS k
    UNION ALL
    SELECT ${sql.raw(seededIdSql('pmt', 'k', 'e'))}, 'pm_bench_e' || k, 'card', 'valid', 'visa', '0002', 1, 2020,
      ${sql.raw(seededIdSql('acc', 'k'))}
    FROM generate_series(0, ${count - 1}::int) AS k
  `.execute(db);
}

/** Parents 0..count-1 (seededId('par', k)) of type `subscription`, parent k on account accountOfSql(k). */
export async function seedParents(db: Kysely<Database>, count: number, accountOfSql: string): Promise<void> {
  await sql`
    INSERT INTO parents (id, type, name, account_id)
    SELECT ${sql.raw(seededIdSql('par', 'k'))}, 'subscription', 'Bench subscription ' || k,
      ${sql.raw(seededIdSql('acc', accountOfSql))}
    FROM generate_series(0, ${count - 1}::int) AS k
  `.execute(db);
}

/**
 * Runs `statement(lo, hi)` for consecutive ranges of `chunk` row numbers over [0, total): one multi-row statement per
 * chunk, so the totals trigger runs once per chunk. Logs progress.
 */
export async function seedInChunks(
  total: number,
  chunk: number,
  statement: (lo: number, hi: number) => Promise<unknown>,
  log?: (line: string) => void,
): Promise<void> {
  for (let lo = 0; lo < total; lo += chunk) {
    const hi = Math.min(total, lo + chunk);
    await statement(lo, hi);
    if (log && total > chunk) log(`  seeded ${hi.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`);
  }
}

/**
 * Runs one seeding statement in its own transaction with JIT compilation off: the planner's cost of a large
 * INSERT ... SELECT turns JIT on, and compiling took longer than it saved (about a second per 50,000 rows).
 */
export async function executeSeed(db: Kysely<Database>, statement: RawBuilder<unknown>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`SET LOCAL jit = off`.execute(trx);
    await statement.execute(trx);
  });
}

/** VACUUM (ANALYZE) of the seeded tables: what autovacuum would have done by the time such a table is read. */
export async function vacuumAnalyze(db: Kysely<Database>, tables: readonly string[]): Promise<void> {
  for (const table of tables) await sql`VACUUM (ANALYZE) ${sql.table(table)}`.execute(db);
}

export interface PaymentTarget {
  parent_id: string;
  account_id: string;
}

/** POST /v1/transactions: a completed non-gateway payment on the parent (and its account), answered 201. */
export async function postCompletedPayment(
  app: BenchApp,
  target: PaymentTarget,
  index: number,
): Promise<OperationResult> {
  const response = await app.app.inject({
    method: 'POST',
    url: '/v1/transactions',
    headers: JSON_HEADERS,
    payload: JSON.stringify({
      status: 'completed',
      non_gateway: true,
      amount: 1000 + ((index * 7919) % 9000),
      currency: 'USD',
      parent_id: target.parent_id,
      account_id: target.account_id,
      description: `Bank transfer ${index}`,
    }),
  });
  if (response.statusCode === 201) return true;
  return `HTTP ${response.statusCode}: ${response.body.slice(0, 300)}`;
}

/** The auditor's recomputation (totals_check) in one REPEATABLE READ snapshot: [] when every total is exact. */
export async function recomputedTotalsDifferences(db: Kysely<Database>): Promise<TotalsDifference[]> {
  return await db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute((trx) => totalsDifferences(trx));
}

/** A verification note for a totals check (and whether it held). */
export function totalsNote(differences: readonly TotalsDifference[]): { ok: boolean; note: string } {
  if (differences.length === 0) return { ok: true, note: 'verified: totals_check recomputation finds no difference' };
  const first = differences
    .slice(0, 3)
    .map((d) => `${d.table} ${d.id} ${d.currency ?? ''} ${d.field}: stored ${d.stored}, expected ${d.expected}`)
    .join('; ');
  return { ok: false, note: `VERIFICATION FAILED: totals_check finds ${differences.length} differences: ${first}` };
}

/**
 * The part of a measured load made of the operations `belongs(index)` picks (run with one caller, so its time is
 * the sum of its operations' latencies; CPU time is shared in proportion). Failures are counted in the whole load.
 */
export function partOfLoad(load: LoadResult, belongs: (index: number) => boolean, failures: number): LoadResult {
  const latencies = Array.from(load.latenciesMs).filter((_, i) => belongs(i));
  const seconds = latencies.reduce((a, b) => a + b, 0) / 1000;
  return {
    operations: latencies.length,
    failures,
    firstFailure: undefined,
    seconds,
    latenciesMs: Float64Array.from(latencies),
    cpuMs: (load.cpuMs * latencies.length) / Math.max(1, load.operations),
    machineBusyPercent: load.machineBusyPercent,
  };
}

export const fixed = (value: number, digits: number): string => value.toFixed(digits);
