// `npm run bench [-- <benchmark>...] [-- --markdown]`: runs the named benchmarks (all by default), prints
// a fixed-width table and writes bench/results/latest.json plus a timestamped copy. Exits non-zero when
// any operation failed or a row's verification did not hold.
//
// Environment: BENCH_SCALE (multiplier of the measured counts, default 1), BENCH_WARMUP (warm-up
// operations per row, default 200), BENCH_DATABASES (comma list of pglite-memory, pglite-disk, postgres;
// default all), BENCH_DATABASE_URL / TEST_DATABASE_URL (PostgreSQL server; default
// postgres://postgres@127.0.0.1:5432/postgres, skipped with a message when unreachable), BENCH_CPU_PROFILE
// (a directory: one V8 .cpuprofile per row, of its measured phase only). --list names the benchmarks.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chargeLifecycles } from './charge-lifecycles.js';
import { chargeLifecyclesProcesses } from './charge-lifecycles-processes.js';
import { createTransactions, createTransactionsIdempotent } from './create-transactions.js';
import { emulatorRoundTrips } from './emulator-round-trips.js';
import { gatewayRequestsPerAction } from './gateway-requests-per-action.js';
import { scheduledCharges, scheduledChargesWebhooks } from './scheduled-charges.js';
import { webhookApply } from './webhook-apply.js';
import { webhookIntake } from './webhook-intake.js';
import { backfill } from './backfill.js';
import { payoutReconciliation } from './payout-reconciliation.js';
import { rollupCost } from './rollup-cost.js';
import { hotParent } from './hot-parent.js';
import { listViews } from './list-views.js';
import { consoleBench } from './console.js';
import { probePostgres } from './databases.js';
import {
  type Benchmark,
  type BenchContext,
  type BenchRow,
  DATABASE_TARGETS,
  type DatabaseTarget,
  sampleMachineBusy,
} from './harness.js';
import { formatMarkdownTable, formatTable, gitCommit, machineInfo, type BenchReport, writeResults } from './report.js';

const BENCHMARKS: readonly Benchmark[] = [
  createTransactions,
  createTransactionsIdempotent,
  emulatorRoundTrips,
  chargeLifecycles,
  chargeLifecyclesProcesses,
  webhookIntake,
  webhookApply,
  scheduledCharges,
  scheduledChargesWebhooks,
  backfill,
  payoutReconciliation,
  gatewayRequestsPerAction,
  rollupCost,
  hotParent,
  listViews,
  consoleBench,
];

const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function numberFromEnv(name: string, fallback: number, check: (value: number) => boolean, expected: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || !check(value)) throw new Error(`${name} must be ${expected}, got '${raw}'`);
  return value;
}

function databasesFromEnv(): DatabaseTarget[] {
  const raw = process.env.BENCH_DATABASES;
  if (raw === undefined || raw.trim() === '') return [...DATABASE_TARGETS];
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const name of names) {
    if (!(DATABASE_TARGETS as readonly string[]).includes(name)) {
      throw new Error(`BENCH_DATABASES: unknown database '${name}'; choose from ${DATABASE_TARGETS.join(', ')}`);
    }
  }
  return DATABASE_TARGETS.filter((target) => names.includes(target));
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const markdown = args.includes('--markdown');
  const names = args.filter((arg) => !arg.startsWith('--'));
  if (args.includes('--list')) {
    for (const benchmark of BENCHMARKS) process.stdout.write(`${benchmark.name}  ${benchmark.description}\n`);
    return 0;
  }
  const unknown = names.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) {
    log(`Unknown benchmark(s): ${unknown.join(', ')}. Known: ${BENCHMARKS.map((b) => b.name).join(', ')}.`);
    return 2;
  }
  const selected = names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => names.includes(b.name));

  const scale = numberFromEnv('BENCH_SCALE', 1, (v) => v > 0, 'a positive number');
  const warmup = numberFromEnv('BENCH_WARMUP', 200, (v) => Number.isInteger(v) && v >= 0, 'a whole number');
  const databases = databasesFromEnv();
  const postgres = databases.includes('postgres')
    ? await probePostgres()
    : { skipped: 'not selected (BENCH_DATABASES)' };
  if ('skipped' in postgres && databases.includes('postgres')) {
    log(
      `PostgreSQL rows skipped: ${postgres.skipped}. Set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a reachable server.`,
    );
  }
  const busyBefore = await sampleMachineBusy();
  if (busyBefore !== null && busyBefore > 15) {
    log(
      `WARNING: the machine was ${Math.round(busyBefore)}% busy before the run started; other work will lower these figures.`,
    );
  }
  const machine = machineInfo(postgres, busyBefore);
  const date = new Date().toISOString();
  log(
    `Settle bench ${date}: ${machine.cpu_model} x${machine.cpu_count}, ${machine.total_memory_gib} GiB, ${machine.os}, Node ${machine.node_version}` +
      (machine.postgres_version ? `, ${machine.postgres_version}` : '') +
      '; API rate limit off (every app and server the benchmarks start runs with SETTLE_API_RATE_LIMIT=0)',
  );

  const context: BenchContext = { scale, warmup, postgres, databases, log };
  const rows: BenchRow[] = [];
  let failed = false;
  for (const benchmark of selected) {
    try {
      rows.push(...(await benchmark.run(context)));
    } catch (error) {
      failed = true;
      log(`${benchmark.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  if (rows.some((row) => row.failures > 0)) failed = true;

  process.stdout.write(`\n${formatTable(rows)}\n\n`);
  for (const row of rows) {
    for (const note of row.notes)
      process.stdout.write(`  ${row.benchmark} / ${row.database} / ${row.concurrency}: ${note}\n`);
  }
  if (markdown) process.stdout.write(`\n${formatMarkdownTable(rows)}\n`);

  const report: BenchReport = {
    date,
    git_commit: gitCommit(),
    command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
    settings: { scale, warmup, benchmarks: selected.map((b) => b.name), databases },
    machine,
    rows,
    failed,
  };
  const written = writeResults(report, RESULTS_DIR);
  process.stdout.write(
    `\nResults: ${path.relative(process.cwd(), written.latest)} and ${path.relative(process.cwd(), written.stamped)}\n`,
  );
  if (failed) log('FAILED: some operations failed or a verification did not hold (see above).');
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
