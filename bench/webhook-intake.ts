// Benchmark `webhook-intake`: Stripe events accepted per second by POST /v1/webhooks/:gateway_id over a real
// socket (the app listens on 127.0.0.1; keep-alive HTTP clients in this process): the signature checked over the
// raw body with the SDK, the event parsed and stored once (group-committed INSERT ... ON CONFLICT), answered 200.
// One operation is one distinct event, signed beforehand (signing is the sender's work, not Settle's).
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { eventText, signHeader, socketSender, stripeEvent } from '../test/webhooks/intake-helpers.js';
import { BENCH_ADMIN_KEY, DATABASE_LABELS, openBenchApp, type BenchApp } from './databases.js';
import { type Benchmark, type BenchContext, type BenchRow, runLoad, toRow, withCpuProfile } from './harness.js';
import { limitsNote, readGatewayLimits } from './gateway-limits.js';

const BASE_OPERATIONS = 5000;
const CONCURRENCIES = [1, 8] as const;
const DEFAULT_POOL_SIZE = 10;
const SECRET_ENV = 'SETTLE_GATEWAY_BENCH_WEBHOOK_SECRET';

interface Signed {
  body: string;
  header: string;
}

/** `count` distinct events signed now (Settle accepts a signature for 300 seconds). */
function signEvents(runId: string, count: number, secret: string): Signed[] {
  const timestamp = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) => {
    const body = eventText(stripeEvent({ id: `evt_${runId}_${i}` }, { id: `pi_${runId}_${i}`, amount: 1000 + i }));
    return { body, header: signHeader(body, secret, timestamp) };
  });
}

async function createGateway(app: BenchApp): Promise<string> {
  const response = await app.app.inject({
    method: 'POST',
    url: '/v1/gateways',
    headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}`, 'content-type': 'application/json' },
    payload: JSON.stringify({
      name: 'bench webhooks',
      provider: 'stripe',
      settlement_currency: 'usd',
      secret_key_env: 'SETTLE_GATEWAY_BENCH_UNUSED_KEY',
      webhook_secret_env: SECRET_ENV,
    }),
  });
  if (response.statusCode !== 201) throw new Error(`gateway: HTTP ${response.statusCode} ${response.body}`);
  return (JSON.parse(response.body) as { id: string }).id;
}

async function runRow(
  context: BenchContext,
  app: BenchApp,
  concurrency: number,
  operations: number,
): Promise<BenchRow> {
  const secret = `whsec_${randomBytes(16).toString('hex')}`;
  process.env[SECRET_ENV] = secret;
  const gatewayId = await createGateway(app);
  const address = await app.app.listen({ port: 0, host: '127.0.0.1' });
  const sender = socketSender(address, concurrency);
  const path = `/v1/webhooks/${gatewayId}`;
  const runId = `${app.target.replace(/-/g, '')}c${concurrency}${Date.now().toString(36)}`;
  const send = async (events: Signed[], index: number) => {
    const event = events[index] as Signed;
    const response = await sender.send(path, event.body, { 'stripe-signature': event.header });
    if (response.status === 200 && response.body?.duplicate === false) return true as const;
    return `HTTP ${response.status}: ${JSON.stringify(response.body).slice(0, 300)}`;
  };
  try {
    const warmupEvents = signEvents(`${runId}w`, context.warmup, secret);
    const warmup = await runLoad(context.warmup, concurrency, (i) => send(warmupEvents, i));
    const measuredEvents = signEvents(runId, operations, secret);
    const measured = await withCpuProfile(`webhook-intake-${app.target}-c${concurrency}`, () =>
      runLoad(operations, concurrency, (i) => send(measuredEvents, i)),
    );
    const accepted = warmup.operations - warmup.failures + (measured.operations - measured.failures);
    const totals = await sql<{ rows: string | number; deliveries: string | number; pending: string | number }>`
      select count(*) as rows, coalesce(sum(deliveries), 0) as deliveries, count(*) filter (where status = 'pending') as pending
      from webhook_events where gateway_id = ${gatewayId}`.execute(app.db);
    const row = totals.rows[0];
    const notes: string[] = [];
    let otherFailures = warmup.failures;
    if (warmup.failures > 0) notes.push(`${warmup.failures} warm-up failures (first: ${warmup.firstFailure ?? '?'})`);
    const stored = Number(row?.rows ?? -1);
    if (stored === accepted && Number(row?.deliveries) === accepted && Number(row?.pending) === accepted) {
      notes.push(`verified: ${stored} pending events stored once each for ${accepted} accepted (incl. warm-up)`);
    } else {
      otherFailures += 1;
      notes.push(
        `VERIFICATION FAILED: ${accepted} accepted (incl. warm-up) but ${stored} rows, ${String(row?.deliveries)} deliveries, ${String(row?.pending)} pending`,
      );
    }
    // The intake sends no gateway request; the limits of the gateway it stores events for, stated all the same.
    const limits = await readGatewayLimits(app.db, gatewayId);
    notes.push(`${limitsNote(limits)}; no gateway request is made here`);
    return {
      ...toRow(
        { benchmark: 'webhook-intake', database: app.label, concurrency, pool_size: app.poolSize },
        measured,
        notes,
        otherFailures,
      ),
      gateway_limits: limits,
      requests_per_op: 0,
    };
  } finally {
    sender.close();
    delete process.env[SECRET_ENV];
  }
}

export const webhookIntake: Benchmark = {
  name: 'webhook-intake',
  description:
    'POST /v1/webhooks/:gateway_id over a real socket with a signed Stripe event, answered 200 (verified and stored once); one operation is one event.',
  async run(context) {
    const operations = Math.max(1, Math.round(BASE_OPERATIONS * context.scale));
    const rows: BenchRow[] = [];
    for (const target of context.databases) {
      const postgres = 'url' in context.postgres ? context.postgres : undefined;
      if (target === 'postgres' && !postgres) {
        context.log(
          `webhook-intake: ${DATABASE_LABELS.postgres} rows skipped: ${'skipped' in context.postgres ? context.postgres.skipped : ''}`,
        );
        continue;
      }
      for (const concurrency of CONCURRENCIES) {
        context.log(
          `webhook-intake: ${DATABASE_LABELS[target]}, ${concurrency} sender(s), ${context.warmup} warm-up + ${operations} measured events...`,
        );
        const app = await openBenchApp(target, {
          ...(postgres ? { postgres } : {}),
          poolSize: Math.max(concurrency, DEFAULT_POOL_SIZE),
        });
        try {
          rows.push(await runRow(context, app, concurrency, operations));
        } finally {
          await app.close();
        }
      }
    }
    return rows;
  },
};
