// Benchmark `rollup-cost` (issue 19): what keeping a parent's totals exact costs a write, for a parent with 10 children
// and for one with 100,000 (BENCH_SCALE scales the large parent's children and the payments, PostgreSQL only). One
// operation is POST /v1/transactions of a completed non-gateway payment with parent_id and account_id (each parent on
// its own account, so the account's totals grow with the parent's), answered 201; in the same database transaction
// the totals trigger adds the payment to both owners' totals and re-reads their last_payment_at and next_due_date
// (not additive: one indexed max()/min() each). The children are seeded set-based, 50,000 per statement: 60% completed non-gateway
// payments, 30% open with due dates from 30 days ago to 60 days ahead, 10% failed, so both non-additive fields are
// exercised. The two parents' payments alternate, one caller, so a drift of the machine's speed falls on both alike.
// Printed: each parent's median (and p95), and the ratio of the medians (target: at most 1.2). Verified: every
// payment answered 201, the large parent's totals count them, and the auditor's recomputation (totals_check) finds no
// difference anywhere.
import { sql } from 'kysely';
import { openBenchApp, postgresOnly } from './databases.js';
import { type Benchmark, type BenchRow, percentile, runLoad, toRow, withCpuProfile } from './harness.js';
import {
  executeSeed,
  fixed,
  partOfLoad,
  type PaymentTarget,
  postCompletedPayment,
  recomputedTotalsDifferences,
  seedAccounts,
  seededId,
  seededTransactionIdSql,
  seedInChunks,
  seedParents,
  totalsNote,
  vacuumAnalyze,
} from './ledger-seed.js';

const NAME = 'rollup-cost';
const BASE_PAYMENTS = 1000;
const BASE_LARGE_CHILDREN = 100_000;
const SMALL_CHILDREN = 10;
const CHUNK = 50_000;
const RATIO_TARGET = 1.2;
const POOL_SIZE = 10;

/** `count` children of parent k (on account k): completed payments, open ones with due dates, failed ones. */
function childrenStatement(k: number, count: number, seqBase: number) {
  return (lo: number, hi: number) => sql`
    INSERT INTO transactions (id, record_type, transaction_type, status, payment_status, amount, currency,
      authorized_amount, captured_amount, non_gateway, due_date, account_id, parent_id, source, description,
      processed_at, created_at, updated_at)
    SELECT ${sql.raw(seededTransactionIdSql('(extract(epoch FROM s.at) * 1000)::int8', `${seqBase} + i`))},
      'charge', 'normal', s.status, CASE WHEN s.status = 'completed' THEN 'captured' END, s.amount, 'USD',
      CASE WHEN s.status = 'completed' THEN s.amount ELSE 0 END, CASE WHEN s.status = 'completed' THEN s.amount ELSE 0 END,
      s.status = 'completed', CASE WHEN s.status = 'open' THEN current_date + (i % 90 - 30) END,
      ${seededId('acc', k)}, ${seededId('par', k)}, 'import', 'Seeded child ' || i,
      CASE WHEN s.status = 'completed' THEN s.at END, s.at, s.at
    FROM generate_series(${lo}::int, ${hi - 1}::int) AS i
    CROSS JOIN LATERAL (SELECT now() - (${count} - i) * interval '1 minute' AS at, (1000 + (i::int8 * 7919) % 9000) AS amount,
      CASE WHEN i % 10 < 6 THEN 'completed' WHEN i % 10 < 9 THEN 'open' ELSE 'failed' END AS status) AS s
  `;
}

export const rollupCost: Benchmark = {
  name: NAME,
  description: `completed non-gateway payments (POST /v1/transactions with parent_id) on a parent with ${SMALL_CHILDREN} children and on one with 100,000, alternating, one caller: the median of each and their ratio (target <= ${RATIO_TARGET}).`,
  async run(context) {
    const postgres = postgresOnly(context, NAME, ' (the totals trigger is measured on the production database)');
    if (!postgres) return [];
    const payments = Math.max(20, Math.round(BASE_PAYMENTS * context.scale));
    const largeChildren = Math.max(1000, Math.round(BASE_LARGE_CHILDREN * context.scale));
    const app = await openBenchApp('postgres', { postgres, poolSize: POOL_SIZE });
    try {
      // Parent 0 (on account 0) is the small one, parent 1 (on account 1) the large one.
      await seedAccounts(app.db, 2, { paymentMethods: false });
      await seedParents(app.db, 2, 'k');
      const seedStarted = Date.now();
      context.log(`${NAME}: seeding ${SMALL_CHILDREN} and ${largeChildren.toLocaleString('en-US')} children...`);
      await executeSeed(app.db, childrenStatement(0, SMALL_CHILDREN, 0)(0, SMALL_CHILDREN));
      await seedInChunks(
        largeChildren,
        CHUNK,
        (lo, hi) => executeSeed(app.db, childrenStatement(1, largeChildren, 1e12)(lo, hi)),
        context.log,
      );
      await vacuumAnalyze(app.db, ['transactions', 'totals']);
      const seedSeconds = (Date.now() - seedStarted) / 1000;
      const targets: [PaymentTarget, PaymentTarget] = [
        { parent_id: seededId('par', 0), account_id: seededId('acc', 0) },
        { parent_id: seededId('par', 1), account_id: seededId('acc', 1) },
      ];
      const failures = [0, 0];
      let largeSucceeded = 0;
      const pay = async (index: number): Promise<true | string> => {
        const result = await postCompletedPayment(app, targets[index % 2] as PaymentTarget, index);
        if (result !== true) failures[index % 2] = (failures[index % 2] ?? 0) + 1;
        else if (index % 2 === 1) largeSucceeded += 1;
        return result;
      };
      context.log(`${NAME}: ${context.warmup} warm-up + ${payments} measured payments on each parent...`);
      const warmup = await runLoad(2 * Math.ceil(context.warmup / 2), 1, pay);
      failures.fill(0);
      const measured = await withCpuProfile(`${NAME}-postgres`, () => runLoad(2 * payments, 1, pay));
      const small = partOfLoad(measured, (i) => i % 2 === 0, failures[0] ?? 0);
      const large = partOfLoad(measured, (i) => i % 2 === 1, failures[1] ?? 0);

      const totals = totalsNote(await recomputedTotalsDifferences(app.db));
      const largeTotals = await sql<{ count_completed: string; count_open: string; next_due_date: string | null }>`
        SELECT count_completed, count_open, next_due_date::text FROM totals WHERE owner_id = ${targets[1].parent_id}
      `.execute(app.db);
      // Children i with i % 10 < 6 were seeded completed.
      const seededCompleted = Math.floor(largeChildren / 10) * 6 + Math.min(6, largeChildren % 10);
      const expected = seededCompleted + largeSucceeded;
      const got = largeTotals.rows[0];
      const countsOk =
        got !== undefined && Number(got.count_completed) === expected && got.next_due_date !== null && totals.ok;
      const verification = countsOk
        ? `${totals.note}; the large parent's totals count ${got.count_completed} completed and ${got.count_open} open, next_due_date ${got.next_due_date}`
        : `VERIFICATION FAILED: ${totals.note}; the large parent's totals: ${JSON.stringify(got)}, ${expected} completed expected`;
      const ratio = median(large.latenciesMs) / median(small.latenciesMs);
      const ratioNote = `median ${fixed(median(large.latenciesMs), 3)} ms with ${largeChildren.toLocaleString('en-US')} children vs ${fixed(median(small.latenciesMs), 3)} ms with ${SMALL_CHILDREN}: ratio ${fixed(ratio, 3)} (target <= ${RATIO_TARGET} at scale 1: ${ratio <= RATIO_TARGET ? 'met' : 'MISSED'})`;
      const common = [
        `children seeded in ${fixed(seedSeconds, 1)} s (${CHUNK.toLocaleString('en-US')} rows per statement), then VACUUM (ANALYZE); payments alternate between the two parents, one caller`,
      ];
      const warmupFailures = warmup.failures;
      if (warmupFailures > 0) common.push(`${warmupFailures} warm-up failures (first: ${warmup.firstFailure ?? '?'})`);
      const rows: BenchRow[] = [
        toRow(
          {
            benchmark: `${NAME} (${SMALL_CHILDREN} children)`,
            database: app.label,
            concurrency: 1,
            pool_size: POOL_SIZE,
          },
          small,
          [...common, verification],
          countsOk ? 0 : 1,
        ),
        toRow(
          {
            benchmark: `${NAME} (${largeChildren.toLocaleString('en-US')} children)`,
            database: app.label,
            concurrency: 1,
            pool_size: POOL_SIZE,
          },
          large,
          [ratioNote, verification],
          warmupFailures + (countsOk ? 0 : 1),
        ),
      ];
      context.log(`${NAME}: ${ratioNote}`);
      return rows;
    } finally {
      await app.close();
    }
  },
};

/** The median as toRow reports it (nearest rank). */
function median(values: Float64Array): number {
  return percentile(Float64Array.from(values).sort(), 50);
}
