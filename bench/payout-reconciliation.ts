// Benchmark `payout-reconciliation` (M2): one automatic payout of 100,000 balance transactions (BENCH_SCALE scales
// the count) reconciled against the emulator on PostgreSQL, the gateway at a global limit of 100 requests/s and the
// per-endpoint limit off. The emulator makes the balance transactions at once (its `POST /_emulator/balance/seed`
// control: `charge` balance transactions whose sources Settle knows), pays them out and lets the payout arrive and
// Stripe's reconciliation complete; Settle holds one charge transaction per balance transaction. Measured: the
// reconcile run (1,000 pages of 100 at scale 1, at most 30 s is the target; the limiter's 92% of 100/s alone makes
// it at least 11 s), and the process's peak RSS and heap during it over what they were before, for a payout of
// 1,000 items and for the full one (the issue: growing by at most 100 MB). The emulator runs in a child process
// (emulator-child.ts), so that the figures are Settle's alone: in the same process, the emulator's 100,000 balance
// transactions and its rendering of each page were counted as well. Verified: reconciled, every item linked, every
// charge's payout_id set, and a second run writing nothing.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../src/app/clock.js';
import { ensureDefaultEmulatorGateway } from '../src/app/gateway-records.js';
import { reconcilePayout } from '../src/app/payouts/reconcile-payout.js';
import { transactionDefaults } from '../src/app/transactions/create-transaction.js';
import { newId } from '../src/app/ids.js';
import { applyPayout } from '../src/app/webhooks/sync-payout.js';
import type { Deps } from '../src/app/deps.js';
import type { GatewayRow } from '../src/store/schema.js';
import { findGateway } from '../src/store/gateway-records-repo.js';
import { createDeps } from '../src/runtime.js';
import { createTestDatabase } from '../test/support/databases.js';
import { DATABASE_LABELS } from './databases.js';
import { limitsNote, readGatewayLimits } from './gateway-limits.js';
import { type Benchmark, type BenchRow, sampleMachineBusy } from './harness.js';

const BASE_ITEMS = 100_000;
const SMALL_ITEMS = 1_000;
const AMOUNT = 1000;
const FEE = 59;
const DAY_MS = 24 * 3600 * 1000;

interface Peak {
  rss: number;
  heap: number;
}

/** Samples the process's memory every 25 ms until stopped; returns the high-water marks over the starting figures. */
function memorySampler(): { stop(): Peak } {
  const start = process.memoryUsage();
  const peak = { rss: start.rss, heap: start.heapUsed };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heap = Math.max(peak.heap, m.heapUsed);
  };
  const timer = setInterval(sample, 25);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { rss: peak.rss - start.rss, heap: peak.heap - start.heapUsed };
    },
  };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

interface EmulatorChild {
  url: string;
  close(): Promise<void>;
}

/** The emulator in its own process, started with this process's loader flags (tsx and its source condition). */
async function startEmulatorChild(): Promise<EmulatorChild> {
  const script = fileURLToPath(new URL('./emulator-child.ts', import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the emulator process exited (${code}) before listening: ${out}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = out.match(/emulator listening on (http:\/\/\S+)/);
      if (m?.[1]) resolve(m[1]);
    });
  });
  return {
    url,
    async close() {
      const exited = once(child, 'exit');
      child.stdin.end();
      await exited;
    },
  };
}

async function control(url: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/_emulator/${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`emulator control ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/**
 * Settle's charge transactions for the seeded balance transactions (sources ch_<prefix>_<i>), 500 per insert: a
 * statement carries at most 65,535 parameters, and a transaction row has some 90 columns.
 */
async function seedCharges(deps: Deps, gateway: GatewayRow, prefix: string, count: number): Promise<void> {
  const now = new Date();
  for (let i = 0; i < count; i += 500) {
    const rows = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
      ...transactionDefaults(newId('transaction', now.getTime()), now),
      record_type: 'charge' as const,
      status: 'completed' as const,
      payment_status: 'captured' as const,
      amount: AMOUNT,
      currency: 'USD',
      authorized_amount: AMOUNT,
      captured_amount: AMOUNT,
      gateway_id: gateway.id,
      gateway_charge: `ch_${prefix}_${i + j}`,
      source: 'sync' as const,
      gateway_fee: FEE,
      net_amount: AMOUNT - FEE,
    }));
    await deps.db.insertInto('transactions').values(rows).execute();
  }
}

interface Measured {
  items: number;
  seconds: number;
  pages: number;
  peak: Peak;
  status: string;
  linked: number;
  again: number;
  requests: number;
}

async function measure(deps: Deps, gateway: GatewayRow, items: number, prefix: string): Promise<Measured> {
  const emulator = await startEmulatorChild();
  try {
    // A new version: the adapter registry builds a new adapter for the new emulator.
    await deps.db
      .updateTable('gateways')
      .set((eb) => ({ api_base: emulator.url, version: eb('version', '+', 1) }))
      .where('id', '=', gateway.id)
      .execute();
    const record = await findGateway(deps.db, gateway.id);
    if (!record) throw new Error('the gateway is gone');
    await control(emulator.url, 'balance/seed', { count: items, amount: AMOUNT, fee: FEE, prefix });
    await seedCharges(deps, record, prefix, items);
    const [made] = (await control(emulator.url, 'payouts/run', {})) as unknown as { id: string }[];
    if (!made) throw new Error('the emulator made no payout');
    // Arrival (2 days), then Stripe's reconciliation completes.
    await control(emulator.url, 'clock/advance', { ms: 2 * DAY_MS + 1000 });
    const adapter = deps.gateways.forRecord(record);
    const read = await adapter.retrievePayout(made.id);
    if (read.kind !== 'succeeded') throw new Error(`payout ${made.id} could not be read`);
    const now = deps.clock.now();
    const ctx = {
      deps,
      gatewayRow: record,
      gateway: adapter,
      actor: 'bench',
      now,
      day: now.toISOString().slice(0, 10),
      eventTypes: new Set<string>(),
    };
    const outcome = await deps.db.transaction().execute((trx) => applyPayout(trx, ctx, read.result));
    const payoutId = outcome.split(':')[0] ?? '';
    const countLogs = async () =>
      Number(
        (
          await deps.db
            .selectFrom('gateway_logs')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const logsBefore = await countLogs();
    global.gc?.();
    const sampler = memorySampler();
    const started = performance.now();
    const report = await reconcilePayout(deps, 'bench', payoutId);
    const seconds = (performance.now() - started) / 1000;
    const peak = sampler.stop();
    const requests = (await countLogs()) - logsBefore;
    const again = await reconcilePayout(deps, 'bench', payoutId);
    return {
      items: report.items,
      seconds,
      pages: report.pages,
      peak,
      status: report.reconciliation_status,
      linked: report.linked,
      again: again.items_written + again.linked,
      requests,
    };
  } finally {
    await emulator.close();
  }
}

export const payoutReconciliation: Benchmark = {
  name: 'payout-reconciliation',
  description: 'one automatic payout of 100,000 balance transactions reconciled against the emulator (100/s)',
  async run(context) {
    const rows: BenchRow[] = [];
    if ('skipped' in context.postgres) {
      context.log(`payout-reconciliation: postgresql skipped: ${context.postgres.skipped}`);
      return rows;
    }
    if (!context.databases.includes('postgres')) return rows;
    process.env.TEST_DATABASE_URL = context.postgres.url;
    const items = Math.max(200, Math.round(BASE_ITEMS * context.scale));
    const testDb = await createTestDatabase('postgres', 10);
    try {
      const deps = createDeps(testDb.database, { clock: systemClock });
      const gateway = await ensureDefaultEmulatorGateway(deps, { apiBase: 'http://127.0.0.1:1' });
      await deps.db
        .updateTable('gateways')
        .set({ rate_limit_per_second: 100, endpoint_rate_limit_per_second: 0 })
        .where('id', '=', gateway.id)
        .execute();
      const limits = await readGatewayLimits(deps.db, gateway.id);
      const busyBefore = await sampleMachineBusy(500);
      context.log(`payout-reconciliation: a payout of ${SMALL_ITEMS} items...`);
      const small = await measure(deps, gateway, SMALL_ITEMS, 'small');
      context.log(`payout-reconciliation: a payout of ${items} items...`);
      const cpuBefore = process.cpuUsage();
      const large = await measure(deps, gateway, items, 'large');
      const cpu = process.cpuUsage(cpuBefore);
      const failures =
        [small, large].filter((m) => m.status !== 'reconciled' || m.again !== 0).length +
        Math.abs(large.items - items) +
        Math.abs(large.linked - items);
      rows.push({
        benchmark: 'payout-reconciliation',
        database: DATABASE_LABELS.postgres,
        concurrency: 1,
        operations: large.items,
        seconds: large.seconds,
        ops_per_second: large.items / large.seconds,
        p50_ms: 0,
        p95_ms: 0,
        p99_ms: 0,
        failures,
        pool_size: 10,
        node_cpu_ms_per_op: (cpu.user + cpu.system) / 1000 / Math.max(1, large.items),
        machine_cpu_busy_percent: null,
        gateway_limits: limits,
        requests_per_op: large.requests / Math.max(1, large.items),
        notes: [
          limitsNote(limits),
          `${large.items} items in ${large.pages} pages (${large.requests} gateway requests) in ${large.seconds.toFixed(1)} s (target: at most 30 s at scale 1); ${small.items} items in ${small.seconds.toFixed(2)} s`,
          `peak memory over the start: ${small.items} items RSS +${mb(small.peak.rss)}, heap +${mb(small.peak.heap)}; ${large.items} items RSS +${mb(large.peak.rss)}, heap +${mb(large.peak.heap)} (Settle's process; the emulator runs in its own)`,
          `verified: ${large.status}, ${large.linked} charges linked, a second run wrote ${large.again} rows; machine ${busyBefore === null ? '?' : Math.round(busyBefore)}% busy before the run`,
        ],
      });
    } finally {
      await testDb.drop();
    }
    return rows;
  },
};
