// The benchmark harness: what a benchmark is, what it reports, and the measuring loop shared by all of
// them. A benchmark is a named function that returns rows; bench/index.ts runs them and bench/report.ts
// prints and stores the rows. Timing is measured here only; tests never assert timing.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** One line of results: one benchmark on one database at one concurrency. Latencies are per operation. */
export interface BenchRow {
  benchmark: string;
  database: string;
  concurrency: number;
  operations: number;
  seconds: number;
  ops_per_second: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  /** Operations that did not give the expected answer (any makes `npm run bench` exit non-zero). */
  failures: number;
  /** PostgreSQL connection pool size (null on PGlite, which has one connection). */
  pool_size: number | null;
  /** CPU time of this Node.js process (user + system) per operation while measuring. */
  node_cpu_ms_per_op: number;
  /** How busy the whole machine's CPUs were while measuring, 0-100 (Linux /proc/stat; null elsewhere). */
  machine_cpu_busy_percent: number | null;
  /** Anything a reader needs to know about this row (verification, first failure). */
  notes: string[];
  /** The gateway's two limits where the row goes through a Settle gateway (bench/gateway-limits.ts); null or absent otherwise. */
  gateway_limits?: GatewayLimits | null;
  /** Gateway requests per operation counted at the emulator, where the row counts them. */
  requests_per_op?: number | null;
}

/** A gateway record's two request limits, as the row ran with them (0 = off for the per-endpoint one). */
export interface GatewayLimits {
  rate_limit_per_second: number;
  endpoint_rate_limit_per_second: number;
}

export interface PostgresTarget {
  /** Server URL used to create and drop one fresh database per row. */
  url: string;
  version: string;
}

export interface BenchContext {
  /** Multiplier of the measured operation counts (BENCH_SCALE, default 1). */
  scale: number;
  /** Warm-up operations before each row is measured (BENCH_WARMUP, default 200). */
  warmup: number;
  /** Reachable PostgreSQL, or why its rows are skipped. */
  postgres: PostgresTarget | { skipped: string };
  /** Database kinds to run (BENCH_DATABASES, default all). */
  databases: readonly DatabaseTarget[];
  log(line: string): void;
}

export type DatabaseTarget = 'pglite-memory' | 'pglite-disk' | 'postgres';
export const DATABASE_TARGETS: readonly DatabaseTarget[] = ['pglite-memory', 'pglite-disk', 'postgres'];

export interface Benchmark {
  name: string;
  /** One sentence: what one operation is. */
  description: string;
  run(context: BenchContext): Promise<BenchRow[]>;
}

/** What one operation reports: true when it got the expected answer, otherwise a short reason. */
export type OperationResult = true | string;

export interface LoadResult {
  operations: number;
  failures: number;
  firstFailure: string | undefined;
  seconds: number;
  latenciesMs: Float64Array;
  /** This process's CPU time (user + system) over the run, in milliseconds. */
  cpuMs: number;
  machineBusyPercent: number | null;
}

interface CpuTimes {
  busy: number;
  total: number;
}

/** Whole-machine CPU jiffies from /proc/stat (Linux), or undefined. */
export function machineCpuTimes(): CpuTimes | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (fields.length < 8 || fields.some((v) => !Number.isFinite(v))) return undefined;
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** How busy the machine's CPUs were between two readings of machineCpuTimes, 0-100, or null when unknown. */
export function busyPercent(before: CpuTimes | undefined, after: CpuTimes | undefined): number | null {
  if (!before || !after || after.total <= before.total) return null;
  return (100 * (after.busy - before.busy)) / (after.total - before.total);
}

/** How busy the machine is over `ms` before a run starts (null when unknown): other work skews the figures. */
export async function sampleMachineBusy(ms = 1000): Promise<number | null> {
  const before = machineCpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return busyPercent(before, machineCpuTimes());
}

/**
 * Runs `count` operations with `concurrency` callers, each taking the next operation number as soon as
 * its previous one has finished (a closed loop, like `concurrency` clients that wait for each answer).
 */
export async function runLoad(
  count: number,
  concurrency: number,
  operation: (index: number) => Promise<OperationResult>,
): Promise<LoadResult> {
  const latencies = new Float64Array(count);
  let next = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const caller = async (): Promise<void> => {
    for (;;) {
      const index = next;
      if (index >= count) return;
      next += 1;
      const started = performance.now();
      let result: OperationResult;
      try {
        result = await operation(index);
      } catch (error) {
        result = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      latencies[index] = performance.now() - started;
      if (result !== true) {
        failures += 1;
        firstFailure ??= result;
      }
    }
  };
  const machineBefore = machineCpuTimes();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, caller));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    operations: count,
    failures,
    firstFailure,
    seconds,
    latenciesMs: latencies,
    cpuMs: (cpu.user + cpu.system) / 1000,
    machineBusyPercent: busyPercent(machineBefore, machineCpuTimes()),
  };
}

/**
 * Runs `work`, and when BENCH_CPU_PROFILE names a directory, records a V8 CPU profile of just that work
 * into <dir>/<name>.cpuprofile (open it in Chrome DevTools or speedscope). Only measured phases are
 * profiled, so start-up, database creation and warm-up stay out of the picture.
 */
export async function withCpuProfile<T>(name: string, work: () => Promise<T>): Promise<T> {
  const directory = process.env.BENCH_CPU_PROFILE;
  if (directory === undefined || directory.trim() === '') return work();
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    const result = await work();
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(directory, { recursive: true });
    const file = path.join(directory, `${name.replace(/[^a-zA-Z0-9_.-]+/g, '_')}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return result;
  } finally {
    session.disconnect();
  }
}

/** Nearest-rank percentile (p in 0..100) of already sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/**
 * Turns a measured load into a row (throughput counts its successful operations only). `otherFailures`
 * counts failures outside the measured operations (warm-up, verification), which also fail the run.
 */
export function toRow(
  base: Pick<BenchRow, 'benchmark' | 'database' | 'concurrency' | 'pool_size'>,
  load: LoadResult,
  notes: string[] = [],
  otherFailures = 0,
): BenchRow {
  const sorted = Float64Array.from(load.latenciesMs).sort();
  const succeeded = load.operations - load.failures;
  return {
    ...base,
    operations: load.operations,
    seconds: round(load.seconds, 3),
    ops_per_second: round(succeeded / load.seconds, 1),
    p50_ms: round(percentile(sorted, 50), 3),
    p95_ms: round(percentile(sorted, 95), 3),
    p99_ms: round(percentile(sorted, 99), 3),
    failures: load.failures + otherFailures,
    node_cpu_ms_per_op: round(load.cpuMs / load.operations, 3),
    machine_cpu_busy_percent: load.machineBusyPercent === null ? null : round(load.machineBusyPercent, 0),
    notes: load.firstFailure === undefined ? notes : [...notes, `first failure: ${load.firstFailure}`],
  };
}
