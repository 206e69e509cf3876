// Benchmark `gateway-requests-per-action` (W2, G5): how many HTTP requests Settle sends to the gateway per gateway
// action, with webhooks delivered. Settle runs as `settle serve` wires it (the app listening on a port, the webhook
// worker kicked by the intake, the emulator's endpoint registered at start-up), on PGlite in a temporary directory,
// with the emulator in this process; webhook_delay_seconds is 0. Requests are counted at the emulator (its request
// log), every one of them: the actions' and the webhook processing's reads.
//
// Two rows. `lifecycles`: one operation is one API lifecycle, authorize, capture, refund a part (three gateway
// actions). `daily_charges`: 1,000 due charges made through the API before the run (no request), then a daily_charges
// run started as the API starts it, in this process's job runner; one operation is one charge (one action). A
// measured run ends once the work is done and every webhook event it caused is processed (the emulator has nothing
// left to deliver, Settle has nothing pending or failed). The payment method is made before the run. Both rate
// limits are printed; the emulator gateway's are Settle's defaults for it (25/s, per endpoint off).
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEmulator } from '@settle/stripe-emulator';
import { today } from '../src/app/deps.js';
import { ensureDefaultEmulatorGateway } from '../src/app/gateway-records.js';
import { JobRunner } from '../src/jobs/runner.js';
import { setUpWebhookSecret, WebhookSecrets } from '../src/app/webhooks/secrets.js';
import { WebhookWorker } from '../src/app/webhooks/worker.js';
import { EMULATOR_SECRET_KEY } from '../src/gateway-adapters/registry.js';
import { endpointOf } from '../src/gateway-adapters/stripe/rate-limiter.js';
import { stripeWebhookEndpoints } from '../src/gateway-adapters/stripe/webhook-endpoints.js';
import { buildApp } from '../src/http/app.js';
import { openRuntime } from '../src/runtime.js';
import { BENCH_ADMIN_KEY } from './databases.js';
import type { Benchmark, BenchContext, BenchRow } from './harness.js';

const NAME = 'gateway-requests-per-action';
const LIFECYCLES = 50;
/** The target of the issue: at most 1.1 requests per action over the API lifecycles. */
export const LIFECYCLE_TARGET = 1.1;
const DAILY_CHARGES = 1000;
/** The target of the issue: at most 1.05 requests per action in a daily_charges run. */
export const DAILY_TARGET = 1.05;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(context: BenchContext, mode: 'lifecycles' | 'daily_charges'): Promise<BenchRow> {
  const dir = mkdtempSync(path.join(tmpdir(), 'settle-bench-rpa-'));
  const emulator = await startEmulator();
  const runtime = await openRuntime({ dataDir: dir, databaseUrl: undefined, databasePoolSize: 10 });
  const deps = runtime.deps;
  const worker = new WebhookWorker(deps);
  const runner = new JobRunner(deps);
  const secrets = new WebhookSecrets();
  const app = await buildApp({
    deps,
    bootstrapApiKey: BENCH_ADMIN_KEY,
    apiRateLimitPerSecond: 0,
    webhookSecrets: secrets,
    onWebhookStored: () => worker.kick(),
  });
  try {
    const record = await ensureDefaultEmulatorGateway(deps, { apiBase: emulator.url });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const registered = await setUpWebhookSecret({
      record,
      baseUrl: `http://127.0.0.1:${port}`,
      dataDir: dir,
      secrets,
      hosts: deps.gatewayHosts,
      api: () =>
        stripeWebhookEndpoints({
          secretKey: EMULATOR_SECRET_KEY,
          apiBase: emulator.url,
          timeoutMs: 10_000,
          hosts: deps.gatewayHosts,
        }),
      now: deps.clock.now(),
    });
    if (!registered.ok) throw new Error(`webhooks: ${registered.description}`);
    worker.start();
    const api = async (method: string, url: string, payload?: object) => {
      const res = await app.inject({
        method: method as 'POST',
        url,
        headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}` },
        ...(payload ? { payload } : {}),
      });
      return { status: res.statusCode, body: res.json() };
    };
    // A saved card, as scheduled charges use: the account's Stripe Customer and a SetupIntent are made here, before
    // the measured run (their requests are reported with the setup's), and every charge sends that Customer.
    const account = await api('POST', '/v1/accounts', { name: 'Bench Ltd', email: 'bench@example.test' });
    if (account.status !== 201) throw new Error(`account: ${JSON.stringify(account.body)}`);
    const pm = await api('POST', '/v1/payment-methods', {
      gateway_token: 'pm_card_visa',
      type: 'card',
      account_id: account.body.id,
    });
    if (pm.status !== 201 || pm.body.status !== 'valid') throw new Error(`payment method: ${JSON.stringify(pm.body)}`);
    let count: number;
    let actions: number;
    let failures = 0;
    let setupRequests: number;
    let started: number;
    if (mode === 'lifecycles') {
      setupRequests = emulator.controls.requestLog().length;
      count = Math.max(1, Math.round(LIFECYCLES * context.scale));
      actions = count * 3;
      context.log(`${NAME}: ${count} lifecycles (authorize, capture, partial refund), webhooks delivered...`);
      started = performance.now();
      for (let i = 0; i < count; i += 1) {
        const created = await api('POST', '/v1/transactions', {
          amount: 2000 + i,
          currency: 'usd',
          payment_method_id: pm.body.id,
        });
        const id = created.body.id as string;
        const steps = [
          await api('POST', `/v1/transactions/${id}/authorize`),
          await api('POST', `/v1/transactions/${id}/capture`),
          await api('POST', `/v1/transactions/${id}/refund`, { amount: 500 }),
        ];
        if (steps.some((s) => s.status >= 300)) failures += 1;
      }
    } else {
      // Due charges made through the API before the run (no gateway request), then the job started as the API does.
      count = Math.max(1, Math.round(DAILY_CHARGES * context.scale));
      actions = count;
      const day = await today(deps);
      for (let i = 0; i < count; i += 1) {
        const created = await api('POST', '/v1/transactions', {
          amount: 1500 + i,
          currency: 'usd',
          payment_method_id: pm.body.id,
          due_date: day,
          auto_process: true,
        });
        if (created.status !== 201) throw new Error(`due charge: ${JSON.stringify(created.body)}`);
      }
      setupRequests = emulator.controls.requestLog().length;
      context.log(`${NAME}: daily_charges over ${count} due charges, webhooks delivered...`);
      started = performance.now();
      const run = await runner.runNow('daily_charges', 'api', 'bench');
      await runner.finished(run.id);
      const open = await deps.db
        .selectFrom('transactions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '!=', 'completed')
        .where('record_type', '=', 'charge')
        .executeTakeFirstOrThrow();
      failures += Number(open.n);
    }
    // Until the emulator has delivered every event and Settle has processed them all.
    for (let i = 0; i < 600; i += 1) {
      const pending = await deps.db
        .selectFrom('webhook_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', 'in', ['pending', 'failed'])
        .executeTakeFirstOrThrow();
      const undelivered = await emulatorPending(emulator.url);
      if (Number(pending.n) === 0 && undelivered === 0) break;
      await sleep(100);
    }
    const seconds = (performance.now() - started) / 1000;
    // The bench's own look at the emulator's events (GET /v1/events) is not Settle's: Settle never lists events.
    const log = emulator.controls
      .requestLog()
      .slice(setupRequests)
      .filter((e) => !e.path.startsWith('/v1/events'));
    const events = await deps.db
      .selectFrom('webhook_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const perAction = log.length / actions;
    const byEndpoint = new Map<string, number>();
    for (const e of log) {
      const key = endpointOf(e.method, e.path);
      byEndpoint.set(key, (byEndpoint.get(key) ?? 0) + 1);
    }
    const reads = await deps.db
      .selectFrom('webhook_events')
      .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
      .where('read_at', 'is not', null)
      .groupBy('type')
      .execute();
    return {
      benchmark: `${NAME} (${mode})`,
      database: 'PGlite (disk)',
      concurrency: 1,
      operations: count,
      seconds,
      ops_per_second: count / seconds,
      p50_ms: 0,
      p95_ms: 0,
      p99_ms: 0,
      failures: failures + (perAction > (mode === 'lifecycles' ? LIFECYCLE_TARGET : DAILY_TARGET) ? 1 : 0),
      pool_size: null,
      node_cpu_ms_per_op: 0,
      machine_cpu_busy_percent: null,
      gateway_limits: {
        rate_limit_per_second: record.rate_limit_per_second,
        endpoint_rate_limit_per_second: record.endpoint_rate_limit_per_second,
      },
      requests_per_op: perAction,
      notes: [
        `${mode}: ${log.length} gateway requests for ${actions} actions: ${perAction.toFixed(3)} per action (target <= ${mode === 'lifecycles' ? LIFECYCLE_TARGET : DAILY_TARGET})`,
        `${Number(events.n)} webhook events delivered and processed; setup (payment method, due charges): ${setupRequests} requests before the run`,
        `requests by endpoint: ${[...byEndpoint].map(([k, n]) => `${k} ${n}`).join(', ')}`,
        `events applied with a read, by type: ${reads.map((r) => `${r.type} ${Number(r.n)}`).join(', ') || 'none'}`,
        `limits: gateway ${record.rate_limit_per_second}/s, per endpoint ${record.endpoint_rate_limit_per_second === 0 ? 'off' : `${record.endpoint_rate_limit_per_second}/s`}`,
      ],
    };
  } finally {
    await worker.stop();
    await runner.stop();
    await app.close();
    await runtime.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Events the emulator still has to deliver (its events' pending_webhooks), read without counting as Settle's. */
async function emulatorPending(url: string): Promise<number> {
  const res = await fetch(`${url}/v1/events?limit=100`, {
    headers: { authorization: `Bearer ${EMULATOR_SECRET_KEY}` },
  });
  const body = (await res.json()) as { data: { pending_webhooks: number }[] };
  return body.data.reduce((sum, e) => sum + e.pending_webhooks, 0);
}

export const gatewayRequestsPerAction: Benchmark = {
  name: NAME,
  description:
    'gateway requests per action with webhooks delivered: API lifecycles (authorize, capture, partial refund) and a daily_charges run',
  async run(context) {
    return [await measure(context, 'lifecycles'), await measure(context, 'daily_charges')];
  },
};
