// Benchmark `scheduled-charges` (S1, S4, G5 in docs/FEATURES.md): a daily_charges run over 10,000 due charges (BENCH_SCALE
// scales the count), carried out by `settle worker` processes against the Stripe emulator:
//   - with the gateway's rate limit at 100 requests/second, by 1 worker and by 4 workers: the emulator's request
//     log must show at least 90% of the allowed rate used over the run (first to last request) and never more
//     than 100 requests in any 1000 ms window, whatever its start;
//   - with no effective limit (the maximum, 10,000/s), by 1, 2 and 4 workers: how the rate grows with workers.
// Each row: a fresh PostgreSQL database, a fresh emulator in this process (its request log is the row's alone),
// the gateway record pointing at it with the row's limit (set before the workers start: each reads it when it
// builds its adapter), N `settle worker` children (SETTLE_SCHEDULED_JOBS=none, so they only join;
// SETTLE_JOB_CONCURRENCY default 16, DATABASE_POOL_SIZE default 10), a warm-up run over BENCH_WARMUP charges (default
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
// `scheduled-charges-webhooks` is the same run with webhooks delivered (the figures of `scheduled-charges`, without
// them, stay comparable): a `settle serve` child on the same database (bench/settle-serve.ts; scheduler off, so it
// joins no run) registers its endpoint with the emulator at start-up as `npm start` does, and the emulator delivers
// every event to it; webhook_delay_seconds is 0. Global limit 100/s, per-endpoint limit off, the emulator's own 429s
// off. Measured until the run is finished AND every event it caused is processed (the emulator has no delivery left
// and Settle has no event pending or failed). Requests per charge are counted at the emulator's request log, reads
// included. Target: at least 85 charges per second.
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
import { DEFAULT_CONCURRENCY as DEFAULT_JOB_CONCURRENCY } from '../src/jobs/runner.js';
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
import { processCpuMs } from './charge-lifecycles-processes.js';
import { limitsNote, readGatewayLimits } from './gateway-limits.js';
import { type SettleServe, startSettleServe } from './settle-serve.js';
import { endpointOf } from '../src/gateway-adapters/stripe/rate-limiter.js';
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
const WEBHOOKS_NAME = 'scheduled-charges-webhooks';
/** The issue's target for the run with webhooks delivered, at the 100/s limit. */
export const WEBHOOKS_TARGET_CHARGES_PER_SECOND = 85;
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
  /** Webhooks delivered to a `settle serve` intake, and waited for before the run counts as done. */
  webhooks?: boolean;
}

const PLANS: readonly RowPlan[] = [
  { label: 'limit 100/s, 1 worker', limit: 100, workers: 1 },
  { label: 'limit 100/s, 4 workers', limit: 100, workers: 4 },
  { label: `no limit (${RATE_LIMIT_MAX}/s), 1 worker`, limit: RATE_LIMIT_MAX, workers: 1 },
  { label: `no limit (${RATE_LIMIT_MAX}/s), 2 workers`, limit: RATE_LIMIT_MAX, workers: 2 },
  { label: `no limit (${RATE_LIMIT_MAX}/s), 4 workers`, limit: RATE_LIMIT_MAX, workers: 4 },
];

const WEBHOOK_PLANS: readonly RowPlan[] = [
  { label: 'limit 100/s, webhooks delivered, 1 worker', limit: 100, workers: 1, webhooks: true },
  { label: 'limit 100/s, webhooks delivered, 4 workers', limit: 100, workers: 4, webhooks: true },
];

const fixed = (value: number, digits: number) => value.toFixed(digits);

async function openWebhookEvents(deps: ReturnType<typeof createDeps>): Promise<number> {
  const open = await deps.db
    .selectFrom('webhook_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ['pending', 'failed'])
    .executeTakeFirstOrThrow();
  return Number(open.n);
}

/**
 * The backlog sampled each second during the run: the events still to be claimed, counted through the claim's
 * partial index (the count of openWebhookEvents reads the whole table, a cost that grew with the run and was the
 * benchmark's, not Settle's).
 */
async function claimableWebhookEvents(deps: ReturnType<typeof createDeps>): Promise<number> {
  const open = await deps.db
    .selectFrom('webhook_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) =>
      eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'failed'), eb('retryable', '=', true)])]),
    )
    .executeTakeFirstOrThrow();
  return Number(open.n);
}

/**
 * Waits until the emulator has nothing left to deliver and Settle has no event pending or failed; a delivery the
 * intake answered after the count was taken could still be pending, so both are checked twice in a row.
 */
async function drainWebhooks(deps: ReturnType<typeof createDeps>, emulator: Emulator, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await emulator.controls.settleWebhooks();
    if ((await openWebhookEvents(deps)) === 0) {
      await emulator.controls.settleWebhooks();
      if ((await openWebhookEvents(deps)) === 0) return;
    }
    if (Date.now() > deadline) throw new Error(`webhook events still pending or failed after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

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
  let serve: SettleServe | undefined;
  try {
    // The emulator's own 429s (Stripe's test-mode limits) off: Settle's limiter is what is measured.
    emulator = await startEmulator({ arrivalThread: true, rateLimit: false });
    // Stripe sends an endpoint several events at once under load, in no set order (docs.stripe.com/webhooks
    // #event-ordering); one at a time, three events per charge would cap the run at a third of the delivery rate.
    if (plan.webhooks) emulator.controls.configureWebhooks({ concurrency: 32 });
    const deps = createDeps(database.database);
    const gatewayId = await useEmulatorGateway(deps, emulator.url, plan.limit);
    if (plan.webhooks) {
      const delay = (await deps.settings.get()).webhook_delay_seconds;
      if (delay !== 0) throw new Error(`webhook_delay_seconds is ${delay}; this row needs 0`);
      serve = await startSettleServe(
        workerEnv({
          databaseUrl: database.url!,
          emulatorUrl: emulator.url,
          dataDir: path.join(dataDir, 'serve'),
          leaseSeconds: LEASE_SECONDS,
        }),
      );
    }
    workers = await startWorkers(
      plan.workers,
      workerEnv({ databaseUrl: database.url!, emulatorUrl: emulator.url, dataDir, leaseSeconds: LEASE_SECONDS }),
    );
    // Both limits as the row runs with them (read after every process has set up its gateway).
    const limits = await readGatewayLimits(deps.db, gatewayId);
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
      if (plan.webhooks) await drainWebhooks(deps, emulator, 120_000);
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
    const backlog: number[] = [];
    // Where the CPU goes: each child process's CPU over the measured run (Linux /proc), per charge.
    const children = [
      ...workers.map((w, i) => ({ what: `worker ${i + 1}`, pid: w.proc.pid })),
      ...(serve ? [{ what: 'settle serve', pid: serve.proc.pid }] : []),
    ];
    const cpuAtStart = new Map<number | undefined, number>();
    const cpuAtEnd = new Map<number | undefined, number>();
    let jobSeconds = 0;
    const { run, done, seconds, cpuMs, machineBusy, startedAtMs, finishedAtMs } = await withCpuProfile(
      `${NAME}-${plan.limit}-w${plan.workers}`,
      async () => {
        const machineBefore = machineCpuTimes();
        const cpuBefore = process.cpuUsage();
        for (const { pid } of children) cpuAtStart.set(pid, processCpuMs(pid) ?? Number.NaN);
        const startedAtMs = Date.now();
        const started = performance.now();
        const run = await startDailyCharges(deps, 'bench:scheduled-charges');
        // The limiter's grants are deleted ~10 s after they stop counting: collect them as the run goes.
        const polling = setInterval(() => void grants.poll().catch(() => undefined), 2000);
        // With webhooks, the backlog of stored events not yet applied, sampled as the run goes (a diagnostic).
        const sampling = plan.webhooks
          ? setInterval(
              () =>
                void claimableWebhookEvents(deps).then(
                  (n) => backlog.push(n),
                  () => undefined,
                ),
              1000,
            )
          : undefined;
        const done = await waitForRunDone(deps, run.id, {
          timeoutMs: Math.max(600_000, (charges / plan.limit) * 3000),
          pollMs: 250,
        }).finally(() => clearInterval(polling));
        jobSeconds = (performance.now() - started) / 1000;
        // With webhooks: done once every event the run caused is processed too.
        if (plan.webhooks) await drainWebhooks(deps, emulator!, 600_000).finally(() => clearInterval(sampling));
        await grants.poll();
        const seconds = (performance.now() - started) / 1000;
        const finishedAtMs = Date.now();
        const cpu = process.cpuUsage(cpuBefore);
        for (const { pid } of children) cpuAtEnd.set(pid, processCpuMs(pid) ?? Number.NaN);
        const machineAfter = machineCpuTimes();
        const machineBusy = busyPercent(machineBefore, machineAfter);
        return { run, done, seconds, cpuMs: (cpu.user + cpu.system) / 1000, machineBusy, startedAtMs, finishedAtMs };
      },
    );
    loopDelay.disable();
    gcObserver.disconnect();
    for (const worker of workers) await stopWorker(worker);
    await serve?.stop();

    // The run's requests: everything the emulator logged from the run's start to its end (nothing else calls it then).
    const stats = windowStats(emulator.controls.requestLog(), startedAtMs, finishedAtMs);
    const requestsPerSecond = stats.spanMs > 0 ? stats.requests / (stats.spanMs / 1000) : 0;
    const requestsPerCharge = stats.requests / charges;
    const byEndpoint = new Map<string, number>();
    for (const e of emulator.controls.requestLog()) {
      if (e.at < startedAtMs || e.at > finishedAtMs || !e.path.startsWith('/v1/')) continue;
      const key = endpointOf(e.method, e.path);
      byEndpoint.set(key, (byEndpoint.get(key) ?? 0) + 1);
    }
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
    notes.push(`${limitsNote(limits)}; the emulator's own 429s off`);
    notes.push(
      `CPU ms per charge over the measured run: bench process (emulator) ${fixed(cpuMs / charges, 2)}, ` +
        children
          .map(
            ({ what, pid }) =>
              `${what} ${fixed(((cpuAtEnd.get(pid) ?? NaN) - (cpuAtStart.get(pid) ?? NaN)) / charges, 2)}`,
          )
          .join(', '),
    );
    notes.push(
      `${fixed(charges / seconds, 1)} charges/s, ${fixed(requestsPerCharge, 3)} gateway requests per charge (counted at the emulator, reads included): ` +
        [...byEndpoint].map(([k, n]) => `${k} ${n}`).join(', '),
    );
    if (plan.webhooks) {
      const events = await deps.db
        .selectFrom('webhook_events')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('received_at', '>=', new Date(startedAtMs))
        .groupBy('status')
        .execute();
      // How long each event waited between its storing and its processing (a backlog shows here first).
      const lag = await database.database.db
        .selectFrom('webhook_events')
        .select([
          sql<number>`percentile_cont(0.5) within group (order by extract(epoch from processed_at - received_at) * 1000)`.as(
            'p50',
          ),
          sql<number>`percentile_cont(0.95) within group (order by extract(epoch from processed_at - received_at) * 1000)`.as(
            'p95',
          ),
          sql<number>`max(extract(epoch from processed_at - received_at) * 1000)`.as('max'),
        ])
        .where('received_at', '>=', new Date(startedAtMs))
        .executeTakeFirst();
      const deliveries = emulator.controls.webhookDeliveries();
      const refused = deliveries.filter((d) => d.status === null || d.status >= 300).length;
      // The emulator's side: deliveries of the measured run, their rate, and how many went out after the job's end.
      const jobEndMs = startedAtMs + jobSeconds * 1000;
      const sent = deliveries.map((d) => Date.parse(d.at)).filter((at) => at >= startedAtMs && at <= finishedAtMs);
      const sentSpan = sent.length > 1 ? (Math.max(...sent) - Math.min(...sent)) / 1000 : 0;
      notes.push(
        `the emulator's delivery log (its last 10,000 answers are kept): ${sent.length} answered during the measured run, ${fixed(sentSpan > 0 ? sent.length / sentSpan : 0, 1)} per second (first to last; one at a time per endpoint), ` +
          `${sent.filter((at) => at > jobEndMs).length} of them after the job had finished`,
      );
      notes.push(
        `webhooks: ${refused} of the ${deliveries.length} deliveries in the emulator's log not answered 2xx; ` +
          `events received during the measured run by status: ${events.map((e) => `${e.status} ${Number(e.n)}`).join(', ') || 'none'}; ` +
          `from stored to processed: p50 ${fixed(Number(lag?.p50 ?? 0), 0)} ms, p95 ${fixed(Number(lag?.p95 ?? 0), 0)} ms, max ${fixed(Number(lag?.max ?? 0), 0)} ms; ` +
          `settle serve pid ${serve?.proc.pid ?? '?'}: ${serve?.webhooks ?? ''}`,
      );
      notes.push(
        `the job finished after ${fixed(jobSeconds, 2)} s, its last event was processed ${fixed(seconds - jobSeconds, 2)} s later; ` +
          `events stored but not yet applied, sampled each second: max ${Math.max(0, ...backlog)}, at the job's end ${backlog.at(Math.floor(jobSeconds) - 1) ?? '-'}`,
      );
    }
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
        `concurrency ${DEFAULT_JOB_CONCURRENCY} each, pool ${WORKER_POOL_SIZE}; gateway ${gatewayId}; the emulator runs in this bench process (pid ${process.pid})`,
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
    if (!plan.webhooks && stats.requests !== charges)
      fail(`${stats.requests} API requests for ${charges} charges (one POST /v1/payment_intents each was expected)`);
    if (plan.webhooks && charges / seconds < WEBHOOKS_TARGET_CHARGES_PER_SECOND)
      fail(`${fixed(charges / seconds, 1)} charges/s is under the target of ${WEBHOOKS_TARGET_CHARGES_PER_SECOND}`);
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
    return {
      ...toRow(
        {
          benchmark: `${plan.webhooks ? WEBHOOKS_NAME : NAME} (${plan.label})`,
          database: DATABASE_LABELS.postgres,
          concurrency: plan.workers,
          pool_size: WORKER_POOL_SIZE,
        },
        load,
        notes,
        verificationFailures,
      ),
      gateway_limits: limits,
      requests_per_op: requestsPerCharge,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const outputs = workers
      .map(
        (w, i) =>
          `--- worker ${i + 1} (pid ${w.proc.pid ?? '?'}) output (last 2000 characters):\n${w.output().slice(-2000)}`,
      )
      .join('\n');
    const serveOutput = serve
      ? `\n--- settle serve output (last 2000 characters):\n${serve.output().slice(-2000)}`
      : '';
    throw new Error(`${plan.label}: ${message}\n${outputs}${serveOutput}`, { cause: error });
  } finally {
    await killAllWorkers();
    await serve?.stop();
    await emulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
    await database.drop();
  }
}

async function runPlans(context: BenchContext, name: string, plans: readonly RowPlan[]): Promise<BenchRow[]> {
  const charges = Math.max(10, Math.round(BASE_CHARGES * context.scale));
  const postgres = postgresOnly(context, name, ' (workers are separate processes on one database)');
  if (!postgres) return [];
  if (distIsStale()) {
    context.log(`${name}: dist/ is older than src/; building it (tsc -p tsconfig.build.json)...`);
    ensureBuilt();
  }
  const rows: BenchRow[] = [];
  for (const plan of plans) {
    const expected =
      plan.limit < RATE_LIMIT_MAX ? ` (about ${Math.round(charges / plan.limit / 0.94)} s at the limit)` : '';
    context.log(`${name}: ${plan.label}, ${charges} due charges${expected}...`);
    const row = await runRow(context, postgres, plan, charges);
    context.log(`${name}: ${plan.label}: ${fixed(row.ops_per_second, 1)} charges/s; ${row.notes.join('\n  ')}`);
    rows.push(row);
  }
  return rows;
}

export const scheduledCharges: Benchmark = {
  name: NAME,
  description:
    'a daily_charges run over 10,000 due charges by `settle worker` processes against the emulator, no webhooks delivered: at a 100/s gateway limit with 1 and 4 workers (>= 90% of the limit used, no 1 s window over it), and unlimited with 1, 2 and 4 workers.',
  run: (context) => runPlans(context, NAME, PLANS),
};

export const scheduledChargesWebhooks: Benchmark = {
  name: WEBHOOKS_NAME,
  description: `the same daily_charges run with webhooks delivered to a \`settle serve\` intake (webhook_delay_seconds 0), until every event is processed: 100/s gateway limit, per-endpoint limit off, the emulator's 429s off, 1 and 4 workers; target >= ${WEBHOOKS_TARGET_CHARGES_PER_SECOND} charges/s, requests per charge printed.`,
  run: (context) => runPlans(context, WEBHOOKS_NAME, WEBHOOK_PLANS),
};
