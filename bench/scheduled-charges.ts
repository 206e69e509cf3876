// Benchmark `scheduled-charges` (S1, S4, G5 in docs/FEATURES.md): a daily_charges run over 10,000 due charges (BENCH_SCALE
// scales the count), carried out by `settle worker` processes against the Stripe emulator:
//   - with the gateway's rate limit at 100 requests/second, by 1 worker and by 4 workers: the emulator's request
//     log must show at least 90% of the allowed rate used over the run (first to last request) and never more
//     than 100 requests in any 1000 ms window, whatever its start;
//   - with no effective limit (the maximum, 10,000/s), by 1, 2 and 4 workers: how the rate grows with workers.
// Each row: a fresh PostgreSQL database, a fresh emulator in this process (its request log is the row's alone),
// the gateway record pointing at it with the row's limit (set before the workers start: each reads it when it
// builds its adapter), N `settle worker` children (SETTLE_SCHEDULED_JOBS=none, so they only join;
// SETTLE_JOB_CONCURRENCY default 8, DATABASE_POOL_SIZE default 10), a warm-up run over BENCH_WARMUP charges (default
// 200; not measured: a deployment's workers have done the work before, and a cold start of 4 processes on 2 vCPUs
// cost the first seconds about half the limit), then the due charges inserted in bulk as the API would create them,
// and the run started as POST /v1/jobs/daily_charges/run starts it; the workers join it within a second. The
// emulator, which stands for Stripe's own machines, dates each request when it arrives, in a thread of its own at a
// higher CPU priority (arrivalThread; arrival-front.ts), not when its busy main thread gets to it. The notes also
// give that main thread's event-loop delay and garbage-collection pauses, and the limiter's own record of grants.
// Measured: from the run's start until it is finished and no charge is open. Verified afterwards: every
// transaction completed/captured with exactly one PaymentIntent at the emulator (SDK, auto-pagination) for its
// amount, and for the limited rows the utilization and the 1-second windows. PostgreSQL only: workers are
// separate processes on one database (PGlite is one process's).
//
// Columns: callers = workers; ops = charges; ops/s = charges per second over the measured time; p50/p95/p99 = per
// charge, from its gateway attempt's creation (tx1) to its resolution (tx2), which includes the wait for the
// rate limit; node cpu ms/op = this process's CPU per charge, which is mostly the emulator's (it runs here);
// pool = each worker's DATABASE_POOL_SIZE. The notes have requests/s, utilization and the busiest window.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { sql } from 'kysely';
import Stripe from 'stripe';
import { RATE_LIMIT_MAX } from '../src/app/gateway-records.js';
import { type Emulator, startEmulator } from '@settle/stripe-emulator';
import { createDeps } from '../src/runtime.js';
import { distIsStale, ensureBuilt } from '../test/chaos/support.js';
import { createTestDatabase } from '../test/support/databases.js';
import {
  checkChargedOnce,
  doneClaimsByWorker,
  GrantRecorder,
  killAllWorkers,
  seedDueCharges,
  startDailyCharges,
  startWorkers,
  stopWorker,
  useEmulatorGateway,
  waitForRunDone,
  type Worker,
  windowStats,
  workerEnv,
} from '../test/jobs/workers-support.js';
import { DATABASE_LABELS, postgresOnly } from './databases.js';
import {
  type Benchmark,
  type BenchContext,
  type BenchRow,
  busyPercent,
  type LoadResult,
  machineCpuTimes,
  type PostgresTarget,
  toRow,
  withCpuProfile,
} from './harness.js';

const NAME = 'scheduled-charges';
const BASE_CHARGES = 10_000;
/** The utilization a limited row must reach (requests per second over the run / the limit). */
const MIN_UTILIZATION = 0.9;
/** `settle worker`'s default claim lease; nobody is killed here, so it never expires. */
const LEASE_SECONDS = 60;
/** The workers' DATABASE_POOL_SIZE: the production default. */
const WORKER_POOL_SIZE = 10;

interface RowPlan {
  label: string;
  limit: number;
  workers: number;
}

const PLANS: readonly RowPlan[] = [
  { label: 'limit 100/s, 1 worker', limit: 100, workers: 1 },
  { label: 'limit 100/s, 4 workers', limit: 100, workers: 4 },
  { label: `no limit (${RATE_LIMIT_MAX}/s), 1 worker`, limit: RATE_LIMIT_MAX, workers: 1 },
  { label: `no limit (${RATE_LIMIT_MAX}/s), 2 workers`, limit: RATE_LIMIT_MAX, workers: 2 },
  { label: `no limit (${RATE_LIMIT_MAX}/s), 4 workers`, limit: RATE_LIMIT_MAX, workers: 4 },
];

const fixed = (value: number, digits: number) => value.toFixed(digits);

async function runRow(
  context: BenchContext,
  postgres: PostgresTarget,
  plan: RowPlan,
  charges: number,
): Promise<BenchRow> {
  // createTestDatabase reads the server URL from TEST_DATABASE_URL (as bench/databases.ts does); it creates a
  // uniquely named, migrated database and drops it in drop().
  process.env.TEST_DATABASE_URL = postgres.url;
  const database = await createTestDatabase('postgres', 4);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'settle-bench-scheduled-'));
  let emulator: Emulator | undefined;
  let workers: Worker[] = [];
  try {
    emulator = await startEmulator({ arrivalThread: true });
    const deps = createDeps(database.database);
    const gatewayId = await useEmulatorGateway(deps, emulator.url, plan.limit);
    workers = await startWorkers(
      plan.workers,
      workerEnv({ databaseUrl: database.url!, emulatorUrl: emulator.url, dataDir, leaseSeconds: LEASE_SECONDS }),
    );
    // Warm-up: a run over BENCH_WARMUP charges first, so that the measured run starts with workers (and an emulator)
    // that have done the work before, as a worker of a real deployment has; its requests are outside the measure.
    const warmed =
      context.warmup > 0 ? await seedDueCharges(deps, context.warmup, 'bench:scheduled-charges:warmup') : null;
    if (warmed) {
      const warmRun = await startDailyCharges(deps, 'bench:scheduled-charges:warmup');
      const warmDone = await waitForRunDone(deps, warmRun.id, {
        timeoutMs: 120_000 + (context.warmup / plan.limit) * 3000,
        pollMs: 250,
      });
      if (warmDone.status !== 'succeeded' || warmDone.succeeded !== context.warmup)
        throw new Error(
          `the warm-up run is ${warmDone.status} with ${warmDone.succeeded} of ${context.warmup} succeeded`,
        );
    }
    const seedStarted = performance.now();
    const seeded = await seedDueCharges(deps, charges, 'bench:scheduled-charges');
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    // The limiter's record of the measured run only (the warm-up's grants are all older).
    const grants = new GrantRecorder(deps, gatewayId, Date.now());
    // The emulator logs a request when this process's event loop gets to it: its delays bunch the logged times.
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const gcPauses: number[] = [];
    const gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) gcPauses.push(entry.duration);
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const { run, done, seconds, cpuMs, machineBusy, startedAtMs, finishedAtMs } = await withCpuProfile(
      `${NAME}-${plan.limit}-w${plan.workers}`,
      async () => {
        const machineBefore = machineCpuTimes();
        const cpuBefore = process.cpuUsage();
        const startedAtMs = Date.now();
        const started = performance.now();
        const run = await startDailyCharges(deps, 'bench:scheduled-charges');
        // The limiter's grants are deleted ~10 s after they stop counting: collect them as the run goes.
        const polling = setInterval(() => void grants.poll().catch(() => undefined), 2000);
        const done = await waitForRunDone(deps, run.id, {
          timeoutMs: Math.max(600_000, (charges / plan.limit) * 3000),
          pollMs: 250,
        }).finally(() => clearInterval(polling));
        await grants.poll();
        const seconds = (performance.now() - started) / 1000;
        const finishedAtMs = Date.now();
        const cpu = process.cpuUsage(cpuBefore);
        const machineAfter = machineCpuTimes();
        const machineBusy = busyPercent(machineBefore, machineAfter);
        return { run, done, seconds, cpuMs: (cpu.user + cpu.system) / 1000, machineBusy, startedAtMs, finishedAtMs };
      },
    );
    loopDelay.disable();
    gcObserver.disconnect();
    for (const worker of workers) await stopWorker(worker);

    // The run's requests: everything the emulator logged from the run's start to its end (nothing else calls it then).
    const stats = windowStats(emulator.controls.requestLog(), startedAtMs, finishedAtMs);
    const requestsPerSecond = stats.spanMs > 0 ? stats.requests / (stats.spanMs / 1000) : 0;
    const utilization = requestsPerSecond / plan.limit;
    const stripe = new Stripe('sk_test_bench', { host: '127.0.0.1', port: emulator.port, protocol: 'http' });
    const all = warmed
      ? { ids: [...warmed.ids, ...seeded.ids], amounts: new Map([...warmed.amounts, ...seeded.amounts]) }
      : seeded;
    const once = await checkChargedOnce(deps, stripe, all);
    const latencies = await database.database.db
      .selectFrom('gateway_attempts')
      .select(sql<number>`extract(epoch from resolved_at - created_at) * 1000`.as('ms'))
      .where('resolved_at', 'is not', null)
      .where('created_at', '>=', new Date(startedAtMs))
      .execute();
    const byWorker = await doneClaimsByWorker(deps, run.id);

    const notes: string[] = [];
    let verificationFailures = 0;
    const fail = (note: string) => {
      verificationFailures += 1;
      notes.push(`FAILED: ${note}`);
    };
    notes.push(
      `${plan.label}: ${stats.requests} API requests at the emulator over ${fixed(stats.spanMs / 1000, 2)} s (first to last) = ${fixed(requestsPerSecond, 1)} requests/s; ` +
        `utilization ${fixed(100 * utilization, 1)}% of ${plan.limit}/s; busiest 1 s window ${stats.maxInWindow} requests` +
        (stats.maxWindowStart === null ? '' : ` (from ${new Date(stats.maxWindowStart).toISOString()})`),
    );
    notes.push(
      `the emulator's event-loop delay during the run: p50 ${fixed(loopDelay.percentile(50) / 1e6, 1)} ms, p99 ${fixed(loopDelay.percentile(99) / 1e6, 1)} ms, ` +
        `max ${fixed(loopDelay.max / 1e6, 1)} ms (it dates each request when its handler runs); garbage collection: ${gcPauses.length} pauses, ` +
        `${gcPauses.filter((ms) => ms >= 20).length} of 20 ms or more, longest ${fixed(Math.max(0, ...gcPauses), 1)} ms; heap used at the end ${fixed(process.memoryUsage().heapUsed / 2 ** 20, 0)} MiB`,
    );
    const granted = grants.stats();
    notes.push(
      `the shared limiter granted ${granted.tokens} tokens in ${granted.grants} grants (at most ${granted.maxInWindow} in any 1 s); ` +
        `${granted.tokens - stats.requests} expired unused (${fixed((100 * (granted.tokens - stats.requests)) / Math.max(1, granted.tokens), 1)}%)`,
    );
    notes.push(
      `run ${done.id}: ${done.status}, total ${done.total ?? '-'}, picked ${done.picked}, succeeded ${done.succeeded}, failed ${done.failed}, skipped ${done.skipped}; ` +
        `done claims per worker: ${[...byWorker.values()].join(', ')} (${byWorker.size} of ${plan.workers} workers)`,
    );
    notes.push(
      `${charges} due charges seeded in ${fixed(seedSeconds, 1)} s; ${plan.workers} settle worker process(es) (pids ${workers.map((w) => w.proc.pid ?? '?').join(', ')}), ` +
        `concurrency 8 each, pool ${WORKER_POOL_SIZE}; gateway ${gatewayId}; the emulator runs in this bench process (pid ${process.pid})`,
    );
    if (once.problems.length > 0 || once.paymentIntents !== all.ids.length) {
      fail(
        `${once.paymentIntents} PaymentIntents for ${all.ids.length} charges; ${once.problems.length} problems, first: ${once.problems.slice(0, 3).join('; ')}`,
      );
    } else {
      notes.push(
        `verified: the emulator holds exactly ${once.paymentIntents} PaymentIntents (${charges} measured, ${warmed?.ids.length ?? 0} of the warm-up run), one per transaction, same amount, each transaction completed/captured recording it`,
      );
    }
    if (done.status !== 'succeeded' || done.picked !== charges || done.succeeded !== charges)
      fail(`the run is ${done.status} with picked ${done.picked}, succeeded ${done.succeeded} of ${charges}`);
    if (stats.requests !== charges)
      fail(`${stats.requests} API requests for ${charges} charges (one POST /v1/payment_intents each was expected)`);
    if (plan.limit < RATE_LIMIT_MAX) {
      if (stats.maxInWindow > plan.limit)
        fail(`a 1 s window held ${stats.maxInWindow} requests, over the limit of ${plan.limit}`);
      if (utilization < MIN_UTILIZATION)
        fail(`utilization ${fixed(100 * utilization, 1)}% is under ${100 * MIN_UTILIZATION}%`);
    }

    const load: LoadResult = {
      operations: charges,
      failures: 0,
      firstFailure: undefined,
      seconds,
      latenciesMs: Float64Array.from(latencies.map((l) => Number(l.ms))),
      cpuMs,
      machineBusyPercent: machineBusy,
    };
    return toRow(
      {
        benchmark: `${NAME} (${plan.label})`,
        database: DATABASE_LABELS.postgres,
        concurrency: plan.workers,
        pool_size: WORKER_POOL_SIZE,
      },
      load,
      notes,
      verificationFailures,
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const outputs = workers
      .map(
        (w, i) =>
          `--- worker ${i + 1} (pid ${w.proc.pid ?? '?'}) output (last 2000 characters):\n${w.output().slice(-2000)}`,
      )
      .join('\n');
    throw new Error(`${plan.label}: ${message}\n${outputs}`, { cause: error });
  } finally {
    await killAllWorkers();
    await emulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
    await database.drop();
  }
}

export const scheduledCharges: Benchmark = {
  name: NAME,
  description:
    'a daily_charges run over 10,000 due charges by `settle worker` processes against the emulator: at a 100/s gateway limit with 1 and 4 workers (>= 90% of the limit used, no 1 s window over it), and unlimited with 1, 2 and 4 workers.',
  async run(context) {
    const charges = Math.max(10, Math.round(BASE_CHARGES * context.scale));
    const postgres = postgresOnly(context, NAME, ' (workers are separate processes on one database)');
    if (!postgres) return [];
    if (distIsStale()) {
      context.log(`${NAME}: dist/ is older than src/; building it (tsc -p tsconfig.build.json)...`);
      ensureBuilt();
    }
    const rows: BenchRow[] = [];
    for (const plan of PLANS) {
      const expected =
        plan.limit < RATE_LIMIT_MAX ? ` (about ${Math.round(charges / plan.limit / 0.94)} s at the limit)` : '';
      context.log(`${NAME}: ${plan.label}, ${charges} due charges${expected}...`);
      const row = await runRow(context, postgres, plan, charges);
      context.log(`${NAME}: ${plan.label}: ${fixed(row.ops_per_second, 1)} charges/s; ${row.notes[0] ?? ''}`);
      rows.push(row);
    }
    return rows;
  },
};
