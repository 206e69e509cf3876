// Benchmark `charge-lifecycles`: whole charge lifecycles through Settle's HTTP API over a real socket, with the
// Stripe emulator as the default gateway reached over HTTP by the stripe SDK (as `npm start` runs it: in this
// process, on its own port). One operation is one lifecycle of four requests:
//   POST /v1/transactions {amount, currency, payment_method_id}    201, open
//   POST /v1/transactions/{id}/authorize                           200, completed/authorized   (gateway: PI create+confirm)
//   POST /v1/transactions/{id}/capture                             200, completed/captured     (gateway: PI capture)
//   POST /v1/transactions/{id}/refund {amount: part}               201, the refund, completed/refunded (gateway: refund)
// and the charge ends completed/partially_refunded, retaining amount - part.
//
// Settle's own overhead per gateway action (1 caller) = the mean wall time of the action through the API minus the
// mean round trip of its gateway request, read from the gateway log (gateway_logs.latency_ms: the adapter's own
// measure of the HTTP exchange, whole milliseconds) and, to the microsecond, from Node's http diagnostics channels
// (request start to the last byte of the answer) for the same requests.
//
// The emulator gateway is created with the test-mode request-rate limit (25/s: Stripe's own limit in test mode),
// which would cap a run at about 8 lifecycles per second; the bench raises it through PATCH /v1/gateways/{id} to
// the maximum, so that the figures are Settle's and the emulator's, not the limiter's.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import Stripe from 'stripe';
import { systemClock } from '../src/app/clock.js';
import { limitsNote, readGatewayLimits } from './gateway-limits.js';
import type { GatewayLimits } from './harness.js';
import { ensureDefaultEmulatorGateway, RATE_LIMIT_MAX } from '../src/app/gateway-records.js';
import { type Emulator, startEmulator } from '@settle/stripe-emulator';
import { type GatewayOperation, operationContext } from '../src/gateway-adapters/stripe/exchange.js';
import { BENCH_ADMIN_KEY, DATABASE_LABELS, openBenchApp, type BenchApp } from './databases.js';
import {
  type Benchmark,
  type BenchContext,
  type BenchRow,
  type OperationResult,
  runLoad,
  toRow,
  withCpuProfile,
} from './harness.js';

const NAME = 'charge-lifecycles';
const BASE_OPERATIONS = 1000;
const CONCURRENCIES = [1, 8] as const;
/** The production default DATABASE_POOL_SIZE; never below the number of callers. */
const DEFAULT_POOL_SIZE = 10;
/** The target of the processing issue: Settle's own time per gateway action, at 1 caller. */
export const OVERHEAD_TARGET_MS = 5;

/** Per charge: created, authorize started + succeeded, capture started + succeeded, refund applied. */
const CHARGE_HISTORY_ROWS = 6;
/** Per refund: created, refund started, refund succeeded. */
const REFUND_HISTORY_ROWS = 3;

export const GATEWAY_ACTIONS = ['authorize', 'capture', 'refund'] as const;
type GatewayAction = (typeof GATEWAY_ACTIONS)[number];
type Step = 'create' | GatewayAction;

/** The gateway log's interaction_type of each action's request (gateway-adapters/stripe/exchange-log.ts). */
export const INTERACTION: Record<GatewayAction, string> = {
  authorize: 'authorization',
  capture: 'capture',
  refund: 'referenced_refund',
};

const AUTH = { authorization: `Bearer ${BENCH_ADMIN_KEY}` };
const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' };

/** The charge's amount and the part refunded, per lifecycle number. */
export function lifecycleAmounts(index: number): { amount: number; refund: number } {
  const amount = 1000 + ((index * 7919) % 99_000);
  return { amount, refund: 1 + ((index * 104_729) % Math.floor(amount / 2)) };
}

interface ApiAnswer {
  status: number;
  body: any;
}

/** Keep-alive connections to the API, as a client that sends many requests holds them (one per caller). */
const agent = new http.Agent({ keepAlive: true });

/**
 * One request through the socket with node:http (lighter than fetch, so that less of the client's own work lands
 * in the figures: the client runs on the server's thread); the answer read and parsed (part of the measured time).
 */
export function request(base: URL, method: 'POST' | 'PATCH', path: string, body?: unknown): Promise<ApiAnswer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string | number> =
    payload === undefined ? { ...AUTH } : { ...JSON_HEADERS, 'content-length': Buffer.byteLength(payload) };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // kept as text for the failure message
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function unexpected(step: Step, answer: ApiAnswer, wanted: string): string {
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  return `${step}: wanted ${wanted}, got HTTP ${answer.status}: ${text.slice(0, 300)}`;
}

const state = (body: any): string => `${String(body?.status)}/${String(body?.payment_status)}`;

/** Wall time of each step of each lifecycle (ms), by lifecycle number within the phase. */
type StepTimes = Record<Step, Float64Array>;

function stepTimes(count: number): StepTimes {
  return {
    create: new Float64Array(count),
    authorize: new Float64Array(count),
    capture: new Float64Array(count),
    refund: new Float64Array(count),
  };
}

export interface Phase {
  /** Lifecycle numbers start here (warm-up first, then the measured ones). */
  first: number;
  times: StepTimes;
  /** Charge and refund ids of the lifecycles that completed, by lifecycle number within the phase. */
  charges: (string | undefined)[];
  refunds: (string | undefined)[];
}

export function newPhase(first: number, count: number): Phase {
  return {
    first,
    times: stepTimes(count),
    charges: new Array<string | undefined>(count),
    refunds: new Array<string | undefined>(count),
  };
}

export async function lifecycle(
  base: URL,
  paymentMethodId: string,
  phase: Phase,
  local: number,
): Promise<OperationResult> {
  const index = phase.first + local;
  const { amount, refund } = lifecycleAmounts(index);
  const timed = async (step: Step, path: string, body?: unknown): Promise<ApiAnswer> => {
    const started = performance.now();
    const answer = await request(base, 'POST', path, body);
    phase.times[step][local] = performance.now() - started;
    return answer;
  };
  const created = await timed('create', '/v1/transactions', {
    amount,
    currency: 'usd',
    payment_method_id: paymentMethodId,
    description: `Order ORD-${100_000 + index}`,
    metadata: { order_id: `ord_${100_000 + index}` },
  });
  if (created.status !== 201 || created.body?.status !== 'open') return unexpected('create', created, '201 open');
  const id = String(created.body.id);
  const authorized = await timed('authorize', `/v1/transactions/${id}/authorize`);
  if (authorized.status !== 200 || state(authorized.body) !== 'completed/authorized')
    return unexpected('authorize', authorized, '200 completed/authorized');
  const captured = await timed('capture', `/v1/transactions/${id}/capture`);
  if (
    captured.status !== 200 ||
    state(captured.body) !== 'completed/captured' ||
    captured.body.captured_amount !== amount
  ) {
    return unexpected('capture', captured, `200 completed/captured of ${amount}`);
  }
  const refunded = await timed('refund', `/v1/transactions/${id}/refund`, { amount: refund });
  if (
    refunded.status !== 201 ||
    state(refunded.body) !== 'completed/refunded' ||
    refunded.body.amount !== -refund ||
    refunded.body.original_transaction_id !== id
  ) {
    return unexpected('refund', refunded, `201 completed/refunded of -${refund} for ${id}`);
  }
  phase.charges[local] = id;
  phase.refunds[local] = String(refunded.body.id);
  return true;
}

/**
 * Gateway round trips to the microsecond, from Node's http diagnostics channels: from the moment the SDK's request
 * is created to the last byte of the answer, for requests made inside an adapter port call (exchange.ts's
 * AsyncLocalStorage names the operation). The bench's own API requests run outside any port call and are not counted.
 */
class RoundTripRecorder {
  readonly #starts = new WeakMap<ClientRequest, { operation: GatewayOperation; started: number }>();
  readonly totals = new Map<GatewayOperation, { count: number; ms: number }>();

  readonly #onStart = (message: unknown): void => {
    const context = operationContext.getStore();
    if (!context) return;
    const { request } = message as { request: ClientRequest };
    this.#starts.set(request, { operation: context.operation, started: performance.now() });
  };

  readonly #onResponse = (message: unknown): void => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    const start = this.#starts.get(request);
    if (!start) return;
    response.once('end', () => {
      const total = this.totals.get(start.operation) ?? { count: 0, ms: 0 };
      total.count += 1;
      total.ms += performance.now() - start.started;
      this.totals.set(start.operation, total);
    });
  };

  start(): void {
    subscribe('http.client.request.start', this.#onStart);
    subscribe('http.client.response.finish', this.#onResponse);
  }

  stop(): void {
    unsubscribe('http.client.request.start', this.#onStart);
    unsubscribe('http.client.response.finish', this.#onResponse);
  }

  mean(operation: GatewayOperation): { count: number; meanMs: number } {
    const total = this.totals.get(operation);
    return total ? { count: total.count, meanMs: total.ms / total.count } : { count: 0, meanMs: Number.NaN };
  }
}

export const done = <T>(values: (T | undefined)[]): T[] => values.filter((v): v is T => v !== undefined);

export function mean(values: Float64Array, keep: (string | undefined)[]): number {
  let sum = 0;
  let count = 0;
  values.forEach((value, i) => {
    if (keep[i] === undefined) return;
    sum += value;
    count += 1;
  });
  return count === 0 ? Number.NaN : sum / count;
}

type Count = string | number;

/** Mean gateway_logs.latency_ms per interaction type over the given transactions. */
export async function logLatencies(
  app: Pick<BenchApp, 'db'>,
  ids: string[],
): Promise<Map<string, { count: number; meanMs: number }>> {
  const out = new Map<string, { count: number; total: number }>();
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    const rows = await app.db
      .selectFrom('gateway_logs')
      .select((eb) => ['interaction_type', eb.fn.countAll<Count>().as('n'), eb.fn.sum<Count>('latency_ms').as('total')])
      .where('transaction_id', 'in', chunk)
      .groupBy('interaction_type')
      .execute();
    for (const row of rows) {
      const sum = out.get(row.interaction_type) ?? { count: 0, total: 0 };
      sum.count += Number(row.n);
      sum.total += Number(row.total);
      out.set(row.interaction_type, sum);
    }
  }
  return new Map([...out].map(([type, { count, total }]) => [type, { count, meanMs: total / count }]));
}

interface Verification {
  ok: boolean;
  note: string;
}

/** Every lifecycle, warm-up included: the charge's end state and amounts, history, attempts, logs, and the emulator. */
export async function verify(
  app: Pick<BenchApp, 'db'>,
  emulator: Pick<Emulator, 'port'>,
  phases: Phase[],
): Promise<Verification> {
  const expected = new Map<string, { amount: number; refund: number }>();
  for (const phase of phases) {
    phase.charges.forEach((id, local) => {
      if (id !== undefined) expected.set(id, lifecycleAmounts(phase.first + local));
    });
  }
  const lifecycles = expected.size;
  const problems: string[] = [];

  const charges = await app.db
    .selectFrom('transactions')
    .select(['id', 'status', 'payment_status', 'amount', 'authorized_amount', 'captured_amount', 'refunded_amount'])
    .where('transaction_type', '=', 'normal')
    .execute();
  let chargesRight = 0;
  for (const row of charges) {
    const want = expected.get(row.id);
    const retained = row.captured_amount - row.refunded_amount;
    if (
      want &&
      row.status === 'completed' &&
      row.payment_status === 'partially_refunded' &&
      row.amount === want.amount &&
      row.authorized_amount === want.amount &&
      row.captured_amount === want.amount &&
      retained === want.amount - want.refund
    ) {
      chargesRight += 1;
    }
  }
  if (charges.length !== lifecycles || chargesRight !== lifecycles) {
    problems.push(
      `${chargesRight} of ${charges.length} charges completed/partially_refunded with the right retained_amount, for ${lifecycles} lifecycles`,
    );
  }

  const counts = await sql<{
    refunds: Count;
    refunds_right: Count;
    charges_wrong_history: Count;
    refunds_wrong_history: Count;
    history: Count;
    attempts: Count;
    attempts_succeeded: Count;
    lifecycles_with_three: Count;
    logs: Count;
    logs_success: Count;
  }>`
    select
      (select count(*) from transactions where transaction_type = 'refund') as refunds,
      (select count(*) from transactions r join transactions c on c.id = r.original_transaction_id
        where r.transaction_type = 'refund' and r.status = 'completed' and r.payment_status = 'refunded'
          and r.amount = -c.refunded_amount
      ) as refunds_right,
      (select count(*) from transactions t where t.transaction_type = 'normal'
        and (select count(*) from transaction_history h where h.transaction_id = t.id) <> ${CHARGE_HISTORY_ROWS}) as charges_wrong_history,
      (select count(*) from transactions t where t.transaction_type = 'refund'
        and (select count(*) from transaction_history h where h.transaction_id = t.id) <> ${REFUND_HISTORY_ROWS}) as refunds_wrong_history,
      (select count(*) from transaction_history) as history,
      (select count(*) from gateway_attempts) as attempts,
      (select count(*) from gateway_attempts where state = 'succeeded') as attempts_succeeded,
      (select count(*) from (
        select coalesce(charge_transaction_id, transaction_id) as charge,
               count(*) filter (where state = 'succeeded' and action = 'authorize') as a,
               count(*) filter (where state = 'succeeded' and action = 'capture') as c,
               count(*) filter (where state = 'succeeded' and action = 'refund') as r,
               count(*) as n
        from gateway_attempts group by 1
      ) per where a = 1 and c = 1 and r = 1 and n = 3) as lifecycles_with_three,
      (select count(*) from gateway_logs) as logs,
      (select count(*) from gateway_logs where result_code = 'success') as logs_success
  `.execute(app.db);
  const c = counts.rows[0];
  if (!c) throw new Error('count query returned no row');
  const n = (value: Count): number => Number(value);
  const wantHistory = lifecycles * (CHARGE_HISTORY_ROWS + REFUND_HISTORY_ROWS);
  if (n(c.refunds) !== lifecycles || n(c.refunds_right) !== lifecycles) {
    problems.push(
      `${n(c.refunds_right)} of ${n(c.refunds)} refunds completed/refunded for their charge's refunded amount`,
    );
  }
  if (n(c.charges_wrong_history) !== 0 || n(c.refunds_wrong_history) !== 0 || n(c.history) !== wantHistory) {
    problems.push(
      `history: ${n(c.history)} rows (want ${wantHistory}); ${n(c.charges_wrong_history)} charges without exactly ${CHARGE_HISTORY_ROWS}, ` +
        `${n(c.refunds_wrong_history)} refunds without exactly ${REFUND_HISTORY_ROWS}`,
    );
  }
  if (
    n(c.attempts) !== 3 * lifecycles ||
    n(c.attempts_succeeded) !== 3 * lifecycles ||
    n(c.lifecycles_with_three) !== lifecycles
  ) {
    problems.push(
      `gateway_attempts: ${n(c.attempts)} rows, ${n(c.attempts_succeeded)} succeeded, ${n(c.lifecycles_with_three)} lifecycles with exactly ` +
        `authorize+capture+refund succeeded (want ${3 * lifecycles}, ${3 * lifecycles}, ${lifecycles})`,
    );
  }
  if (n(c.logs) !== 3 * lifecycles || n(c.logs_success) !== 3 * lifecycles) {
    problems.push(`gateway_logs: ${n(c.logs)} rows, ${n(c.logs_success)} success (want ${3 * lifecycles})`);
  }

  // The emulator's side: one PaymentIntent per lifecycle, captured in full, and one refund of the part.
  const stripe = new Stripe('sk_test_bench', {
    host: '127.0.0.1',
    port: emulator.port,
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  const intents = new Map<string, number>();
  let intentsRight = 0;
  for await (const pi of stripe.paymentIntents.list({ limit: 100 })) {
    const trx = pi.metadata.settle_transaction_id;
    const want = trx === undefined ? undefined : expected.get(trx);
    intents.set(pi.id, pi.amount);
    if (want && pi.status === 'succeeded' && pi.amount_received === want.amount) intentsRight += 1;
  }
  let refundsAtGateway = 0;
  for await (const refund of stripe.refunds.list({ limit: 100 })) {
    const pi = typeof refund.payment_intent === 'string' ? refund.payment_intent : refund.payment_intent?.id;
    if (refund.status === 'succeeded' && pi !== undefined && intents.has(pi)) refundsAtGateway += 1;
  }
  if (intents.size !== lifecycles || intentsRight !== lifecycles || refundsAtGateway !== lifecycles) {
    problems.push(
      `emulator: ${intents.size} PaymentIntents (${intentsRight} succeeded for their charge's amount), ${refundsAtGateway} succeeded refunds, for ${lifecycles} lifecycles`,
    );
  }

  if (problems.length > 0) return { ok: false, note: `VERIFICATION FAILED: ${problems.join('; ')}` };
  return {
    ok: true,
    note:
      `verified: ${lifecycles} lifecycles (incl. warm-up): every charge completed/partially_refunded with the right retained_amount, ` +
      `${n(c.history)} history rows (${CHARGE_HISTORY_ROWS} per charge, ${REFUND_HISTORY_ROWS} per refund), ${n(c.attempts_succeeded)} gateway attempts succeeded ` +
      `(3 per lifecycle), ${n(c.logs)} gateway log rows; the emulator holds ${intents.size} PaymentIntents and ${refundsAtGateway} refunds`,
  };
}

const ms = (value: number): string => value.toFixed(2);

/** The 1-caller row's overhead notes: per action, API wall time minus the gateway round trip. */
async function overheadNotes(app: BenchApp, phase: Phase, recorder: RoundTripRecorder): Promise<string[]> {
  const ids = [...done(phase.charges), ...done(phase.refunds)];
  const logs = await logLatencies(app, ids);
  const notes: string[] = [];
  const create = mean(phase.times.create, phase.charges);
  notes.push(`create (no gateway call): API ${ms(create)} ms mean`);
  let worst = 0;
  for (const action of GATEWAY_ACTIONS) {
    const api = mean(phase.times[action], phase.charges);
    const log = logs.get(INTERACTION[action]) ?? { count: 0, meanMs: Number.NaN };
    const socket = recorder.mean(action);
    const overhead = api - log.meanMs;
    worst = Math.max(worst, overhead);
    notes.push(
      `${action}: API ${ms(api)} ms mean; gateway round trip ${ms(log.meanMs)} ms (gateway_logs.latency_ms, ${log.count} requests), ` +
        `${ms(socket.meanMs)} ms (socket, ${socket.count} requests); Settle overhead ${ms(overhead)} ms (${ms(api - socket.meanMs)} against the socket figure)`,
    );
  }
  notes.push(
    `Settle overhead per gateway action: at most ${ms(worst)} ms; target <= ${OVERHEAD_TARGET_MS} ms: ${worst <= OVERHEAD_TARGET_MS ? 'met' : 'MISSED'}`,
  );
  return notes;
}

interface Running {
  app: BenchApp;
  emulator: Emulator;
  base: URL;
  paymentMethodId: string;
  notes: string[];
  limits: GatewayLimits;
}

/** The app listening on a socket, the emulator as its default gateway, and a card to charge. */
async function setUp(app: BenchApp): Promise<Running> {
  const emulator = await startEmulator({ port: 0 });
  try {
    const gateway = await ensureDefaultEmulatorGateway({ db: app.db, clock: systemClock }, { apiBase: emulator.url });
    await app.app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.app.server.address() as AddressInfo;
    const base = new URL(`http://127.0.0.1:${address.port}`);
    const patch = await request(base, 'PATCH', `/v1/gateways/${gateway.id}`, { rate_limit_per_second: RATE_LIMIT_MAX });
    if (patch.status !== 200)
      throw new Error(`PATCH /v1/gateways/${gateway.id}: HTTP ${patch.status}: ${JSON.stringify(patch.body)}`);
    const limits = await readGatewayLimits(app.db, gateway.id);
    const pm = await request(base, 'POST', '/v1/payment-methods', {
      gateway_token: 'pm_card_visa',
      type: 'card',
      exp_month: 12,
      exp_year: 2030,
    });
    if (pm.status !== 201) throw new Error(`POST /v1/payment-methods: HTTP ${pm.status}: ${JSON.stringify(pm.body)}`);
    return {
      limits,
      app,
      emulator,
      base,
      paymentMethodId: String(pm.body.id),
      notes: [
        `emulator gateway ${gateway.id} at ${emulator.url}, rate_limit_per_second raised from ${gateway.rate_limit_per_second} to ${RATE_LIMIT_MAX}`,
        limitsNote(limits),
      ],
    };
  } catch (error) {
    await emulator.close();
    throw error;
  }
}

async function runRow(
  context: BenchContext,
  running: Running,
  concurrency: number,
  operations: number,
): Promise<BenchRow> {
  const { app, emulator, base, paymentMethodId } = running;
  const warmupPhase = newPhase(0, context.warmup);
  const warmup = await runLoad(context.warmup, concurrency, (i) => lifecycle(base, paymentMethodId, warmupPhase, i));
  const measuredPhase = newPhase(context.warmup, operations);
  const recorder = new RoundTripRecorder();
  if (concurrency === 1) recorder.start();
  let measured;
  try {
    measured = await withCpuProfile(`${NAME}-${app.target}-c${concurrency}`, () =>
      runLoad(operations, concurrency, (i) => lifecycle(base, paymentMethodId, measuredPhase, i)),
    );
  } finally {
    recorder.stop();
  }
  const notes = [...running.notes];
  let otherFailures = 0;
  if (warmup.failures > 0) {
    otherFailures += warmup.failures;
    notes.push(`${warmup.failures} warm-up failures (first: ${warmup.firstFailure ?? '?'})`);
  }
  if (concurrency === 1) notes.push(...(await overheadNotes(app, measuredPhase, recorder)));
  const verification = await verify(app, emulator, [warmupPhase, measuredPhase]);
  if (!verification.ok) otherFailures += 1;
  notes.push(verification.note);
  return {
    ...toRow(
      { benchmark: NAME, database: app.label, concurrency, pool_size: app.poolSize },
      measured,
      notes,
      otherFailures,
    ),
    gateway_limits: running.limits,
  };
}

export const chargeLifecycles: Benchmark = {
  name: NAME,
  description:
    'One charge lifecycle over HTTP (create, authorize, capture, partial refund) with the in-process Stripe emulator as the default gateway; reports Settle overhead per gateway action at 1 caller.',
  async run(context) {
    const operations = Math.max(1, Math.round(BASE_OPERATIONS * context.scale));
    const rows: BenchRow[] = [];
    for (const target of context.databases) {
      const postgres = 'url' in context.postgres ? context.postgres : undefined;
      if (target === 'postgres' && !postgres) {
        context.log(
          `${NAME}: ${DATABASE_LABELS.postgres} rows skipped: ${'skipped' in context.postgres ? context.postgres.skipped : ''}`,
        );
        continue;
      }
      for (const concurrency of CONCURRENCIES) {
        const poolSize = Math.max(concurrency, DEFAULT_POOL_SIZE);
        context.log(
          `${NAME}: ${DATABASE_LABELS[target]}, ${concurrency} caller(s), ${context.warmup} warm-up + ${operations} measured lifecycles...`,
        );
        const app = await openBenchApp(target, { ...(postgres ? { postgres } : {}), poolSize });
        try {
          const running = await setUp(app);
          try {
            rows.push(await runRow(context, running, concurrency, operations));
          } finally {
            await running.emulator.close();
          }
        } finally {
          await app.close();
        }
      }
    }
    return rows;
  },
};
