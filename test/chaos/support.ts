// Helpers for the crash-safety test (test/chaos/crash.test.ts): child processes (a separately running emulator,
// `settle serve`, `settle recover`), the emulator's HTTP controls, and the snapshots of both sides. The checkers,
// pure functions of the snapshots, are in checker.ts (re-exported here).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import Stripe from 'stripe';
import type { Database } from '../../src/store/schema.js';
import {
  type AttemptResolution,
  type EmulatorRequest,
  type EmulatorSnapshot,
  type RecoveryReport,
  resolutionOf,
  type SettleSnapshot,
} from './checker.js';

export * from './checker.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'settle.js');

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------------
// The built CLI: bin/settle.js runs dist/, and imports the emulator package's dist/. A dist/ older than its src/ would
// test stale code, so each is rebuilt first (the emulator package before Settle, which compiles against it).

/** The two builds the CLI runs: the emulator package's and Settle's own, each a src/ compiled into a dist/. */
const BUILDS = [
  { root: path.join(ROOT, 'packages', 'stripe-emulator'), config: 'tsconfig.build.json' },
  { root: ROOT, config: 'tsconfig.build.json' },
] as const;

/** True when some src/**.ts under `root` has no dist/**.js at least as new. */
function isStale(root: string): boolean {
  const src = path.join(root, 'src');
  const walk = (dir: string): boolean => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (walk(full)) return true;
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const out = path.join(root, 'dist', path.relative(src, full)).replace(/\.ts$/, '.js');
        let built: number;
        try {
          built = statSync(out).mtimeMs;
        } catch {
          return true;
        }
        if (built < statSync(full).mtimeMs) return true;
      }
    }
    return false;
  };
  return walk(src);
}

/** True when Settle's dist/ or the emulator package's dist/ is older than its src/. */
export function distIsStale(): boolean {
  return BUILDS.some((build) => isStale(build.root));
}

/** Builds each dist/ (tsc into dist/ only, as `npm run build` does) that is older than its src/. */
export function ensureBuilt(): void {
  const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
  for (const build of BUILDS) {
    if (!isStale(build.root)) continue;
    // The build is incremental: a source file touched without a change of content would not be emitted again and
    // its output would stay older than it. Without the build info, everything is emitted.
    rmSync(path.join(build.root, 'dist', '.tsbuildinfo'), { force: true });
    const res = spawnSync(tsc, ['-p', build.config], { cwd: build.root, encoding: 'utf8' });
    if (isStale(build.root))
      throw new Error(
        `${path.relative(ROOT, build.root) || '.'}/dist is older than its src/ and building it failed:\n${res.stdout}\n${res.stderr}`,
      );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes. Every one started is tracked so that afterAll can kill what is left, even after a failure.

const children = new Set<ChildProcess>();

export interface Child {
  proc: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first match of `pattern` in the output. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function startChild(args: string[], env: NodeJS.ProcessEnv): Child {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > 200_000) out = out.slice(-100_000);
    for (const l of listeners) l();
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      for (const l of listeners) l();
      resolve({ code, signal });
    });
  });
  const waitFor = (pattern: RegExp, timeoutMs: number) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = out.match(pattern);
        if (m) {
          done();
          resolve(m);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          done();
          reject(
            new Error(
              `settle ${args.join(' ')} exited (${proc.exitCode ?? proc.signalCode}) before printing ${pattern}:\n${out}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`settle ${args.join(' ')} did not print ${pattern} within ${timeoutMs} ms:\n${out}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return { proc, output: () => out, exited, waitFor, kill };
}

/** Kills (SIGKILL, by pid) every child still running. */
export async function killAllChildren(): Promise<void> {
  const left = [...children];
  await Promise.all(
    left.map(
      (proc) =>
        new Promise<void>((resolve) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
          proc.once('exit', () => resolve());
          proc.kill('SIGKILL');
        }),
    ),
  );
}

/** `settle emulator --port 0`: a separately running Stripe emulator (memory only). */
export async function startEmulatorProcess(): Promise<{ child: Child; url: string }> {
  const child = startChild(['emulator', '--port', '0'], { ...process.env });
  const m = await child.waitFor(/listening on (http:\/\/[\d.]+:\d+)/, 30_000);
  return { child, url: m[1]! };
}

/** `settle serve` on a free port (PORT=0); resolves once it listens and /healthz answers. */
export async function startSettle(env: NodeJS.ProcessEnv): Promise<{ child: Child; url: string }> {
  // The API rate limit is off: the rounds drive the server as fast as they can, and 429s are not what they test.
  const child = startChild(['serve'], { ...env, PORT: '0', SETTLE_API_RATE_LIMIT: '0' });
  const m = await child.waitFor(/Settle is listening on (http:\/\/[\d.]+:\d+)/, 60_000);
  const url = m[1]!;
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`GET /healthz answered ${res.status}`);
  return { child, url };
}

export interface RecoveryRun {
  code: number | null;
  output: string;
  report: RecoveryReport | null;
}

/** `settle recover` with the same environment as the server; waits for it to exit. */
export async function runRecover(env: NodeJS.ProcessEnv): Promise<RecoveryRun> {
  const child = startChild(['recover'], env);
  const { code } = await child.exited;
  const output = child.output();
  const m = output.match(
    /Examined (\d+) in-flight gateway call\(s\): (\d+) resolved from the gateway's answer, (\d+) proven not to have happened \(put back\), (\d+) sent to needs_review, (\d+) still unknown\./,
  );
  const report = m
    ? {
        examined: Number(m[1]),
        applied: Number(m[2]),
        reverted: Number(m[3]),
        needs_review: Number(m[4]),
        still_unknown: Number(m[5]),
      }
    : null;
  return { code, output, report };
}

// ---------------------------------------------------------------------------------------------------------------
// The emulator's HTTP controls and its records, read through the official SDK.

export interface FaultJson {
  path: string | { regex: string };
  method?: string;
  kind: 'delay' | 'server_error' | 'rate_limit' | 'connection_reset' | 'drop_response';
  delayMs?: number;
  times?: number;
}

export class EmulatorClient {
  readonly stripe: Stripe;
  constructor(readonly url: string) {
    const u = new URL(url);
    this.stripe = new Stripe('sk_test_crash_checker', {
      host: u.hostname,
      port: Number(u.port),
      protocol: 'http',
      maxNetworkRetries: 2,
    });
  }

  private async control(method: string, p: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}${p}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const json: unknown = await res.json();
    if (res.status !== 200) throw new Error(`emulator ${method} ${p} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  }

  injectFault(fault: FaultJson): Promise<unknown> {
    return this.control('POST', '/_emulator/faults', fault);
  }

  clearFaults(): Promise<unknown> {
    return this.control('DELETE', '/_emulator/faults');
  }

  /** Webhook deliveries held (queued, not sent) or sent again, including what was queued meanwhile. */
  async holdWebhooks(hold: boolean): Promise<void> {
    await this.control('POST', '/_emulator/webhooks/config', { hold });
    if (!hold) await this.control('POST', '/_emulator/webhooks/flush');
  }

  async requests(): Promise<EmulatorRequest[]> {
    return (await this.control('GET', '/_emulator/requests')) as EmulatorRequest[];
  }

  async snapshot(): Promise<EmulatorSnapshot> {
    const [paymentIntents, refunds] = await Promise.all([
      this.stripe.paymentIntents.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 }),
      this.stripe.refunds.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 }),
    ]);
    return { paymentIntents, refunds };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Settle's side, read from its database.

export async function settleSnapshot(db: Kysely<Database>): Promise<SettleSnapshot> {
  const [transactions, attempts, runningKeys] = await Promise.all([
    db
      .selectFrom('transactions')
      .select([
        'id',
        'record_type',
        'transaction_type',
        'status',
        'payment_status',
        'amount',
        'authorized_amount',
        'captured_amount',
        'refunded_amount',
        'original_transaction_id',
        'gateway_payment_intent',
        'gateway_refund',
        'uncaptured_method',
        'non_gateway',
      ])
      .orderBy('id')
      .execute(),
    db
      .selectFrom('gateway_attempts')
      .select([
        'id',
        'transaction_id',
        'charge_transaction_id',
        'action',
        'idempotency_key',
        'state',
        'last_outcome',
        'recovery_tries',
        'created_at',
      ])
      .orderBy('id')
      .execute(),
    db.selectFrom('idempotency_keys').select('key').where('state', '=', 'running').execute(),
  ]);
  return { transactions, attempts, runningKeys };
}

// ---------------------------------------------------------------------------------------------------------------
// Who resolved each gateway attempt (checker.ts says how a resolution is told from the history).

/** The history rows, oldest first, that resolved a gateway attempt. */
export async function attemptResolutions(db: Kysely<Database>): Promise<AttemptResolution[]> {
  const rows = await db
    .selectFrom('transaction_history')
    .select(['id', 'transaction_id', 'actor', 'action'])
    .where('action', 'like', '%gatt\\_%')
    .orderBy('id')
    .execute();
  return rows.flatMap((row) => resolutionOf(row) ?? []);
}

/** The newest history row's id (0 when there is none): resolutions after it are those of what runs next. */
export async function lastHistoryId(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('transaction_history')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}
