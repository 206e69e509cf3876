// Helpers shared by test/jobs/workers.test.ts and bench/scheduled-charges.ts: `settle worker` child processes (every
// one tracked and killed by pid when the caller is done, or when this process exits), due charges inserted in bulk
// exactly as the API would create them, a daily_charges run started the way the API starts it, and the two checks
// both make afterwards: the emulator's request log per 1-second window, and one PaymentIntent per transaction.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { sql } from 'kysely';
import type Stripe from 'stripe';
import { dateInZone } from '../../src/app/clock.js';
import type { Deps } from '../../src/app/deps.js';
import { TRANSACTION_ID_METADATA_KEY } from '../../src/app/gateway-port.js';
import { ensureDefaultEmulatorGateway } from '../../src/app/gateway-records.js';
import { createPaymentMethod } from '../../src/app/payment-methods.js';
import { buildNewTransaction } from '../../src/app/transactions/create-transaction.js';
import type { RequestLogEntry } from '@settle/stripe-emulator';
import { dueRuleFor } from '../../src/jobs/definitions.js';
import { findRun, startRun } from '../../src/jobs/job-runs.js';
import { countDue } from '../../src/jobs/selections.js';
import type { JobRunRow, NewTransactionRow } from '../../src/store/schema.js';
import { creationChanges } from '../../src/store/transactions-repo.js';
import { ROOT } from '../chaos/support.js';

const BIN = path.join(ROOT, 'bin', 'settle.js');

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------------
// `settle worker` processes.

export interface Worker {
  proc: ChildProcess;
  /** The worker's name in job_claims.worker (printed as `Settle worker <id> started`). */
  id: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * BENCH_CHILD_CPU_PROFILE=DIR (benchmarks): each child writes a V8 CPU profile there when it exits normally (a
 * SIGTERM lets it; a SIGKILL does not). NODE_OPTIONS may not carry --cpu-prof, so it is passed here.
 */
export function childProfileArgs(): string[] {
  const directory = process.env.BENCH_CHILD_CPU_PROFILE;
  return directory === undefined || directory.trim() === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${directory}`];
}

function spawnTracked(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const proc = spawn(process.execPath, [...childProfileArgs(), BIN, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Last resort (an uncaught failure that skipped the caller's clean-up): no worker outlives this process.
    process.once('exit', () => {
      for (const left of children) left.kill('SIGKILL');
    });
  }
  return proc;
}

/** Starts `settle worker` and resolves once it printed `Settle worker <id> started`. */
export function startWorker(env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<Worker> {
  // The workers keep this process's CPU priority. The emulator, which stands for Stripe's own machines, dates each
  // request in a thread of higher priority when it arrives (arrival-front.ts, arrivalThread), so a busy machine
  // delays its answers, not its count; workers of lower priority were tried and only lost their rate-limit turns
  // (kept off the CPU between a grant and its use).
  const proc = spawnTracked(['worker'], env);
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return new Promise<Worker>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(`did not print "Settle worker <id> started" within ${timeoutMs} ms`),
      timeoutMs,
    );
    const fail = (why: string) => {
      clearTimeout(timer);
      void kill().then(() => reject(new Error(`settle worker (pid ${proc.pid ?? '?'}) ${why}:\n${out}`)));
    };
    let started = false;
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.length > 200_000) out = out.slice(-100_000);
      const m = !started && out.match(/Settle worker (\S+) started/);
      if (m) {
        started = true;
        clearTimeout(timer);
        resolve({ proc, id: m[1]!, output: () => out, exited, kill });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => {
      if (!started) fail(`exited (${code ?? signal}) before it started`);
    });
  });
}

/** Starts `count` workers at once; if one fails to start, the others are killed too. */
export async function startWorkers(count: number, env: NodeJS.ProcessEnv): Promise<Worker[]> {
  const results = await Promise.allSettled(Array.from({ length: count }, () => startWorker(env)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await killAllWorkers();
    throw failed.reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<Worker>).value);
}

/** SIGKILL (by pid) every worker still running. */
export async function killAllWorkers(): Promise<void> {
  await Promise.all(
    [...children].map(
      (proc) =>
        new Promise<void>((resolve) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
          proc.once('exit', () => resolve());
          proc.kill('SIGKILL');
        }),
    ),
  );
}

/** SIGTERM (a worker finishes its items under way and exits), then SIGKILL after `timeoutMs`. */
export async function stopWorker(worker: Worker, timeoutMs = 5_000): Promise<void> {
  if (worker.proc.exitCode !== null || worker.proc.signalCode !== null) return;
  worker.proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    worker.exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) await worker.kill('SIGKILL');
}

/**
 * A worker's environment: the parent's, with the database, the gateway (a separately running emulator), a data
 * directory, no scheduled jobs of its own (it only joins runs started elsewhere) and a short claim lease.
 */
export function workerEnv(options: {
  databaseUrl: string;
  emulatorUrl: string;
  dataDir: string;
  leaseSeconds: number;
  concurrency?: number;
}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: options.databaseUrl,
    STRIPE_API_BASE: options.emulatorUrl,
    SETTLE_DATA_DIR: options.dataDir,
    SETTLE_SCHEDULED_JOBS: 'none',
    SETTLE_JOB_LEASE_SECONDS: String(options.leaseSeconds),
    LOG_LEVEL: 'warn',
  };
  if (options.concurrency !== undefined) env.SETTLE_JOB_CONCURRENCY = String(options.concurrency);
  // A STRIPE_SECRET_KEY would make the default gateway real Stripe; the others would change what is tested.
  for (const name of [
    'STRIPE_SECRET_KEY',
    'STRIPE_WEBHOOK_SECRET',
    'SETTLE_EMULATOR_PORT',
    'SETTLE_GATEWAY_TIMEOUT_MS',
    'DATABASE_POOL_SIZE',
  ])
    delete env[name];
  if (options.concurrency === undefined) delete env.SETTLE_JOB_CONCURRENCY;
  delete env.SETTLE_RATE_LIMIT_ALLOWANCE_MS;
  return env;
}

// ---------------------------------------------------------------------------------------------------------------
// Set-up: the gateway, the due charges, the run.

/**
 * The emulator at `emulatorUrl` as the default gateway (as `settle worker` with STRIPE_API_BASE creates it), with
 * `ratePerSecond` as its limit. Set before the workers start: each process reads the limit when it builds its
 * adapter. Returns the gateway's id.
 */
export async function useEmulatorGateway(deps: Deps, emulatorUrl: string, ratePerSecond: number): Promise<string> {
  const record = await ensureDefaultEmulatorGateway(deps, { apiBase: emulatorUrl });
  await deps.db
    .updateTable('gateways')
    .set((eb) => ({ rate_limit_per_second: ratePerSecond, version: eb('version', '+', 1), updated_at: new Date() }))
    .where('id', '=', record.id)
    .execute();
  return record.id;
}

export interface Seeded {
  paymentMethodId: string;
  /** Today in the settings' timezone: every charge's due_date. */
  day: string;
  ids: string[];
  amounts: Map<string, number>;
}

/**
 * `count` open auto-process charges due today on one valid Visa card, as POST /v1/transactions would create them
 * (the same row builder, and each with its `created` history row), inserted by a few multi-row statements.
 */
export async function seedDueCharges(deps: Deps, count: number, actor = 'test:workers'): Promise<Seeded> {
  const settings = await deps.settings.get();
  const day = dateInZone(deps.clock.now(), settings.timezone);
  const pm = await createPaymentMethod(
    deps,
    { actor },
    { gateway_token: 'pm_card_visa', type: 'card', exp_month: 12, exp_year: 2030 },
  );
  const paymentMethodId = pm.body.id;
  const rows: NewTransactionRow[] = [];
  for (let i = 0; i < count; i += 1) {
    const { row } = await buildNewTransaction(
      deps,
      deps.db,
      { amount: 1000 + i, currency: 'usd', auto_process: true, due_date: day, payment_method_id: paymentMethodId },
      // The payment method was just created with no account or contact, so there is nothing to take from it.
      { referencesChecked: true },
    );
    rows.push(row);
  }
  const CHUNK = 500; // ~90 columns a row: under PostgreSQL's 65,535 parameters per statement
  for (let start = 0; start < rows.length; start += CHUNK) {
    const chunk = rows.slice(start, start + CHUNK);
    await deps.db.transaction().execute(async (trx) => {
      await trx.insertInto('transactions').values(chunk).execute();
      await trx
        .insertInto('transaction_history')
        .values(
          chunk.map((row) => ({
            transaction_id: row.id,
            actor,
            action: 'created',
            changes: JSON.stringify(creationChanges(row)),
          })),
        )
        .execute();
    });
  }
  // Planner statistics, as autovacuum would have gathered them for rows created over the days before a real run.
  // Without them (a table loaded a moment ago: reltuples -1), claimBatch's query is planned as a nested-loop anti join
  // that reads every claim of the run for each open transaction: its time grows with open x claimed (about 1 s a claim
  // at 800 of 5,000 claimed), which would make this run measure that plan instead of the workers.
  await sql`analyze transactions, payment_methods, job_claims, job_runs`.execute(deps.db);
  return { paymentMethodId, day, ids: rows.map((r) => r.id), amounts: new Map(rows.map((r) => [r.id, r.amount])) };
}

/** Starts a run of daily_charges as POST /v1/jobs/daily_charges/run does (its total from countDue); workers join it. */
export async function startDailyCharges(deps: Deps, startedBy: string): Promise<JobRunRow> {
  const settings = await deps.settings.get();
  const now = deps.clock.now();
  const total = await countDue(deps.db, 'daily_charges', {
    ...dueRuleFor(settings, dateInZone(now, settings.timezone)),
    now,
  });
  const result = await startRun(deps.db, { job: 'daily_charges', trigger: 'api', slot: null, startedBy, now, total });
  if (!('started' in result)) throw new Error(`daily_charges did not start: ${JSON.stringify(result)}`);
  return result.started;
}

/** How many of the transactions are in each status. */
export async function statusCounts(deps: Pick<Deps, 'db'>): Promise<Record<string, number>> {
  const rows = await deps.db
    .selectFrom('transactions')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/**
 * Waits until the run is no longer running and no transaction is open; throws with what it last saw after
 * `timeoutMs`. `onPoll` sees the status counts on every look (every `pollMs`).
 */
export async function waitForRunDone(
  deps: Pick<Deps, 'db'>,
  runId: string,
  options: { timeoutMs: number; pollMs?: number; onPoll?: (counts: Record<string, number>) => Promise<void> | void },
): Promise<JobRunRow> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const [run, counts] = await Promise.all([findRun(deps.db, runId), statusCounts(deps)]);
    if (!run) throw new Error(`run ${runId} disappeared`);
    await options.onPoll?.(counts);
    if (run.status !== 'running' && (counts.open ?? 0) === 0) return run;
    if (Date.now() > deadline) {
      throw new Error(
        `after ${options.timeoutMs} ms run ${runId} is ${run.status} (picked ${run.picked}, succeeded ${run.succeeded}) and the transactions are ${JSON.stringify(counts)}`,
      );
    }
    await sleep(options.pollMs ?? 100);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Checks.

export interface WindowStats {
  /** Requests to /v1/ API paths (all methods) in the log. */
  requests: number;
  /** Milliseconds from the first such request to the last. */
  spanMs: number;
  /** The most requests in any 1000 ms window [t, t + 1000), whatever its start. */
  maxInWindow: number;
  /** Where that window starts (ms since the epoch). */
  maxWindowStart: number | null;
}

/** Counts the emulator's API requests (paths under /v1/, all methods) logged in [from, to] (ms since the epoch). */
export function windowStats(
  log: readonly RequestLogEntry[],
  from = Number.NEGATIVE_INFINITY,
  to = Number.POSITIVE_INFINITY,
  windowMs = 1000,
): WindowStats {
  const times = log
    .filter((e) => e.path.startsWith('/v1/') && e.at >= from && e.at <= to)
    .map((e) => e.at)
    .sort((a, b) => a - b);
  let max = 0;
  let maxStart: number | null = null;
  // Any window's requests can be slid to start at its first request without losing one: try each request as a start.
  for (let i = 0, j = 0; i < times.length; i += 1) {
    while (j < times.length && times[j]! < times[i]! + windowMs) j += 1;
    if (j - i > max) {
      max = j - i;
      maxStart = times[i]!;
    }
  }
  return {
    requests: times.length,
    spanMs: times.length === 0 ? 0 : times[times.length - 1]! - times[0]!,
    maxInWindow: max,
    maxWindowStart: maxStart,
  };
}

export interface OnceReport {
  /** PaymentIntents at the emulator. */
  paymentIntents: number;
  /** Every disagreement, as sentences (empty: one PaymentIntent per transaction, amounts and references equal). */
  problems: string[];
}

/**
 * Reads every PaymentIntent from the emulator with the SDK (auto-pagination) and checks it against the charges:
 * exactly one per transaction (by the settle_transaction_id metadata), none for anything else, the transaction
 * completed/captured, recording that PaymentIntent, for the same amount.
 */
export async function checkChargedOnce(
  deps: Pick<Deps, 'db'>,
  stripe: Stripe,
  seeded: Pick<Seeded, 'ids' | 'amounts'>,
): Promise<OnceReport> {
  const pis: Stripe.PaymentIntent[] = [];
  await stripe.paymentIntents.list({ limit: 100 }).autoPagingEach((pi) => {
    pis.push(pi);
  });
  const rows = await deps.db
    .selectFrom('transactions')
    .select(['id', 'status', 'payment_status', 'amount', 'captured_amount', 'gateway_payment_intent'])
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const problems: string[] = [];
  const seen = new Map<string, string[]>();
  for (const pi of pis) {
    const txId = pi.metadata?.[TRANSACTION_ID_METADATA_KEY];
    if (txId === undefined) {
      problems.push(`PaymentIntent ${pi.id} has no ${TRANSACTION_ID_METADATA_KEY}`);
      continue;
    }
    seen.set(txId, [...(seen.get(txId) ?? []), pi.id]);
    const t = byId.get(txId);
    if (!t || !seeded.amounts.has(txId)) {
      problems.push(`PaymentIntent ${pi.id} names ${txId}, which is not one of the seeded charges`);
      continue;
    }
    if (pi.status !== 'succeeded') problems.push(`PaymentIntent ${pi.id} of ${txId} is ${pi.status}`);
    if (pi.amount !== t.amount || pi.amount !== seeded.amounts.get(txId))
      problems.push(`PaymentIntent ${pi.id} is for ${pi.amount}, but ${txId} has amount ${t.amount}`);
    if (t.gateway_payment_intent !== pi.id)
      problems.push(`PaymentIntent ${pi.id} names ${txId}, which records ${t.gateway_payment_intent ?? 'none'}`);
  }
  for (const id of seeded.ids) {
    const t = byId.get(id);
    const got = seen.get(id) ?? [];
    if (got.length !== 1)
      problems.push(`${id} has ${got.length} PaymentIntents${got.length > 0 ? `: ${got.join(', ')}` : ''}`);
    if (!t) problems.push(`${id} is missing`);
    else if (t.status !== 'completed' || t.payment_status !== 'captured' || t.captured_amount !== t.amount) {
      problems.push(`${id} is ${t.status}/${t.payment_status ?? '-'} (captured ${t.captured_amount} of ${t.amount})`);
    }
  }
  return { paymentIntents: pis.length, problems };
}

/**
 * The shared limiter's own record (rate_limit_grants: tokens granted to any process, dated by the database clock),
 * collected while it lasts (grants are deleted about 10 s after they leave the limiter's look-back): call poll()
 * at least every few seconds.
 */
/** Well inside the shared limiter's 10 s retention of old grants (KEEP_GRANTS_MS in shared-rate-limiter.ts). */
const GIVEN_BACK_HORIZON_MS = 5_000;

export class GrantRecorder {
  readonly #grants = new Map<string, { at: number; tokens: number }>();
  /** Grants from `fromMs` (epoch ms) on; earlier ones (a warm-up run's) are left out. */
  constructor(
    readonly deps: Pick<Deps, 'db'>,
    readonly gatewayId: string,
    readonly fromMs = Number.NEGATIVE_INFINITY,
  ) {}

  async poll(): Promise<void> {
    const rows = (
      await this.deps.db
        .selectFrom('rate_limit_grants')
        .select(['id', 'granted_at', 'tokens'])
        .where('gateway_id', '=', this.gatewayId)
        .execute()
    ).filter((r) => new Date(r.granted_at).getTime() >= this.fromMs);
    const seen = new Set<string>();
    for (const r of rows) {
      seen.add(String(r.id));
      this.#grants.set(String(r.id), { at: new Date(r.granted_at).getTime(), tokens: r.tokens });
    }
    // A grant whose tokens all expired unused is deleted when given back; the limiter's sweep deletes only grants
    // 10 s old or more. So a grant gone while younger than that was given back whole: it counts nothing.
    const youngerThan = Math.max(...rows.map((r) => new Date(r.granted_at).getTime()), 0) - GIVEN_BACK_HORIZON_MS;
    for (const [id, grant] of this.#grants) if (!seen.has(id) && grant.at > youngerThan) this.#grants.delete(id);
  }

  /** Tokens granted, and the most granted in any `windowMs` window (by grant time). */
  stats(windowMs = 1000): { grants: number; tokens: number; maxInWindow: number } {
    const g = [...this.#grants.values()].sort((a, b) => a.at - b.at);
    let max = 0;
    for (let i = 0, j = 0, sum = 0; i < g.length; i += 1) {
      while (j < g.length && g[j]!.at < g[i]!.at + windowMs) sum += g[j++]!.tokens;
      max = Math.max(max, sum);
      sum -= g[i]!.tokens;
    }
    return { grants: g.length, tokens: g.reduce((a, x) => a + x.tokens, 0), maxInWindow: max };
  }
}

/** Done claims of the run per worker (job_claims.worker). */
export async function doneClaimsByWorker(deps: Pick<Deps, 'db'>, runId: string): Promise<Map<string, number>> {
  const rows = await deps.db
    .selectFrom('job_claims')
    .select(['worker', sql<string>`count(*)`.as('n')])
    .where('run_id', '=', runId)
    .where('state', '=', 'done')
    .groupBy('worker')
    .execute();
  return new Map(rows.map((r) => [r.worker, Number(r.n)]));
}
