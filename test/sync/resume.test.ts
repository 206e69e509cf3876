// The backfill (W6) across a crash and under concurrency, on PostgreSQL (two processes share one database):
// - `settle sync` in a child process is killed (SIGKILL) between two committed pages; the run is resumed here from its
//   cursors: every payment and refund is imported exactly once, and the pages already committed are not read again.
// - two starts at the same moment (two runners, and concurrent POSTs): exactly one run starts, the others get 409.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { SyncRunner } from '../../src/app/sync/sync-runs.js';
import { ConflictError } from '../../src/domain/errors.js';
import { describePostgres, type Harness } from '../support/harness.js';
import { emulatorOf, stripeFor } from '../webhooks/store-event.js';
import { ledgerSnapshot, waitForSync } from './sync-helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PAYMENTS = 23;
const REFUNDED = 7;
const PAGE = 5;

async function makePayments(h: Harness): Promise<string[]> {
  const stripe = stripeFor(h);
  const ids: string[] = [];
  for (let i = 0; i < PAYMENTS; i += 1) {
    const pi = await stripe.paymentIntents.create({
      amount: 1000 + i * 10,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    if (i < REFUNDED) await stripe.refunds.create({ payment_intent: pi.id, amount: 300 });
    ids.push(pi.id);
  }
  return ids;
}

/** `settle sync` from the sources (tsx), pausing after `pauseAfter` committed pages (a test-only hook). */
function syncChild(h: Harness, dataDir: string, pauseAfter: number): ChildProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: h.testDb.url,
    STRIPE_API_BASE: emulatorOf(h).url,
    SETTLE_DATA_DIR: dataDir,
    SETTLE_SYNC_TEST_PAUSE_AFTER_PAGES: String(pauseAfter),
  };
  delete env.STRIPE_SECRET_KEY;
  const args = ['--conditions=@settle/source', '--import', 'tsx', 'src/cli/main.ts', 'sync'];
  args.push('--since', '2026-11-01', '--objects', 'payments,refunds', '--page-size', String(PAGE));
  return spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match) resolve(match[0]);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`settle sync exited (${String(code)}) first:\n${out}\n${err}`)));
  });
}

const chargesOf = (h: Harness) =>
  h.deps.db
    .selectFrom('transactions')
    .select(['gateway_payment_intent', 'source'])
    .where('record_type', '=', 'charge')
    .where('transaction_type', '=', 'normal')
    .execute();

describePostgres(
  'backfill across a crash, and started twice at once',
  (harness) => {
    it('killed between two pages, resumed from its cursor: nothing missed, nothing doubled, no page read twice', async () => {
      const h = harness();
      const pis = await makePayments(h);
      const dataDir = mkdtempSync(path.join(tmpdir(), 'settle-sync-'));
      const child = syncChild(h, dataDir, 3);
      try {
        await waitForLine(child, /paused after 3 pages/);
      } finally {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
        rmSync(dataDir, { recursive: true, force: true });
      }
      const row = await h.deps.db.selectFrom('sync_runs').selectAll().executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'running', pages: 3 });
      expect(row.progress.payments).toMatchObject({ read: 3 * PAGE, created: 3 * PAGE, done: false });
      expect(await chargesOf(h)).toHaveLength(3 * PAGE);

      // Its process is gone: take the run over at once (no waiting for its lease) and carry it on.
      const runner = new SyncRunner(h.deps, { pageSize: PAGE });
      expect(await runner.resume(row.id, { force: true })).toBeDefined();
      await runner.finished(row.id);
      const run = await waitForSync(h, row.id);
      expect(run, JSON.stringify(run)).toMatchObject({ status: 'completed', error: null });
      // Each payment read once in all: the committed pages were not read again.
      expect(run.progress.payments).toMatchObject({ done: true, read: PAYMENTS, created: PAYMENTS, updated: 0 });
      expect(run.progress.refunds).toMatchObject({ done: true, read: REFUNDED, created: REFUNDED });
      const charges = await chargesOf(h);
      expect(charges.map((c) => c.gateway_payment_intent).sort()).toEqual([...pis].sort());
      expect(charges.every((c) => c.source === 'sync')).toBe(true);
      const refunds = await h.deps.db
        .selectFrom('transactions')
        .select(['gateway_refund'])
        .where('transaction_type', '=', 'refund')
        .execute();
      expect(new Set(refunds.map((r) => r.gateway_refund)).size).toBe(REFUNDED);
      expect(refunds).toHaveLength(REFUNDED);

      // And a full run afterwards finds nothing to do.
      const before = await ledgerSnapshot(h);
      const again = await h.request('POST', '/v1/sync', { since: '2026-11-01', objects: ['payments', 'refunds'] });
      expect(again.status).toBe(202);
      expect((await waitForSync(h, again.body.id as string)).status).toBe('completed');
      expect(await ledgerSnapshot(h)).toEqual(before);
    });

    it('two runners starting at the same moment: one run starts, the other is refused with 409 sync_already_running', async () => {
      const h = harness();
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      // The first page of whichever run starts waits here, so that it is still running when the other tries.
      const options = { pageSize: PAGE, afterPage: () => gate };
      const [a, b] = [new SyncRunner(h.deps, options), new SyncRunner(h.deps, options)];
      const results = await Promise.allSettled([
        a.start({ since: '2026-11-01', objects: ['payments'] }, 'api', 'test'),
        b.start({ since: '2026-11-01', objects: ['payments'] }, 'api', 'test'),
      ]);
      const started = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r) => r.status === 'rejected');
      expect(started).toHaveLength(1);
      expect(refused).toHaveLength(1);
      const reason: unknown = refused[0]!.reason;
      expect(reason).toBeInstanceOf(ConflictError);
      expect((reason as ConflictError).code).toBe('sync_already_running');
      // Over HTTP as well: every POST meanwhile is a 409.
      const posts = await Promise.all(
        Array.from({ length: 6 }, () => h.request('POST', '/v1/sync', { since: '2026-11-01' })),
      );
      expect(posts.map((p) => p.status)).toEqual([409, 409, 409, 409, 409, 409]);
      release();
      await Promise.all([a.stop(), b.stop()]);
      const runs = await h.deps.db.selectFrom('sync_runs').selectAll().where('status', '=', 'running').execute();
      // Stopped between pages, the run stays running for another process to resume; its lease is given back.
      for (const run of runs) expect(run.lease_until!.getTime()).toBeLessThanOrEqual(h.clock.now().getTime());
      await h.deps.db.updateTable('sync_runs').set({ status: 'canceled' }).where('status', '=', 'running').execute();
    });
  },
  { emulator: true },
);
