// Benchmark `charge-lifecycles-processes`: the lifecycle of `charge-lifecycles` (create, authorize, capture, partial
// refund through the HTTP API, the same checks on every answer and the same verification of the database and the
// emulator afterwards) with the parts in separate OS processes, as production runs them:
//   1. the Stripe emulator:  node bin/settle.js emulator --port 0           (memory only)
//   2. the Settle server:    node bin/settle.js serve                         PORT=0 (a free port), HOST=127.0.0.1,
//        DATABASE_URL = a fresh PostgreSQL database of its own (dropped after the row), STRIPE_API_BASE = the
//        emulator's URL, SETTLE_API_KEY = BENCH_ADMIN_KEY, SETTLE_DATA_DIR = a temporary directory, LOG_LEVEL=error,
//        SETTLE_API_RATE_LIMIT=0 (API rate limit off, as in every benchmark)
//        (nothing is logged while every request succeeds; a 500's cause is, and a failed row notes it),
//        DATABASE_POOL_SIZE = the production default (10), never below the number of callers;
//   3. the bench client:     this process, node:http with keep-alive connections (one per caller).
// bin/settle.js runs dist/, so dist/ is rebuilt first when it is older than src/ (test/chaos/support.ts).
//
// PostgreSQL only (PGlite has one connection and lives inside the server process, so there is nothing to separate).
// Besides the harness's columns (the `node cpu ms/op` column is the bench client's own CPU), each row notes the CPU
// time per lifecycle of the server process and of the emulator process over the measured phase, from utime + stime
// in /proc/<pid>/stat (Linux); at 1 caller also Settle's own time per gateway action: the mean wall time of the
// action through the API minus the mean gateway round trip from gateway_logs.latency_ms (whole milliseconds; the
// socket-level figure of `charge-lifecycles` needs the server in this process and is not available here).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RATE_LIMIT_MAX } from '../src/app/gateway-records.js';
import {
  type Child,
  distIsStale,
  ensureBuilt,
  killAllChildren,
  startEmulatorProcess,
  startSettle,
} from '../test/chaos/support.js';
import { createTestDatabase, type TestDatabase } from '../test/support/databases.js';
import {
  GATEWAY_ACTIONS,
  INTERACTION,
  OVERHEAD_TARGET_MS,
  type Phase,
  done,
  lifecycle,
  logLatencies,
  mean,
  newPhase,
  request,
  verify,
} from './charge-lifecycles.js';
import { BENCH_ADMIN_KEY, DATABASE_LABELS, postgresOnly } from './databases.js';
import { limitsNote, readDefaultGatewayLimits } from './gateway-limits.js';
import {
  type Benchmark,
  type BenchContext,
  type BenchRow,
  type PostgresTarget,
  runLoad,
  toRow,
  withCpuProfile,
} from './harness.js';

const NAME = 'charge-lifecycles-processes';
const BASE_OPERATIONS = 1000;
const CONCURRENCIES = [1, 8] as const;
/** The production default DATABASE_POOL_SIZE; never below the number of callers. */
const DEFAULT_POOL_SIZE = 10;
/** Connections of this process's own pool on the row's database (setup reads and the verification only). */
const READER_POOL_SIZE = 2;
/** How long a child gets to exit on SIGTERM before it is killed with SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;

const ms = (value: number): string => value.toFixed(2);

// ---------------------------------------------------------------------------------------------------------------
// Child processes: every one this benchmark starts is stopped after its row, on failure too, and killed (by pid,
// SIGKILL) if this process exits while one is still running.

const running = new Set<Child>();
let exitHookInstalled = false;

function track(child: Child): Child {
  running.add(child);
  void child.exited.then(() => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const left of running) left.proc.kill('SIGKILL');
    });
  }
  return child;
}

/** SIGTERM (the server closes its pool and exits), then SIGKILL if it is still there after STOP_TIMEOUT_MS. */
async function stop(child: Child): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    child.exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) await child.kill('SIGKILL');
}

// ---------------------------------------------------------------------------------------------------------------
// CPU time of another process: utime + stime (fields 14 and 15 of /proc/<pid>/stat, in clock ticks).

let ticksPerSecond: number | undefined;

function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    const answer = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const value = Number(answer.stdout?.trim());
    ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

/** CPU time (user + system, all threads) the process has used so far, in ms; undefined when it cannot be read. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count the fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return ((utime + stime) * 1000) / clockTicksPerSecond();
  } catch {
    return undefined;
  }
}

interface CpuSample {
  server: number | undefined;
  emulator: number | undefined;
}

const sampleCpu = (processes: Processes): CpuSample => ({
  server: processCpuMs(processes.server.proc.pid),
  emulator: processCpuMs(processes.emulator.proc.pid),
});

function cpuNote(
  what: string,
  pid: number | undefined,
  before: number | undefined,
  after: number | undefined,
  lifecycles: number,
  seconds: number,
): string {
  if (before === undefined || after === undefined)
    return `${what} (pid ${pid ?? '?'}): CPU time unavailable (no /proc/${pid ?? '?'}/stat: not Linux, or the process is gone)`;
  const used = after - before;
  return (
    `${what} (pid ${pid ?? '?'}): ${(used / lifecycles).toFixed(2)} CPU ms per lifecycle ` +
    `(${used.toFixed(0)} ms user+system over ${lifecycles} lifecycles in ${seconds.toFixed(2)} s, ${(used / 10 / seconds).toFixed(0)}% of one core; ` +
    `/proc/<pid>/stat at ${clockTicksPerSecond()} ticks/s)`
  );
}

// ---------------------------------------------------------------------------------------------------------------
// One row: a fresh database, the two child processes on it, the load, the notes, the verification.

interface Processes {
  emulator: Child;
  emulatorUrl: string;
  server: Child;
  base: URL;
}

/** The server's environment: the parent's, with everything that picks its database, gateway, key and port set. */
function serverEnv(database: TestDatabase, emulatorUrl: string, dataDir: string, poolSize: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: String(poolSize),
    STRIPE_API_BASE: emulatorUrl,
    SETTLE_API_KEY: BENCH_ADMIN_KEY,
    SETTLE_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    // The API rate limit off, as in every benchmark: what is measured is the server, not the limit.
    SETTLE_API_RATE_LIMIT: '0',
  };
  // A STRIPE_SECRET_KEY would make the default gateway real Stripe; the rest would change what is measured.
  for (const name of [
    'STRIPE_SECRET_KEY',
    'SETTLE_EMULATOR_PORT',
    'SETTLE_GATEWAY_TIMEOUT_MS',
    'SETTLE_BODY_LIMIT_BYTES',
  ])
    delete env[name];
  return env;
}

/** The emulator as the server's default gateway, its rate limit raised to the maximum, and a card to charge. */
async function setUp(
  database: TestDatabase,
  processes: Processes,
): Promise<{ paymentMethodId: string; notes: string[] }> {
  const gateway = await database.database.db
    .selectFrom('gateways')
    .select(['id', 'api_base', 'rate_limit_per_second'])
    .where('is_default', '=', true)
    .executeTakeFirst();
  if (!gateway) throw new Error('settle serve created no default gateway');
  if (gateway.api_base !== processes.emulatorUrl)
    throw new Error(
      `the default gateway ${gateway.id} points at ${gateway.api_base ?? 'nothing'}, not the emulator at ${processes.emulatorUrl}`,
    );
  const { base } = processes;
  const patch = await request(base, 'PATCH', `/v1/gateways/${gateway.id}`, { rate_limit_per_second: RATE_LIMIT_MAX });
  if (patch.status !== 200)
    throw new Error(`PATCH /v1/gateways/${gateway.id}: HTTP ${patch.status}: ${JSON.stringify(patch.body)}`);
  const pm = await request(base, 'POST', '/v1/payment-methods', {
    gateway_token: 'pm_card_visa',
    type: 'card',
    exp_month: 12,
    exp_year: 2030,
  });
  if (pm.status !== 201) throw new Error(`POST /v1/payment-methods: HTTP ${pm.status}: ${JSON.stringify(pm.body)}`);
  const dbName = database.url === undefined ? '?' : new URL(database.url).pathname.slice(1);
  return {
    paymentMethodId: String(pm.body.id),
    notes: [
      `processes: emulator pid ${processes.emulator.proc.pid ?? '?'} at ${processes.emulatorUrl} (settle emulator --port 0); ` +
        `settle serve pid ${processes.server.proc.pid ?? '?'} at ${base.origin} on database ${dbName}; bench client pid ${process.pid}`,
      `emulator gateway ${gateway.id} at ${processes.emulatorUrl}, rate_limit_per_second raised from ${gateway.rate_limit_per_second} to ${RATE_LIMIT_MAX}`,
    ],
  };
}

/** The 1-caller row's overhead notes: per action, API wall time minus the gateway round trip from gateway_logs. */
async function overheadNotes(database: TestDatabase, phase: Phase): Promise<string[]> {
  const ids = [...done(phase.charges), ...done(phase.refunds)];
  const logs = await logLatencies(database.database, ids);
  const notes: string[] = [];
  notes.push(`create (no gateway call): API ${ms(mean(phase.times.create, phase.charges))} ms mean`);
  let worst = 0;
  for (const action of GATEWAY_ACTIONS) {
    const api = mean(phase.times[action], phase.charges);
    const log = logs.get(INTERACTION[action]) ?? { count: 0, meanMs: Number.NaN };
    const overhead = api - log.meanMs;
    worst = Math.max(worst, overhead);
    notes.push(
      `${action}: API ${ms(api)} ms mean; gateway round trip ${ms(log.meanMs)} ms (gateway_logs.latency_ms, ${log.count} requests); ` +
        `Settle overhead ${ms(overhead)} ms`,
    );
  }
  notes.push(
    `Settle overhead per gateway action: at most ${ms(worst)} ms; target <= ${OVERHEAD_TARGET_MS} ms: ${worst <= OVERHEAD_TARGET_MS ? 'met' : 'MISSED'}`,
  );
  return notes;
}

/** The first error the server logged (pino JSON at level error or fatal), for a row that failed. */
function firstErrorLogged(server: Child): string {
  const line = server
    .output()
    .split('\n')
    .find((text) => /^\{.*"level":(50|60)[,}]/.test(text));
  return line === undefined
    ? 'settle serve logged no error'
    : `settle serve's first error log line: ${line.slice(0, 1500)}`;
}

async function measureRow(
  context: BenchContext,
  database: TestDatabase,
  processes: Processes,
  concurrency: number,
  operations: number,
  poolSize: number,
): Promise<BenchRow> {
  const { base } = processes;
  const { paymentMethodId, notes } = await setUp(database, processes);
  const warmupPhase = newPhase(0, context.warmup);
  const warmup = await runLoad(context.warmup, concurrency, (i) => lifecycle(base, paymentMethodId, warmupPhase, i));
  const measuredPhase = newPhase(context.warmup, operations);
  let before: CpuSample | undefined;
  let after: CpuSample | undefined;
  const measured = await withCpuProfile(`${NAME}-postgres-c${concurrency}`, async () => {
    before = sampleCpu(processes);
    try {
      return await runLoad(operations, concurrency, (i) => lifecycle(base, paymentMethodId, measuredPhase, i));
    } finally {
      after = sampleCpu(processes);
    }
  });
  notes.push(
    cpuNote(
      'settle serve process',
      processes.server.proc.pid,
      before?.server,
      after?.server,
      operations,
      measured.seconds,
    ),
  );
  notes.push(
    cpuNote(
      'emulator process',
      processes.emulator.proc.pid,
      before?.emulator,
      after?.emulator,
      operations,
      measured.seconds,
    ),
  );
  let otherFailures = 0;
  if (warmup.failures > 0) {
    otherFailures += warmup.failures;
    notes.push(`${warmup.failures} warm-up failures (first: ${warmup.firstFailure ?? '?'})`);
  }
  if (concurrency === 1) notes.push(...(await overheadNotes(database, measuredPhase)));
  const emulatorPort = Number(new URL(processes.emulatorUrl).port);
  const verification = await verify(database.database, { port: emulatorPort }, [warmupPhase, measuredPhase]);
  if (!verification.ok) otherFailures += 1;
  notes.push(verification.note);
  if (otherFailures > 0 || measured.failures > 0) notes.push(firstErrorLogged(processes.server));
  const limits = await readDefaultGatewayLimits(database.database.db);
  notes.push(limitsNote(limits));
  return {
    ...toRow(
      { benchmark: NAME, database: DATABASE_LABELS.postgres, concurrency, pool_size: poolSize },
      measured,
      notes,
      otherFailures,
    ),
    gateway_limits: limits,
  };
}

async function runRow(
  context: BenchContext,
  postgres: PostgresTarget,
  concurrency: number,
  operations: number,
): Promise<BenchRow> {
  const poolSize = Math.max(concurrency, DEFAULT_POOL_SIZE);
  // createTestDatabase reads the server URL from TEST_DATABASE_URL (as bench/databases.ts does); it creates a uniquely
  // named, migrated database and drops it in drop(). The server migrates it again on start (nothing to apply).
  process.env.TEST_DATABASE_URL = postgres.url;
  const database = await createTestDatabase('postgres', READER_POOL_SIZE);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'settle-bench-processes-'));
  const started: Child[] = [];
  try {
    const emulator = await startEmulatorProcess();
    started.push(track(emulator.child));
    const server = await startSettle(serverEnv(database, emulator.url, dataDir, poolSize));
    started.push(track(server.child));
    const processes: Processes = {
      emulator: emulator.child,
      emulatorUrl: emulator.url,
      server: server.child,
      base: new URL(server.url),
    };
    try {
      return await measureRow(context, database, processes, concurrency, operations, poolSize);
    } catch (error) {
      const output = (child: Child, what: string) =>
        `--- ${what} output (last 2000 characters):\n${child.output().slice(-2000)}`;
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}\n${output(server.child, 'settle serve')}\n${output(emulator.child, 'emulator')}`, {
        cause: error,
      });
    }
  } finally {
    // The server first (it holds connections to the database), then the emulator; anything started whose handle never
    // came back (a start that timed out) is killed by pid by test/chaos/support.ts, which tracks every child it spawns.
    for (const child of started.reverse()) await stop(child);
    await killAllChildren();
    rmSync(dataDir, { recursive: true, force: true });
    await database.drop();
  }
}

export const chargeLifecyclesProcesses: Benchmark = {
  name: NAME,
  description:
    'charge-lifecycles as production runs it: `settle emulator`, `settle serve` on its own PostgreSQL database, and this client, three OS processes; adds CPU ms per lifecycle of the server and the emulator.',
  async run(context) {
    const operations = Math.max(1, Math.round(BASE_OPERATIONS * context.scale));
    const postgres = postgresOnly(context, NAME, '');
    if (!postgres) return [];
    if (distIsStale()) {
      context.log(`${NAME}: dist/ is older than src/; building it (tsc -p tsconfig.build.json)...`);
      ensureBuilt();
    }
    const rows: BenchRow[] = [];
    for (const concurrency of CONCURRENCIES) {
      context.log(
        `${NAME}: ${DATABASE_LABELS.postgres}, ${concurrency} caller(s), ${context.warmup} warm-up + ${operations} measured lifecycles (3 processes)...`,
      );
      rows.push(await runRow(context, postgres, concurrency, operations));
    }
    return rows;
  },
};
