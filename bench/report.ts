// Printing and storing results: a fixed-width table on stdout, and JSON in bench/results/ (latest.json
// plus a timestamped copy; the folder is git-ignored) with the machine the figures come from.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchRow } from './harness.js';

export interface MachineInfo {
  cpu_model: string;
  cpu_count: number;
  total_memory_bytes: number;
  total_memory_gib: number;
  os: string;
  node_version: string;
  /** `select version()` of the PostgreSQL server, or why it was not used. */
  postgres_version: string | null;
  postgres_skipped: string | null;
  /** os.loadavg() when the run started. */
  load_average: number[];
  /** CPU busy % of the whole machine over one second before the run (other work skews the figures). */
  busy_before_percent: number | null;
}

export interface BenchReport {
  date: string;
  git_commit: string | null;
  command: string;
  settings: { scale: number; warmup: number; benchmarks: string[]; databases: string[] };
  machine: MachineInfo;
  rows: BenchRow[];
  failed: boolean;
}

export function machineInfo(
  postgres: { version: string } | { skipped: string },
  busyBefore: number | null,
): MachineInfo {
  const cpus = os.cpus();
  const total = os.totalmem();
  return {
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    cpu_count: cpus.length,
    total_memory_bytes: total,
    total_memory_gib: Number((total / 1024 ** 3).toFixed(1)),
    os: `${os.type()} ${os.release()} (${os.platform()}/${os.arch()})`,
    node_version: process.version,
    postgres_version: 'version' in postgres ? postgres.version : null,
    postgres_skipped: 'skipped' in postgres ? postgres.skipped : null,
    load_average: os.loadavg().map((v) => Number(v.toFixed(2))),
    busy_before_percent: busyBefore === null ? null : Math.round(busyBefore),
  };
}

export function gitCommit(): string | null {
  try {
    return (
      execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || null
    );
  } catch {
    return null;
  }
}

interface Column {
  title: string;
  value(row: BenchRow): string;
  alignLeft?: boolean;
}

const fixed = (digits: number) => (value: number) => value.toFixed(digits);

const COLUMNS: Column[] = [
  { title: 'benchmark', value: (r) => r.benchmark, alignLeft: true },
  { title: 'database', value: (r) => r.database, alignLeft: true },
  { title: 'callers', value: (r) => String(r.concurrency) },
  { title: 'pool', value: (r) => (r.pool_size === null ? '-' : String(r.pool_size)) },
  { title: 'ops', value: (r) => String(r.operations) },
  { title: 'seconds', value: (r) => fixed(2)(r.seconds) },
  { title: 'ops/s', value: (r) => fixed(0)(r.ops_per_second) },
  { title: 'p50 ms', value: (r) => fixed(2)(r.p50_ms) },
  { title: 'p95 ms', value: (r) => fixed(2)(r.p95_ms) },
  { title: 'p99 ms', value: (r) => fixed(2)(r.p99_ms) },
  { title: 'failures', value: (r) => String(r.failures) },
  // Both limits of the gateway the row went through (global, per endpoint), '-' where it used none of Settle's.
  {
    title: 'gateway limits',
    value: (r) =>
      r.gateway_limits
        ? `${r.gateway_limits.rate_limit_per_second}/s, endpoint ${r.gateway_limits.endpoint_rate_limit_per_second === 0 ? 'off' : `${r.gateway_limits.endpoint_rate_limit_per_second}/s`}`
        : '-',
  },
  { title: 'req/op', value: (r) => (r.requests_per_op == null ? '-' : fixed(3)(r.requests_per_op)) },
  { title: 'node cpu ms/op', value: (r) => fixed(2)(r.node_cpu_ms_per_op) },
  {
    title: 'machine busy %',
    value: (r) => (r.machine_cpu_busy_percent === null ? '-' : fixed(0)(r.machine_cpu_busy_percent)),
  },
];

/** A fixed-width table of the rows. */
export function formatTable(rows: readonly BenchRow[]): string {
  const cells = rows.map((row) => COLUMNS.map((column) => column.value(row)));
  const widths = COLUMNS.map((column, i) =>
    Math.max(column.title.length, ...cells.map((line) => line[i]?.length ?? 0)),
  );
  const pad = (text: string, i: number): string => {
    const width = widths[i] ?? text.length;
    return COLUMNS[i]?.alignLeft ? text.padEnd(width) : text.padStart(width);
  };
  const header = COLUMNS.map((column, i) => pad(column.title, i)).join('  ');
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [header, rule, ...cells.map((line) => line.map(pad).join('  '))].join('\n');
}

/** The same table as Markdown (for docs/PERFORMANCE.md). */
export function formatMarkdownTable(rows: readonly BenchRow[]): string {
  const header = `| ${COLUMNS.map((c) => c.title).join(' | ')} |`;
  const rule = `| ${COLUMNS.map((c) => (c.alignLeft ? '---' : '---:')).join(' | ')} |`;
  return [header, rule, ...rows.map((row) => `| ${COLUMNS.map((c) => c.value(row)).join(' | ')} |`)].join('\n');
}

/** Writes bench/results/latest.json and bench/results/<ISO time>.json; returns both paths. */
export function writeResults(report: BenchReport, directory: string): { latest: string; stamped: string } {
  mkdirSync(directory, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  // ISO 8601 time with ':' replaced by '-' so that the name is valid on every file system.
  const stamped = path.join(directory, `${report.date.replace(/:/g, '-')}.json`);
  const latest = path.join(directory, 'latest.json');
  writeFileSync(stamped, text);
  writeFileSync(latest, text);
  return { latest, stamped };
}
