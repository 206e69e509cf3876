// W4 retention: deleteOldWebhookEvents (the scheduler's webhook_cleanup job and `settle webhooks cleanup`) deletes
// processed and not-supported events received longer ago than webhook_retention_days, in batches, and keeps failed
// and pending ones whatever their age, and recent ones. The CLI's webhooks commands run against PostgreSQL.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { deleteOldWebhookEvents } from '../../src/app/webhooks/events.js';
import { describeEachDatabase, describePostgres, type Harness } from '../support/harness.js';
import { eventText, gatewayWithSecret, sendSigned, stripeEvent } from './intake-helpers.js';

const ENV = 'SETTLE_GATEWAY_TEST_WHSEC_CLEANUP';
const SECRET = 'whsec_cleanup_test_secret';
const DAY_MS = 86_400_000;

type Status = 'pending' | 'processed' | 'failed' | 'not_supported';

/** Receives an event `daysAgo` days before the harness clock's current time, then gives it `status`. */
async function eventAged(h: Harness, gw: string, daysAgo: number, status: Status): Promise<string> {
  const now = h.clock.now();
  h.clock.set(new Date(now.getTime() - daysAgo * DAY_MS));
  try {
    const res = await sendSigned(h, gw, eventText(stripeEvent()), SECRET);
    if (res.status !== 200) throw new Error(`intake: ${res.status} ${JSON.stringify(res.body)}`);
    const failed = status === 'failed' ? { error: 'boom', retryable: false } : {};
    await h.deps.db
      .updateTable('webhook_events')
      .set({ status, ...failed })
      .where('id', '=', res.body.id)
      .execute();
    return res.body.id as string;
  } finally {
    h.clock.set(now);
  }
}

async function remaining(h: Harness, ids: string[]): Promise<string[]> {
  const rows = await h.deps.db.selectFrom('webhook_events').select('id').where('id', 'in', ids).orderBy('id').execute();
  return rows.map((r) => r.id);
}

describeEachDatabase('webhook events retention', (get) => {
  it('deletes old processed and not-supported events in batches; keeps failed, pending and recent ones', async () => {
    const h = get();
    const gw = await gatewayWithSecret(h, ENV, SECRET);
    await h.request('PATCH', '/v1/settings', { webhook_retention_days: 30 });
    const old: string[] = [];
    for (let i = 0; i < 5; i += 1)
      old.push(await eventAged(h, gw, 31 + i, i % 2 === 0 ? 'processed' : 'not_supported'));
    const kept = [
      await eventAged(h, gw, 90, 'failed'),
      await eventAged(h, gw, 90, 'pending'),
      await eventAged(h, gw, 29, 'processed'),
      await eventAged(h, gw, 0, 'not_supported'),
    ];
    const result = await deleteOldWebhookEvents(h.deps, { batchSize: 2 });
    expect(result).toEqual({
      deleted: 5,
      received_before: new Date(h.clock.now().getTime() - 30 * DAY_MS).toISOString(),
    });
    expect(await remaining(h, old)).toEqual([]);
    expect(await remaining(h, kept)).toEqual([...kept].sort());
    expect(await deleteOldWebhookEvents(h.deps)).toMatchObject({ deleted: 0 });

    // A shorter retention reaches the recent processed one; failed and pending stay.
    await h.request('PATCH', '/v1/settings', { webhook_retention_days: 1 });
    try {
      expect((await deleteOldWebhookEvents(h.deps)).deleted).toBe(1);
      expect(await remaining(h, kept)).toEqual([kept[0], kept[1], kept[3]].sort());
    } finally {
      await h.request('PATCH', '/v1/settings', { webhook_retention_days: 30 });
    }
  });
});

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describePostgres('settle webhooks (CLI)', (get) => {
  const settle = (h: Harness, dataDir: string, ...args: string[]) =>
    new Promise<Run>((resolve) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DATABASE_URL: h.testDb.url,
        SETTLE_DATA_DIR: dataDir,
        LOG_LEVEL: 'error',
      };
      delete env.STRIPE_SECRET_KEY;
      delete env.STRIPE_API_BASE;
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', ...args],
        { cwd: ROOT, env },
        (error, stdout, stderr) => {
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
        },
      );
    });

  it('lists with filters, replays one (exit code 1 when it ends failed) and cleans up', async () => {
    const h = get();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'settle-webhooks-cli-'));
    try {
      const gw = await gatewayWithSecret(h, ENV, SECRET);
      // The CLI runs on the real clock: age the events relative to it.
      h.clock.set(new Date());
      const oldProcessed = await eventAged(h, gw, 40, 'processed');
      const failed = await eventAged(h, gw, 1, 'failed');
      const pending = await eventAged(h, gw, 0, 'pending');

      const all = await settle(h, dataDir, 'webhooks', 'list');
      expect(all.code, all.stderr).toBe(0);
      const lines = all.stdout.trim().split('\n');
      expect(lines.map((l) => l.split('  ')[0])).toEqual([pending, failed, oldProcessed]);
      expect(lines[1]).toContain('failed');
      expect(lines[1]).toContain('boom');
      const onlyFailed = await settle(
        h,
        dataDir,
        'webhooks',
        'list',
        '--status',
        'failed',
        '--type',
        'payment_intent.succeeded',
      );
      expect(
        onlyFailed.stdout
          .trim()
          .split('\n')
          .map((l) => l.split('  ')[0]),
      ).toEqual([failed]);
      const bad = await settle(h, dataDir, 'webhooks', 'list', '--status', 'done');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('status must be one of');

      const replayed = await settle(h, dataDir, 'webhooks', 'replay', failed);
      const row = await h.deps.db
        .selectFrom('webhook_events')
        .select(['status', 'claimed_until'])
        .where('id', '=', failed)
        .executeTakeFirstOrThrow();
      expect(replayed.stdout).toContain(failed);
      expect(replayed.stdout).toContain(row.status);
      expect(replayed.code, replayed.stderr).toBe(row.status === 'failed' ? 1 : 0);
      expect(row.claimed_until).toBeNull();
      const missing = await settle(h, dataDir, 'webhooks', 'replay', 'whe_missing');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("No webhook event with id 'whe_missing'");

      const cleanup = await settle(h, dataDir, 'webhooks', 'cleanup');
      expect(cleanup.stdout).toMatch(/^Deleted 1 processed or not-supported webhook event\(s\) received before /);
      expect(await remaining(h, [oldProcessed, failed, pending])).toEqual([failed, pending].sort());
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
