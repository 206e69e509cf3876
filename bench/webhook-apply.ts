// Benchmark `webhook-apply`: stored webhook events applied per second by the processor (W2), on PostgreSQL (and
// PGlite as BENCH_DATABASES allows). Payments are made at the emulator by "another system" (no Settle metadata),
// and three events per payment are stored as the intake stores them (payment_intent.created,
// payment_intent.succeeded, charge.succeeded). The measured phase runs `processors` processors side by side
// until every event is applied; each group of events about one payment costs one read of the payment from the
// emulator over HTTP and one database transaction. Verified afterwards: every event processed, exactly one external
// charge per payment, amounts equal to the emulator's.
import { performance } from 'node:perf_hooks';
import Stripe from 'stripe';
import { systemClock } from '../src/app/clock.js';
import { limitsNote, readGatewayLimits } from './gateway-limits.js';
import { ensureDefaultEmulatorGateway, RATE_LIMIT_MAX } from '../src/app/gateway-records.js';
import { newId } from '../src/app/ids.js';
import { processWebhookEvents } from '../src/app/webhooks/processor.js';
import { startEmulator } from '@settle/stripe-emulator';
import { createDeps } from '../src/runtime.js';
import { createTestDatabase } from '../test/support/databases.js';
import { DATABASE_LABELS } from './databases.js';
import { type Benchmark, type BenchRow, sampleMachineBusy } from './harness.js';

const BASE_PAYMENTS = 1000;
const PROCESSORS = [1, 4] as const;
const EVENTS_PER_PAYMENT = 3;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export const webhookApply: Benchmark = {
  name: 'webhook-apply',
  description:
    'stored webhook events applied per second (3 events per external payment; the payment read again from the emulator)',
  async run(context) {
    const rows: BenchRow[] = [];
    const payments = Math.max(10, Math.round(BASE_PAYMENTS * context.scale));
    for (const target of context.databases) {
      if (target === 'pglite-disk') continue; // the in-memory PGlite row shows PGlite's figure
      if (target === 'postgres' && 'skipped' in context.postgres) {
        context.log(`webhook-apply: postgresql skipped: ${context.postgres.skipped}`);
        continue;
      }
      if (target === 'postgres') process.env.TEST_DATABASE_URL = (context.postgres as { url: string }).url;
      for (const processors of PROCESSORS) {
        const testDb = await createTestDatabase(target === 'postgres' ? 'postgres' : 'pglite', 10);
        const emulator = await startEmulator({ port: 0, tickMs: 0 });
        try {
          const deps = createDeps(testDb.database, { clock: systemClock });
          const gateway = await ensureDefaultEmulatorGateway(deps, { apiBase: emulator.url });
          await deps.db
            .updateTable('gateways')
            .set({ rate_limit_per_second: RATE_LIMIT_MAX })
            .where('id', '=', gateway.id)
            .execute();
          const stripe = new Stripe('sk_test_bench', {
            host: '127.0.0.1',
            port: emulator.port,
            protocol: 'http',
            maxNetworkRetries: 0,
          });
          context.log(
            `webhook-apply: ${DATABASE_LABELS[target]}, ${processors} processor(s), ${payments} payments x ${EVENTS_PER_PAYMENT} events...`,
          );
          const expected = new Map<string, number>();
          for (let i = 0; i < payments; i += 50) {
            const batch = await Promise.all(
              Array.from({ length: Math.min(50, payments - i) }, (_, j) =>
                stripe.paymentIntents.create({
                  amount: 1000 + (((i + j) * 7919) % 90_000),
                  currency: 'usd',
                  payment_method: 'pm_card_visa',
                  confirm: true,
                  automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
                  capture_method: 'automatic',
                }),
              ),
            );
            const now = new Date();
            const values = batch.flatMap((pi) => {
              expected.set(pi.id, pi.amount);
              return (['payment_intent.created', 'payment_intent.succeeded', 'charge.succeeded'] as const).map(
                (type, k) => {
                  const object =
                    type === 'charge.succeeded'
                      ? { id: pi.latest_charge as string, object: 'charge', payment_intent: pi.id }
                      : { id: pi.id, object: 'payment_intent' };
                  const eventId = `evt_bench_${pi.id}_${k}`;
                  return {
                    id: newId('webhook_event', now.getTime()),
                    gateway_id: gateway.id,
                    event_id: eventId,
                    type,
                    object_type: object.object,
                    object_id: object.id,
                    api_version: '2026-10-28.endive',
                    livemode: false,
                    event_created_at: new Date(pi.created * 1000 + k),
                    payload: JSON.stringify({
                      id: eventId,
                      object: 'event',
                      type,
                      created: pi.created,
                      livemode: false,
                      data: { object },
                    }),
                    status: 'pending' as const,
                    received_at: now,
                    last_received_at: now,
                    process_after: now,
                    updated_at: now,
                  };
                },
              );
            });
            await deps.db.insertInto('webhook_events').values(values).execute();
          }
          const events = payments * EVENTS_PER_PAYMENT;
          const busyBefore = await sampleMachineBusy(500);
          const batchMs: number[] = [];
          const cpuBefore = process.cpuUsage();
          const started = performance.now();
          const processor = async () => {
            for (;;) {
              const t0 = performance.now();
              const summary = await processWebhookEvents(deps, { limit: 100 });
              if (summary.picked === 0) return;
              batchMs.push((performance.now() - t0) / summary.picked);
            }
          };
          await Promise.all(Array.from({ length: processors }, processor));
          const seconds = (performance.now() - started) / 1000;
          const cpu = process.cpuUsage(cpuBefore);
          const statuses = await deps.db.selectFrom('webhook_events').select(['status']).execute();
          const charges = await deps.db
            .selectFrom('transactions')
            .select(['gateway_payment_intent', 'amount'])
            .where('processing_mode', '=', 'external')
            .execute();
          const limits = await readGatewayLimits(deps.db, gateway.id);
          const notes: string[] = [limitsNote(limits)];
          let failures = statuses.filter((s) => s.status !== 'processed').length;
          const wrong = charges.filter((c) => expected.get(c.gateway_payment_intent ?? '') !== c.amount).length;
          failures += wrong + Math.abs(charges.length - payments);
          notes.push(
            `verified: ${statuses.length - statuses.filter((s) => s.status !== 'processed').length}/${events} events processed, ${charges.length} external charges for ${payments} payments, ${wrong} with a wrong amount; machine ${busyBefore === null ? '?' : Math.round(busyBefore)}% busy before the run`,
          );
          const sorted = [...batchMs].sort((a, b) => a - b);
          rows.push({
            benchmark: 'webhook-apply',
            database: DATABASE_LABELS[target],
            concurrency: processors,
            operations: events,
            seconds,
            ops_per_second: events / seconds,
            p50_ms: percentile(sorted, 50),
            p95_ms: percentile(sorted, 95),
            p99_ms: percentile(sorted, 99),
            failures,
            pool_size: target === 'postgres' ? 10 : null,
            node_cpu_ms_per_op: (cpu.user + cpu.system) / 1000 / events,
            machine_cpu_busy_percent: null,
            notes,
            gateway_limits: limits,
          });
        } finally {
          await emulator.close();
          await testDb.drop();
        }
      }
    }
    return rows;
  },
};
