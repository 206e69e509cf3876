// Helpers for the crash-safety test (test/chaos/crash.test.ts): child processes (a separately running emulator,
// `settle serve`, `settle recover`), the emulator's HTTP controls, snapshots of both sides, and the checker that
// says where Settle and the emulator disagree. The checker is a pure function of the two snapshots.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import Stripe from 'stripe';
import type { Database, GatewayAttemptRow, TransactionRow } from '../../src/store/schema.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'settle.js');
const METADATA_KEY = 'settle_transaction_id';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------------
// The built CLI: bin/settle.js runs dist/. A dist/ older than src/ would test stale code, so it is rebuilt first.

/** True when some src/**.ts has no dist/**.js at least as new. */
export function distIsStale(): boolean {
  const src = path.join(ROOT, 'src');
  const walk = (dir: string): boolean => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (walk(full)) return true;
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const out = path.join(ROOT, 'dist', path.relative(src, full)).replace(/\.ts$/, '.js');
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

/** Builds dist/ (the project's own `npm run build`, tsc into dist/ only) when it is older than src/. */
export function ensureBuilt(): void {
  if (!distIsStale()) return;
  const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
  // The build is incremental: a source file touched without a change of content would not be emitted again and
  // its output would stay older than it. Without the build info, everything is emitted.
  rmSync(path.join(ROOT, 'dist', '.tsbuildinfo'), { force: true });
  const res = spawnSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (distIsStale()) throw new Error(`dist/ is older than src/ and building it failed:\n${res.stdout}\n${res.stderr}`);
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
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
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
          reject(new Error(`settle ${args.join(' ')} exited (${proc.exitCode ?? proc.signalCode}) before printing ${pattern}:\n${out}`));
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
  report: { examined: number; applied: number; reverted: number; needs_review: number; still_unknown: number } | null;
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
    ? { examined: Number(m[1]), applied: Number(m[2]), reverted: Number(m[3]), needs_review: Number(m[4]), still_unknown: Number(m[5]) }
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

export interface EmulatorRequest {
  at: number;
  method: string;
  path: string;
  idempotencyKey: string | null;
  status: number;
}

export class EmulatorClient {
  readonly stripe: Stripe;
  constructor(readonly url: string) {
    const u = new URL(url);
    this.stripe = new Stripe('sk_test_crash_checker', { host: u.hostname, port: Number(u.port), protocol: 'http', maxNetworkRetries: 2 });
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
// Snapshots and the checker.

export interface EmulatorSnapshot {
  paymentIntents: Stripe.PaymentIntent[];
  refunds: Stripe.Refund[];
}

export type SettleTransaction = Pick<
  TransactionRow,
  | 'id'
  | 'record_type'
  | 'transaction_type'
  | 'status'
  | 'payment_status'
  | 'amount'
  | 'authorized_amount'
  | 'captured_amount'
  | 'refunded_amount'
  | 'original_transaction_id'
  | 'gateway_payment_intent'
  | 'gateway_refund'
  | 'uncaptured_method'
  | 'non_gateway'
>;

export type SettleAttempt = Pick<
  GatewayAttemptRow,
  'id' | 'transaction_id' | 'charge_transaction_id' | 'action' | 'idempotency_key' | 'state' | 'last_outcome' | 'recovery_tries' | 'created_at'
>;

export interface SettleSnapshot {
  transactions: SettleTransaction[];
  attempts: SettleAttempt[];
  /** API Idempotency-Keys left `running` (a gateway call under way, or unanswered after a crash). */
  runningKeys: { key: string }[];
}

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
      .select(['id', 'transaction_id', 'charge_transaction_id', 'action', 'idempotency_key', 'state', 'last_outcome', 'recovery_tries', 'created_at'])
      .orderBy('id')
      .execute(),
    db.selectFrom('idempotency_keys').select('key').where('state', '=', 'running').execute(),
  ]);
  return { transactions, attempts, runningKeys };
}

const label = (t: SettleTransaction) => (t.payment_status ? `${t.status}/${t.payment_status}` : t.status);
const meta = (o: { metadata: Stripe.Metadata | null }) => o.metadata?.[METADATA_KEY];
const piOf = (r: Stripe.Refund) => (typeof r.payment_intent === 'string' ? r.payment_intent : (r.payment_intent?.id ?? null));

function groupBy<T>(items: T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const list = map.get(k) ?? [];
    list.push(item);
    map.set(k, list);
  }
  return map;
}

/** What a charge's payment_status must be, given its amounts (domain/amounts.ts paymentStatusAfterRefund). */
function capturedStatus(t: SettleTransaction): string {
  if (t.refunded_amount > 0) return t.refunded_amount === t.captured_amount ? 'refunded' : 'partially_refunded';
  return t.captured_amount === t.authorized_amount ? 'captured' : 'partially_captured';
}

/**
 * Every disagreement between Settle and the emulator, as sentences naming the objects (empty: they agree exactly).
 * Strict for this test's workload (pm_card_visa only, gateway charges only): every transaction is in a final,
 * true state, every payment and refund at the gateway is known to Settle exactly once, and the amounts match.
 */
export function checkAgreement(settle: SettleSnapshot, emulator: EmulatorSnapshot): string[] {
  const problems: string[] = [];
  const byId = new Map(settle.transactions.map((t) => [t.id, t]));
  const pis = new Map(emulator.paymentIntents.map((p) => [p.id, p]));

  // Nothing left unresolved.
  for (const a of settle.attempts) {
    if (a.state === 'in_flight' || a.state === 'needs_review') {
      problems.push(`attempt ${a.id} (${a.action} of ${a.transaction_id}) is ${a.state} (last outcome ${a.last_outcome ?? 'none'}, ${a.recovery_tries} recovery tries)`);
    }
  }
  for (const key of settle.runningKeys) problems.push(`Idempotency-Key ${key.key} is still running: its request was never answered`);
  for (const t of settle.transactions) {
    if (t.status === 'process' || t.status === 'needs_review') problems.push(`transaction ${t.id} is ${label(t)}`);
  }

  // Payments: each known to Settle, once, by the transaction that names it.
  const pisByTx = groupBy(emulator.paymentIntents, meta);
  for (const p of emulator.paymentIntents) {
    const txId = meta(p);
    if (txId === undefined) {
      problems.push(`payment ${p.id} (${p.status}, ${p.amount}) has no ${METADATA_KEY}: a payment Settle does not know`);
      continue;
    }
    const t = byId.get(txId);
    if (!t) {
      problems.push(`payment ${p.id} (${p.status}) names transaction ${txId}, which Settle does not have`);
      continue;
    }
    if (t.record_type !== 'charge' || t.transaction_type !== 'normal') {
      problems.push(`payment ${p.id} names ${txId}, a ${t.record_type}/${t.transaction_type}, not a normal charge`);
    }
    if (t.gateway_payment_intent !== p.id) {
      problems.push(`payment ${p.id} (${p.status}) names ${txId}, but Settle records ${t.gateway_payment_intent ?? 'no payment intent'} for it (${label(t)})`);
    }
  }
  for (const [txId, list] of pisByTx) {
    if (list.length > 1) problems.push(`transaction ${txId} was paid ${list.length} times at the gateway: ${list.map((p) => `${p.id} (${p.status})`).join(', ')}`);
  }

  // Refunds: each known to Settle once (or the reversal a partial capture creates by itself).
  const refundsByTx = groupBy(emulator.refunds, meta);
  const reversalsByPi = groupBy(
    emulator.refunds.filter((r) => meta(r) === undefined),
    (r) => piOf(r) ?? undefined,
  );
  for (const r of emulator.refunds) {
    const txId = meta(r);
    const piId = piOf(r);
    if (txId === undefined) {
      const p = piId === null ? undefined : pis.get(piId);
      // Stripe books the release of money never captured as a refund: the rest of a partial capture, or the whole
      // of a canceled authorization (nothing received). Neither is a refund Settle made.
      const reversal = p !== undefined && p.status === 'succeeded' && p.amount_received < p.amount && r.amount === p.amount - p.amount_received;
      const release = p !== undefined && p.status === 'canceled' && p.amount_received === 0 && r.amount === p.amount;
      if (!reversal && !release) problems.push(`refund ${r.id} (${r.amount} on ${piId ?? 'no payment'}) has no ${METADATA_KEY} and is neither a partial-capture reversal nor a released authorization: a refund Settle does not know`);
      continue;
    }
    const t = byId.get(txId);
    if (!t) {
      problems.push(`refund ${r.id} names transaction ${txId}, which Settle does not have`);
      continue;
    }
    const charge = t.original_transaction_id === null ? undefined : byId.get(t.original_transaction_id);
    if (t.transaction_type !== 'refund' || !charge) {
      problems.push(`refund ${r.id} names ${txId}, which is not a refund of a known charge (${t.transaction_type}, original ${t.original_transaction_id ?? 'none'})`);
      continue;
    }
    if (charge.gateway_payment_intent !== piId) problems.push(`refund ${r.id} is on ${piId ?? 'no payment'}, but ${txId} refunds ${charge.id} whose payment is ${charge.gateway_payment_intent ?? 'none'}`);
    const wantState = r.status === 'pending' ? 'pending' : r.status === 'succeeded' ? 'completed/refunded' : `(a ${r.status} refund)`;
    if (label(t) !== wantState) problems.push(`refund ${r.id} is ${r.status} at the gateway, but ${txId} is ${label(t)} (expected ${wantState})`);
    if (t.amount !== -r.amount) problems.push(`refund ${r.id} is for ${r.amount}, but ${txId} has amount ${t.amount}`);
    if (t.gateway_refund !== r.id) problems.push(`refund ${r.id} names ${txId}, but Settle records gateway refund ${t.gateway_refund ?? 'none'}`);
  }
  for (const [txId, list] of refundsByTx) {
    if (list.length > 1) problems.push(`refund transaction ${txId} was refunded ${list.length} times at the gateway: ${list.map((r) => r.id).join(', ')}`);
  }
  for (const [piId, list] of reversalsByPi) {
    if (list.length > 1) problems.push(`payment ${piId} has ${list.length} refunds without ${METADATA_KEY}: ${list.map((r) => r.id).join(', ')}`);
  }

  // Each transaction in the state the gateway's records call for.
  const refundTxsByCharge = groupBy(
    settle.transactions.filter((t) => t.transaction_type === 'refund'),
    (t) => t.original_transaction_id ?? undefined,
  );
  for (const t of settle.transactions) {
    if (t.non_gateway) {
      problems.push(`transaction ${t.id} is non_gateway: this test makes none`);
      continue;
    }
    if (t.transaction_type === 'refund') {
      const at = refundsByTx.get(t.id) ?? [];
      if (label(t) === 'failed') {
        if (at.length > 0) problems.push(`refund transaction ${t.id} is failed, but the gateway holds ${at.map((r) => r.id).join(', ')} for it`);
      } else if (at.length === 0) {
        problems.push(`refund transaction ${t.id} is ${label(t)} (${t.amount}), but the gateway has no refund for it`);
      }
      continue;
    }
    if (t.record_type !== 'charge' || t.transaction_type !== 'normal') {
      problems.push(`transaction ${t.id} is a ${t.record_type}/${t.transaction_type}: this test makes none`);
      continue;
    }
    const own = pisByTx.get(t.id) ?? [];
    const p = t.gateway_payment_intent === null ? undefined : pis.get(t.gateway_payment_intent);
    if (t.gateway_payment_intent !== null && !p) {
      problems.push(`transaction ${t.id} (${label(t)}) records payment ${t.gateway_payment_intent}, which the gateway does not have`);
      continue;
    }
    if (!p) {
      if (own.length > 0) continue; // reported above (Settle does not record the payment the gateway holds)
      if (label(t) !== 'open' || t.authorized_amount !== 0 || t.captured_amount !== 0 || t.refunded_amount !== 0) {
        problems.push(`transaction ${t.id} has no payment at the gateway, but is ${label(t)} (authorized ${t.authorized_amount}, captured ${t.captured_amount}, refunded ${t.refunded_amount}); expected open`);
      }
      continue;
    }
    const seen = `${p.id} is ${p.status} (amount ${p.amount}, capturable ${p.amount_capturable}, received ${p.amount_received})`;
    const is = `${t.id} is ${label(t)} (amount ${t.amount}, authorized ${t.authorized_amount}, captured ${t.captured_amount}, refunded ${t.refunded_amount})`;
    if (p.amount !== t.amount) problems.push(`${seen} but ${is}: amounts differ`);
    const settleRefunds = emulator.refunds.filter((r) => meta(r) !== undefined && piOf(r) === p.id).reduce((sum, r) => sum + r.amount, 0);
    const refundTxs = refundTxsByCharge.get(t.id) ?? [];
    const completedRefunds = refundTxs.filter((r) => r.status === 'completed' || r.status === 'pending').reduce((s, r) => s - r.amount, 0);
    switch (p.status) {
      case 'requires_capture':
        if (label(t) !== 'completed/authorized' || t.authorized_amount !== p.amount_capturable || t.captured_amount !== 0 || t.refunded_amount !== 0) {
          problems.push(`${seen} but ${is}; expected completed/authorized for ${p.amount_capturable}`);
        }
        break;
      case 'succeeded': {
        const ok =
          t.status === 'completed' &&
          t.payment_status === capturedStatus(t) &&
          t.captured_amount === p.amount_received &&
          t.authorized_amount === p.amount &&
          t.refunded_amount === settleRefunds;
        if (!ok) problems.push(`${seen}, refunds by Settle at the gateway ${settleRefunds}, but ${is}`);
        break;
      }
      case 'canceled':
        if (label(t) !== 'completed/uncaptured' || t.uncaptured_method !== 'manual' || t.captured_amount !== 0 || t.refunded_amount !== 0) {
          problems.push(`${seen} but ${is} (uncaptured_method ${t.uncaptured_method ?? 'none'}); expected completed/uncaptured (manual)`);
        }
        break;
      default:
        problems.push(`${seen}: a status this test's workload (pm_card_visa) never produces; Settle has ${is}`);
    }
    if (t.refunded_amount !== completedRefunds) problems.push(`${is}, but its completed refund transactions add up to ${completedRefunds}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Classifying the attempts a kill left in flight.

export interface InFlightCensus {
  /** Attempts in flight after the kill. */
  inFlight: number;
  /** ... whose request never reached the gateway (the kill landed after tx1, before the call). */
  notSent: number;
  /** ... that the gateway performed (its records show the effect) but Settle never recorded. */
  performed: number;
  /** ... of those, the gateway had answered before the kill (the kill landed between its answer and tx2). */
  answeredBeforeKill: number;
  /** ... whose synchronous answer was lost and recorded as unknown (202) before the kill. */
  recordedUnknown: number;
  ids: string[];
}

/** Whether the emulator's records show the effect of an attempt. */
function performedAtGateway(a: SettleAttempt, settle: SettleSnapshot, emulator: EmulatorSnapshot): boolean {
  const t = settle.transactions.find((x) => x.id === a.transaction_id);
  switch (a.action) {
    case 'authorize':
    case 'charge':
      return emulator.paymentIntents.some((p) => meta(p) === a.transaction_id);
    case 'capture':
    case 'release': {
      const p = emulator.paymentIntents.find((x) => x.id === t?.gateway_payment_intent);
      return p !== undefined && p.status !== 'requires_capture';
    }
    case 'refund':
      return emulator.refunds.some((r) => meta(r) === a.transaction_id);
  }
}

/**
 * `logAfter`: the emulator's request log once it finished what it was doing; `logAtKill`: read just before the kill
 * (an answer in it was written to Settle's socket before the process died).
 */
export function censusOfInFlight(settle: SettleSnapshot, emulator: EmulatorSnapshot, logAfter: EmulatorRequest[], logAtKill: EmulatorRequest[]): InFlightCensus {
  const inFlight = settle.attempts.filter((a) => a.state === 'in_flight');
  const census: InFlightCensus = { inFlight: inFlight.length, notSent: 0, performed: 0, answeredBeforeKill: 0, recordedUnknown: 0, ids: inFlight.map((a) => a.id) };
  for (const a of inFlight) {
    const requests = logAfter.filter((r) => r.idempotencyKey === a.idempotency_key);
    if (requests.length === 0) census.notSent += 1;
    if (a.last_outcome === 'unknown') census.recordedUnknown += 1;
    if (performedAtGateway(a, settle, emulator)) {
      census.performed += 1;
      if (logAtKill.some((r) => r.idempotencyKey === a.idempotency_key && r.status >= 200 && r.status < 300)) census.answeredBeforeKill += 1;
    }
  }
  return census;
}
