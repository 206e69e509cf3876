// Benchmark `backfill`: a gateway's history imported by the backfill (W6): 10,000 PaymentIntents made at the emulator
// by "another system", each with a partial refund (BENCH_SCALE scales the count), imported by one sync run of
// payments and refunds, pages of 100. Objects per second (payments and refunds read) and gateway requests per object
// (every request goes into the gateway log, so the log's rows are the requests). Verified afterwards: exactly one
// external charge per payment with the emulator's amount, one refund transaction per refund, a second run creating
// nothing.
import { performance } from 'node:perf_hooks';
import Stripe from 'stripe';
import { systemClock } from '../src/app/clock.js';
import { limitsNote, readGatewayLimits } from './gateway-limits.js';
import { ensureDefaultEmulatorGateway, RATE_LIMIT_MAX } from '../src/app/gateway-records.js';
import { SyncRunner } from '../src/app/sync/sync-runs.js';
import { findSyncRun } from '../src/store/sync-runs-repo.js';
import { startEmulator } from '@settle/stripe-emulator';
import { createDeps } from '../src/runtime.js';
import { createTestDatabase } from '../test/support/databases.js';
import { DATABASE_LABELS } from './databases.js';
import { type Benchmark, type BenchRow, sampleMachineBusy } from './harness.js';

const BASE_PAYMENTS = 10_000;

const countRows = async (query: { execute(): Promise<{ n: string | number }[]> }) =>
  Number((await query.execute())[0]?.n ?? 0);

export const backfill: Benchmark = {
  name: 'backfill',
  description: 'objects imported per second by a sync run (payments made at the emulator, each with a refund)',
  async run(context) {
    const rows: BenchRow[] = [];
    const payments = Math.max(10, Math.round(BASE_PAYMENTS * context.scale));
    for (const target of context.databases) {
      if (target === 'pglite-disk') continue; // the in-memory PGlite row shows PGlite's figure
      if (target === 'postgres' && 'skipped' in context.postgres) {
        context.log(`backfill: postgresql skipped: ${context.postgres.skipped}`);
        continue;
      }
      if (target === 'postgres') process.env.TEST_DATABASE_URL = (context.postgres as { url: string }).url;
      const testDb = await createTestDatabase(target === 'postgres' ? 'postgres' : 'pglite', 10);
      const emulator = await startEmulator({ port: 0, tickMs: 0 });
      try {
        const deps = createDeps(testDb.database, { clock: systemClock });
        const gateway = await ensureDefaultEmulatorGateway(deps, { apiBase: emulator.url });
        await deps.db
          .updateTable('gateways')
          .set({ rate_limit_per_second: RATE_LIMIT_MAX })
          .where('id', '=', gateway.id)
          .execute();
        const stripe = new Stripe('sk_test_bench', {
          host: '127.0.0.1',
          port: emulator.port,
          protocol: 'http',
          maxNetworkRetries: 0,
        });
        context.log(`backfill: ${DATABASE_LABELS[target]}, making ${payments} payments with a refund each...`);
        const since = new Date(Date.now() - 60_000);
        const expected = new Map<string, number>();
        for (let i = 0; i < payments; i += 50) {
          await Promise.all(
            Array.from({ length: Math.min(50, payments - i) }, async (_, j) => {
              const amount = 1000 + (((i + j) * 7919) % 90_000);
              const pi = await stripe.paymentIntents.create({
                amount,
                currency: 'usd',
                payment_method: 'pm_card_visa',
                confirm: true,
                capture_method: 'automatic',
                automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
              });
              await stripe.refunds.create({ payment_intent: pi.id, amount: 500 });
              expected.set(pi.id, amount);
            }),
          );
        }
        const runner = new SyncRunner(deps, { pageSize: 100 });
        const limits = await readGatewayLimits(deps.db, gateway.id);
        const busyBefore = await sampleMachineBusy(500);
        const logsBefore = await countRows(
          deps.db.selectFrom('gateway_logs').select((eb) => eb.fn.countAll<string>().as('n')),
        );
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        const run = await runner.start(
          { since: since.toISOString(), objects: ['payments', 'refunds'] },
          'cli',
          'bench',
        );
        await runner.finished(run.id);
        const seconds = (performance.now() - started) / 1000;
        const cpu = process.cpuUsage(cpuBefore);
        const requests =
          (await countRows(deps.db.selectFrom('gateway_logs').select((eb) => eb.fn.countAll<string>().as('n')))) -
          logsBefore;
        const done = await findSyncRun(deps.db, run.id);
        const read = (done?.progress.payments?.read ?? 0) + (done?.progress.refunds?.read ?? 0);
        const charges = await deps.db
          .selectFrom('transactions')
          .select(['gateway_payment_intent', 'amount'])
          .where('record_type', '=', 'charge')
          .where('transaction_type', '=', 'normal')
          .execute();
        const refunds = await countRows(
          deps.db
            .selectFrom('transactions')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('transaction_type', '=', 'refund'),
        );
        const wrong = charges.filter((c) => expected.get(c.gateway_payment_intent ?? '') !== c.amount).length;
        // Run twice: nothing new.
        const again = await runner.start(
          { since: since.toISOString(), objects: ['payments', 'refunds'] },
          'cli',
          'bench',
        );
        await runner.finished(again.id);
        const second = await findSyncRun(deps.db, again.id);
        const createdAgain = (second?.progress.payments?.created ?? -1) + (second?.progress.refunds?.created ?? -1);
        await runner.stop();
        const failures =
          (done?.status === 'completed' ? 0 : 1) +
          Math.abs(charges.length - payments) +
          wrong +
          Math.abs(refunds - payments) +
          (second?.status === 'completed' && createdAgain === 0 ? 0 : 1);
        rows.push({
          benchmark: 'backfill',
          database: DATABASE_LABELS[target],
          concurrency: 1,
          operations: read,
          seconds,
          ops_per_second: read / seconds,
          p50_ms: 0,
          p95_ms: 0,
          p99_ms: 0,
          failures,
          pool_size: target === 'postgres' ? 10 : null,
          node_cpu_ms_per_op: (cpu.user + cpu.system) / 1000 / Math.max(1, read),
          machine_cpu_busy_percent: null,
          gateway_limits: limits,
          requests_per_op: requests / Math.max(1, read),
          notes: [
            limitsNote(limits),
            `${read} objects (${payments} payments, ${refunds} refunds) in ${done?.pages ?? '?'} pages; ${requests} gateway requests, ${(requests / Math.max(1, read)).toFixed(3)} per object`,
            `verified: ${charges.length} charges for ${payments} payments (${wrong} with a wrong amount), ${refunds} refunds; a second run created ${createdAgain}; machine ${busyBefore === null ? '?' : Math.round(busyBefore)}% busy before the run`,
          ],
        });
      } finally {
        await emulator.close();
        await testDb.drop();
      }
    }
    return rows;
  },
};
