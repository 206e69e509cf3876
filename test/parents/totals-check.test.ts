// The auditor's check (issue 19 item 6): the totals_check job (POST /v1/jobs/totals_check/run) and `settle check`
// recompute every total from the transactions in one REPEATABLE READ read-only snapshot. They find nothing after
// ordinary writes (concurrent ones included), and name each difference after a deliberate corruption of `totals`;
// the CLI exits 1 then. On the embedded database the CLI runs on a data directory no server holds, and refuses, saying
// what to do instead, when one does.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTotals } from '../../src/app/totals-check.js';
import { openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { inReadOnlySnapshot } from '../../src/store/read-snapshot.js';
import { runJob } from '../jobs/support.js';
import { describeEachDatabase, describePostgres, type Harness } from '../support/harness.js';
import { created, expectStatus, nonGatewayPayment } from './support.js';

const AGREE = /^totals agree: \d+ owners, \d+ invoices, \d+ allocations, \d+ order payment summaries checked$/;

/** Adds `delta` to one stored total, behind the triggers' back (what a lost or doubled delta would leave). */
async function corrupt(h: Harness, ownerId: string, delta: number): Promise<void> {
  await sql`update totals set captured_amount = captured_amount + ${delta}
    where owner_id = ${ownerId} and currency = 'USD'`.execute(h.deps.db);
}

describeEachDatabase('totals_check job', (get) => {
  it('finds nothing after ordinary writes, names a corrupted total, and agrees again once it is put back', async () => {
    const h = get();
    const account = await created(h, '/v1/accounts', { name: 'Audited' });
    const parent = await created(h, '/v1/parents', { type: 'audited', account_id: account.id });
    await nonGatewayPayment(h, { amount: 1000, parent_id: parent.id, account_id: account.id });
    await created(h, '/v1/transactions', {
      amount: 300,
      currency: 'EUR',
      parent_id: parent.id,
      due_date: '2026-12-01',
    });

    const clean = await runJob(h, 'totals_check');
    expect(clean).toMatchObject({ job: 'totals_check', status: 'succeeded', failed: 0, error_count: 0, errors: [] });
    expect(clean.summary).toMatch(AGREE);
    expect(clean.picked).toBeGreaterThanOrEqual(2);
    expect(clean.succeeded).toBe(clean.picked);

    await corrupt(h, parent.id, 1);
    try {
      const flagged = await runJob(h, 'totals_check');
      expect(flagged).toMatchObject({ status: 'succeeded', failed: 1, error_count: 1 });
      expect(flagged.errors).toEqual([
        {
          transaction_id: null,
          code: 'totals_difference',
          message: `totals ${parent.id} USD captured_amount: stored 1001, expected 1000`,
        },
      ]);
      expect(flagged.summary).toMatch(/^totals differ: 1 difference\(s\) in 1 record\(s\); \d+ owners/);
      // The same through the app function: the account's entry is untouched.
      const report = await checkTotals(h.deps.db);
      expect(report.differences).toEqual([
        { table: 'totals', id: parent.id, currency: 'USD', field: 'captured_amount', stored: 1001, expected: 1000 },
      ]);
    } finally {
      await corrupt(h, parent.id, -1);
    }
    expect((await runJob(h, 'totals_check')).summary).toMatch(AGREE);
    // The run is listed in the history like any other.
    const runs = await h.request('GET', '/v1/job-runs?job=totals_check');
    expectStatus(runs, 200);
    expect(runs.body.data).toHaveLength(3);
  });

  it('a stored total with no transactions behind it is a difference too (expected 0)', async () => {
    const h = get();
    const ghost = 'par_00000000000000000000000001';
    await sql`insert into totals (owner_id, currency, captured_amount) values (${ghost}, 'USD', 5)`.execute(h.deps.db);
    try {
      const report = await checkTotals(h.deps.db);
      expect(report.differences).toEqual([
        { table: 'totals', id: ghost, currency: 'USD', field: 'captured_amount', stored: 5, expected: 0 },
      ]);
    } finally {
      await sql`delete from totals where owner_id = ${ghost}`.execute(h.deps.db);
    }
    expect((await checkTotals(h.deps.db)).differences).toEqual([]);
  });

  it('finds nothing while payments on one parent commit around it', async () => {
    const h = get();
    const parent = await created(h, '/v1/parents', { type: 'audited_busy' });
    const writes = Array.from({ length: 12 }, (_, i) => nonGatewayPayment(h, { amount: 10 + i, parent_id: parent.id }));
    const checks = Array.from({ length: 4 }, () => checkTotals(h.deps.db));
    const [reports] = await Promise.all([Promise.all(checks), Promise.all(writes)]);
    for (const report of reports) expect(report.differences).toEqual([]);
    expect((await checkTotals(h.deps.db)).differences).toEqual([]);
  });

  it('reads in a REPEATABLE READ read-only transaction: a write inside it is refused', async () => {
    const h = get();
    const level = await inReadOnlySnapshot(h.deps.db, async (trx) => {
      const { rows } = await sql<{ level: string; ro: string }>`
        select current_setting('transaction_isolation') as level, current_setting('transaction_read_only') as ro`.execute(
        trx,
      );
      return rows[0];
    });
    expect(level).toEqual({ level: 'repeatable read', ro: 'on' });
    await expect(
      inReadOnlySnapshot(h.deps.db, (trx) => sql`update totals set captured_amount = captured_amount + 1`.execute(trx)),
    ).rejects.toThrow(/read-only transaction/);
    expect((await checkTotals(h.deps.db)).differences).toEqual([]);
  });
});

describePostgres('totals_check snapshot (PostgreSQL)', (get) => {
  it('sees one snapshot: a parent committed by another connection meanwhile is not seen inside it', async () => {
    const h = get();
    const counts = await inReadOnlySnapshot(h.deps.db, async (trx) => {
      const count = async () =>
        Number((await sql<{ n: number }>`select count(*)::int8 as n from parents`.execute(trx)).rows[0]!.n);
      const first = await count();
      await created(h, '/v1/parents', { type: 'snapshot' });
      return [first, await count()];
    });
    expect(counts[1]).toBe(counts[0]);
  });
});

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `settle check` in a process of its own, on PostgreSQL (`databaseUrl`) or the PGlite directory under `dataDir`. */
function settleCheck(dataDir: string, databaseUrl?: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, SETTLE_DATA_DIR: dataDir, LOG_LEVEL: 'error' };
  delete env.DATABASE_URL;
  delete env.STRIPE_SECRET_KEY;
  delete env.STRIPE_API_BASE;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return new Promise<Run>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'check'],
      { cwd: ROOT, env },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'settle-check-cli-'));
  dirs.push(dir);
  return dir;
}

describePostgres('settle check (CLI, PostgreSQL)', (get) => {
  it('prints that totals agree (exit 0), then each difference (exit 1)', async () => {
    const h = get();
    const parent = await created(h, '/v1/parents', { type: 'cli_checked' });
    await nonGatewayPayment(h, { amount: 4200, parent_id: parent.id });
    const dataDir = tempDir();
    const ok = await settleCheck(dataDir, h.testDb.url);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toMatch(AGREE);

    await corrupt(h, parent.id, 7);
    try {
      const bad = await settleCheck(dataDir, h.testDb.url);
      expect(bad.code, bad.stderr).toBe(1);
      const lines = bad.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe(`  totals ${parent.id} USD captured_amount: stored 4207, expected 4200`);
      expect(lines.at(-1)).toMatch(/^totals differ: 1 difference\(s\) in 1 record\(s\); \d+ owners/);
    } finally {
      await corrupt(h, parent.id, -7);
    }
  }, 120_000);
});

describe('settle check (CLI, embedded database)', () => {
  it('checks a data directory no server holds (exit 1 on a difference), and refuses one a server holds', async () => {
    // A migrated directory with a stored total no transaction explains, written while no process holds it.
    const dataDir = tempDir();
    const database = await openDatabase({ dataDir: path.join(dataDir, 'pglite') });
    try {
      await migrateToLatest(database.db);
      await sql`insert into totals (owner_id, currency, net_amount)
        values ('acc_00000000000000000000000009', 'EUR', -3)`.execute(database.db);
    } finally {
      await database.close();
    }
    const bad = await settleCheck(dataDir);
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stdout.trimEnd().split('\n')).toEqual([
      '  totals acc_00000000000000000000000009 EUR net_amount: stored -3, expected 0',
      'totals differ: 1 difference(s) in 1 record(s); 1 owners, 0 invoices, 0 allocations, 0 order payment summaries checked',
    ]);

    // A live process (this test's) holds the directory, as `settle serve` would.
    const held = tempDir();
    mkdirSync(path.join(held, 'pglite'), { recursive: true });
    writeFileSync(path.join(held, 'pglite', 'settle.lock'), `${process.pid}\n`);
    const refused = await settleCheck(held);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('in use by another Settle process');
    expect(refused.stderr).toContain('POST /v1/jobs/totals_check/run');
  }, 180_000);
});
