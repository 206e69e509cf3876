// Benchmark `hot-parent` (issue 19): what one busy parent costs writers. Completed non-gateway payments (POST
// /v1/transactions with parent_id and account_id, answered 201) from 8 concurrent callers, first all on one parent (and
// its account: every payment updates the same two totals rows), then the same spread over 8 parents on 8 different
// accounts (no contacts, no invoices: no totals row is shared). PostgreSQL only; BENCH_SCALE scales the payments
// (4,000 per case at scale 1). Printed: payments per second of each case and hot / spread (target: at least 50%).
// Creates arriving together are group committed (store/transaction-inserter.ts), so a batch on the hot parent is one
// statement and one delta to its row; batches in flight at once still queue on that row's lock. Verified: every
// payment answered 201, each parent's totals count its payments, and the auditor's recomputation finds no difference.
import { sql } from 'kysely';
import { openBenchApp, postgresOnly } from './databases.js';
import { type Benchmark, runLoad, toRow, withCpuProfile } from './harness.js';
import {
  fixed,
  type PaymentTarget,
  postCompletedPayment,
  recomputedTotalsDifferences,
  seedAccounts,
  seededId,
  seedParents,
  totalsNote,
} from './ledger-seed.js';

const NAME = 'hot-parent';
const BASE_PAYMENTS = 4000;
const CALLERS = 8;
const POOL_SIZE = 10;
const RATIO_TARGET = 0.5;

export const hotParent: Benchmark = {
  name: NAME,
  description: `completed non-gateway payments per second from ${CALLERS} callers all on one parent, against the same spread over ${CALLERS} parents on ${CALLERS} accounts (no shared totals row); target hot >= ${100 * RATIO_TARGET}% of spread.`,
  async run(context) {
    const postgres = postgresOnly(context, NAME, ' (row locks on totals are measured on the production database)');
    if (!postgres) return [];
    const payments = Math.max(CALLERS * 10, Math.round(BASE_PAYMENTS * context.scale));
    const app = await openBenchApp('postgres', { postgres, poolSize: POOL_SIZE });
    try {
      // Parent k on account k: parent 0 is the hot one, parents 1..8 the spread ones.
      await seedAccounts(app.db, CALLERS + 1, { paymentMethods: false });
      await seedParents(app.db, CALLERS + 1, 'k');
      const target = (k: number): PaymentTarget => ({ parent_id: seededId('par', k), account_id: seededId('acc', k) });
      const hot = target(0);
      const spread = Array.from({ length: CALLERS }, (_, i) => target(i + 1));
      const spreadTarget = (index: number) => spread[index % CALLERS] as PaymentTarget;
      context.log(
        `${NAME}: ${context.warmup} warm-up + ${payments} measured payments, ${CALLERS} callers, on one parent then on ${CALLERS}...`,
      );
      // Successful payments per parent, counted as they are answered (the warm-up's included).
      const paid = new Map<string, number>();
      const pay = async (target: PaymentTarget, index: number) => {
        const result = await postCompletedPayment(app, target, index);
        if (result === true) paid.set(target.parent_id, (paid.get(target.parent_id) ?? 0) + 1);
        return result;
      };
      // The warm-up goes to both cases' rows alike (odd operations to the hot parent).
      const warmup = await runLoad(context.warmup, CALLERS, (i) =>
        pay(i % 2 === 1 ? hot : spreadTarget(i), 2 * payments + i),
      );
      const hotLoad = await withCpuProfile(`${NAME}-hot-postgres`, () =>
        runLoad(payments, CALLERS, (i) => pay(hot, i)),
      );
      const spreadLoad = await withCpuProfile(`${NAME}-spread-postgres`, () =>
        runLoad(payments, CALLERS, (i) => pay(spreadTarget(i), payments + i)),
      );

      // Verification: each parent's totals count exactly its payments answered 201, and the recomputation agrees.
      const counts = await sql<{ owner_id: string; count_completed: string }>`
        SELECT owner_id, count_completed FROM totals WHERE owner_id LIKE 'par\_%' ORDER BY owner_id
      `.execute(app.db);
      const mismatched = counts.rows.filter((row) => Number(row.count_completed) !== (paid.get(row.owner_id) ?? 0));
      const totals = totalsNote(await recomputedTotalsDifferences(app.db));
      const countsOk = totals.ok && mismatched.length === 0 && counts.rows.length === CALLERS + 1;
      const hotCount = paid.get(hot.parent_id) ?? 0;
      const allCount = [...paid.values()].reduce((a, b) => a + b, 0);
      const verification = countsOk
        ? `${totals.note}; each of the ${CALLERS + 1} parents' totals counts exactly its ${allCount} payments answered 201 (the hot one ${hotCount}, warm-up included)`
        : `VERIFICATION FAILED: ${totals.note}; ${counts.rows.length} parents with totals, ${mismatched.length} whose count_completed differs from its payments answered 201 (first: ${JSON.stringify(mismatched[0] ?? null)})`;
      const hotRate = (payments - hotLoad.failures) / hotLoad.seconds;
      const spreadRate = (payments - spreadLoad.failures) / spreadLoad.seconds;
      const ratio = hotRate / spreadRate;
      const ratioNote = `${fixed(hotRate, 1)} payments/s on one parent vs ${fixed(spreadRate, 1)} spread over ${CALLERS}: hot is ${fixed(100 * ratio, 1)}% of spread (target >= ${100 * RATIO_TARGET}%: ${ratio >= RATIO_TARGET ? 'met' : 'MISSED'})`;
      context.log(`${NAME}: ${ratioNote}`);
      const warmupNote =
        warmup.failures > 0 ? [`${warmup.failures} warm-up failures (first: ${warmup.firstFailure ?? '?'})`] : [];
      const base = { database: app.label, concurrency: CALLERS, pool_size: POOL_SIZE };
      return [
        toRow(
          { ...base, benchmark: `${NAME} (1 parent)` },
          hotLoad,
          [ratioNote, verification, ...warmupNote],
          warmup.failures + (countsOk ? 0 : 1),
        ),
        toRow(
          { ...base, benchmark: `${NAME} (${CALLERS} parents, ${CALLERS} accounts)` },
          spreadLoad,
          [ratioNote, verification],
          countsOk ? 0 : 1,
        ),
      ];
    } finally {
      await app.close();
    }
  },
};
