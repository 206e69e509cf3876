// Files at rest readable by their owner only (store/file-modes.ts): the walk itself (modes, links, files vanishing
// under it), an on-disk PGlite runtime opened as `settle serve` opens it with the emulator's state, the admin key and
// the emulator endpoint's secret written beside it (also after its tables grow and after a restart), the emulator's
// state file on its own, and `settle serve` itself started on a data directory an older version left readable.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBootstrapKey } from '../../src/app/api-keys.js';
import { FakeClock } from '../../src/app/clock.js';
import { EMULATOR_ENDPOINT_FILE, setUpWebhookSecret, WebhookSecrets } from '../../src/app/webhooks/secrets.js';
import { setUpDefaultGateway } from '../../src/gateway-adapters/default-gateway.js';
import { startEmulator } from '@settle/stripe-emulator';
import { EMULATOR_SECRET_KEY } from '../../src/gateway-adapters/registry.js';
import { stripeWebhookEndpoints } from '../../src/gateway-adapters/stripe/webhook-endpoints.js';
import { openRuntime } from '../../src/runtime.js';
import { restrictDataDir, restrictModes, SETTLE_DATA_ENTRIES } from '../../src/store/file-modes.js';
import { ensureFirstUser } from '../../src/app/users.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
const tempDir = (name: string): string => {
  const dir = mkdtempSync(path.join(tmpdir(), `settle-modes-${name}-`));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Entry {
  path: string;
  kind: 'dir' | 'file' | 'link' | 'other';
  mode: number;
}

/** Everything under `root` (not following links), with its permission bits. */
function listTree(root: string): Entry[] {
  const out: Entry[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      let stats;
      try {
        stats = lstatSync(file);
      } catch {
        continue; // PGlite removed it meanwhile
      }
      const kind = stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : stats.isSymbolicLink() ? 'link' : 'other';
      out.push({ path: path.relative(root, file), kind, mode: stats.mode & 0o7777 });
      if (kind === 'dir') visit(file);
    }
  };
  visit(root);
  return out;
}

/** Directories and files whose mode is not 0700 / 0600, the root included ([] when all is private). */
function notPrivate(root: string): string[] {
  const rootMode = statSync(root).mode & 0o7777;
  const wrong = rootMode === 0o700 ? [] : [`. ${rootMode.toString(8)}`];
  for (const entry of listTree(root)) {
    if ((entry.kind === 'dir' && entry.mode !== 0o700) || (entry.kind === 'file' && entry.mode !== 0o600)) {
      wrong.push(`${entry.path} ${entry.mode.toString(8)}`);
    }
  }
  return wrong;
}

const modeOf = (file: string): number => lstatSync(file).mode & 0o7777;

describe('restrictModes', () => {
  it('makes every directory 0700 and every regular file 0600, and leaves links and what they point to alone', async () => {
    const root = tempDir('walk');
    const outside = tempDir('outside');
    writeFileSync(path.join(outside, 'shared.txt'), 'not ours');
    chmodSync(path.join(outside, 'shared.txt'), 0o644);
    chmodSync(outside, 0o755);
    mkdirSync(path.join(root, 'a', 'b', 'c'), { recursive: true });
    writeFileSync(path.join(root, 'top'), 'x');
    writeFileSync(path.join(root, 'a', 'b', 'c', 'deep'), 'x');
    writeFileSync(path.join(root, 'a', 'setuid'), 'x');
    writeFileSync(path.join(root, 'a', 'unreadable'), 'x');
    chmodSync(path.join(root, 'top'), 0o666);
    chmodSync(path.join(root, 'a', 'b', 'c', 'deep'), 0o644);
    chmodSync(path.join(root, 'a', 'setuid'), 0o4755);
    chmodSync(path.join(root, 'a', 'unreadable'), 0o200); // cannot be opened for reading: changed by path
    chmodSync(path.join(root, 'a', 'b', 'c'), 0o777);
    chmodSync(path.join(root, 'a', 'b'), 0o750);
    chmodSync(path.join(root, 'a'), 0o755);
    chmodSync(root, 0o755);
    symlinkSync(path.join(outside, 'shared.txt'), path.join(root, 'link-to-file'));
    symlinkSync(outside, path.join(root, 'a', 'link-to-dir'));
    symlinkSync(path.join(root, 'nowhere'), path.join(root, 'dangling'));

    const report = await restrictModes(root);

    expect(notPrivate(root)).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.changed).toHaveLength(8); // root, a, a/b, a/b/c, top, deep, setuid, unreadable
    expect(modeOf(path.join(outside, 'shared.txt'))).toBe(0o644);
    expect(modeOf(outside)).toBe(0o755);
    expect(lstatSync(path.join(root, 'link-to-file')).isSymbolicLink()).toBe(true);
    // A second walk finds nothing to change.
    expect((await restrictModes(root)).changed).toEqual([]);
  });

  it('is content with a missing root, and with files and directories that vanish while it walks', async () => {
    expect(await restrictModes(path.join(tempDir('missing'), 'not-there'))).toEqual({
      checked: 0,
      changed: [],
      problems: [],
    });
    const root = tempDir('vanish');
    for (let round = 0; round < 5; round += 1) {
      for (let d = 0; d < 40; d += 1) {
        const dir = path.join(root, `d${d}`, 'inner');
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        for (let f = 0; f < 10; f += 1) writeFileSync(path.join(dir, `f${f}`), 'x', { mode: 0o644 });
      }
      // Removing the tree while the walk runs: entries it listed are gone by the time it looks at or changes them.
      const walking = restrictModes(root);
      const removing = Promise.all(
        Array.from({ length: 40 }, (_, d) => rm(path.join(root, `d${d}`), { recursive: true, force: true })),
      );
      const [report] = await Promise.all([walking, removing]);
      expect(report.problems).toEqual([]);
    }
  });
});

describe('restrictDataDir', () => {
  it("makes a data directory private as a whole, but only Settle's own entries in one that holds other things", async () => {
    const own = (root: string) => {
      mkdirSync(path.join(root, 'pglite', 'base'), { recursive: true });
      for (const name of [
        'admin-api-key',
        'stripe-emulator.json',
        'emulator-webhook-endpoint.json',
        path.join('pglite', 'base', 'relation'),
      ]) {
        writeFileSync(path.join(root, name), 'x');
        chmodSync(path.join(root, name), 0o644);
      }
      chmodSync(path.join(root, 'pglite'), 0o755);
      writeFileSync(path.join(root, 'run.sh'), '#!/bin/sh\n');
      chmodSync(path.join(root, 'run.sh'), 0o755);
      chmodSync(root, 0o755);
    };
    const alone = tempDir('alone');
    own(alone);
    expect((await restrictDataDir(alone)).shared).toBeUndefined();
    expect(notPrivate(alone)).toEqual([]);

    const project = tempDir('project');
    own(project);
    writeFileSync(path.join(project, 'package.json'), '{}');
    chmodSync(path.join(project, 'package.json'), 0o644);
    const report = await restrictDataDir(project);
    expect(report.shared).toBe('holds package.json');
    expect(report.problems).toEqual([]);
    expect(notPrivate(path.join(project, 'pglite'))).toEqual([]);
    for (const name of ['admin-api-key', 'stripe-emulator.json', 'emulator-webhook-endpoint.json'])
      expect(modeOf(path.join(project, name))).toBe(0o600);
    expect(modeOf(path.join(project, 'run.sh'))).toBe(0o755);
    expect(modeOf(path.join(project, 'package.json'))).toBe(0o644);
    expect(modeOf(project)).toBe(0o755);
  });
});

describe('an on-disk PGlite runtime, as `settle serve` opens it', () => {
  it(
    'keeps the data directory private: at start, after its tables grow, after closing and after opening again',
    { timeout: 180_000 },
    async () => {
      const dataDir = tempDir('runtime');
      const config = { databaseUrl: undefined, dataDir, databasePoolSize: 1 };
      const clock = new FakeClock(new Date('2026-11-24T12:00:00Z'));
      let runtime = await openRuntime(config, { clock });
      try {
        // What `settle serve` writes beside the database: the emulator's state, the admin key, the endpoint's secret.
        const gateway = await setUpDefaultGateway(
          { dataDir, emulatorPort: 0, stripeSecretKey: undefined, stripeApiBase: undefined },
          runtime.deps,
        );
        try {
          const key = ensureBootstrapKey(dataDir, undefined);
          expect(key.generated).toBe(true);
          expect(await ensureFirstUser(runtime.deps, dataDir)).not.toBeNull();
          const webhooks = await setUpWebhookSecret({
            record: gateway.record,
            baseUrl: 'http://127.0.0.1:9',
            dataDir,
            secrets: new WebhookSecrets(),
            api: () =>
              stripeWebhookEndpoints({ secretKey: EMULATOR_SECRET_KEY, apiBase: gateway.record.api_base ?? undefined }),
            now: clock.now(),
          });
          expect(webhooks.ok, webhooks.description).toBe(true);
        } finally {
          await gateway.close(); // saves the emulator's state
        }
        const names = listTree(dataDir).map((entry) => entry.path);
        expect(names).toEqual(
          expect.arrayContaining([
            'admin-api-key',
            'console-admin-password',
            'stripe-emulator.json',
            EMULATOR_ENDPOINT_FILE,
            'pglite',
            path.join('pglite', 'PG_VERSION'),
          ]),
        );
        // What the start-up pass of a shared directory restricts is everything Settle put there.
        expect(names.filter((name) => !name.includes(path.sep)).sort()).toEqual([...SETTLE_DATA_ENTRIES].sort());
        expect(readFileSync(path.join(dataDir, 'stripe-emulator.json'), 'utf8')).toContain('whsec_'); // the secret it guards
        expect(notPrivate(dataDir)).toEqual([]);

        // Growth: a table of its own, filled until PGlite adds files (free space map, WAL segments).
        const pgliteDir = path.join(dataDir, 'pglite');
        await sql`create table file_modes_growth (id int primary key, pad text)`.execute(runtime.deps.db);
        const before = new Set(listTree(pgliteDir).map((entry) => entry.path));
        await sql`insert into file_modes_growth select g, repeat('x', 900) from generate_series(1, 25000) g`.execute(
          runtime.deps.db,
        );
        await sql`vacuum file_modes_growth`.execute(runtime.deps.db);
        await sql`checkpoint`.execute(runtime.deps.db);
        const added = listTree(pgliteDir).filter((entry) => !before.has(entry.path));
        expect(added.map((entry) => entry.path)).toEqual(
          expect.arrayContaining([expect.stringMatching(/^pg_wal\//), expect.stringMatching(/_fsm$/)]),
        );
        await runtime.database.restrictFileModes(); // what the minute's check does
        expect(notPrivate(dataDir)).toEqual([]);
      } finally {
        await runtime.close();
      }
      expect(notPrivate(dataDir)).toEqual([]);

      // PGlite writes its relation cache file (pg_internal.init) 0644 at every start; opened without migrating, the
      // walk after opening is the one that catches it.
      runtime = await openRuntime(config, { clock, migrate: false });
      try {
        expect(listTree(dataDir).some((entry) => entry.path.endsWith('pg_internal.init'))).toBe(true);
        expect(notPrivate(dataDir)).toEqual([]);
      } finally {
        await runtime.close();
      }
    },
  );
});

describe("the emulator's state file", () => {
  it('is written 0600, in a directory made 0700, also over a file an older version left 0644', async () => {
    const dir = tempDir('emulator');
    const stateFile = path.join(dir, 'made', 'for-it', 'stripe-emulator.json');
    const first = await startEmulator({ stateFile });
    await first.close();
    expect(modeOf(stateFile)).toBe(0o600);
    expect(modeOf(path.dirname(stateFile))).toBe(0o700);
    expect(modeOf(path.join(dir, 'made'))).toBe(0o700);
    chmodSync(stateFile, 0o644);
    const second = await startEmulator({ stateFile });
    await second.close();
    expect(modeOf(stateFile)).toBe(0o600);
  });
});

describe('settle serve', () => {
  let proc: ChildProcess | undefined;
  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((resolve) => proc?.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
  });

  it(
    'starts with a private data directory, whatever an older version left, and never follows a link out of it',
    { timeout: 180_000 },
    async () => {
      const dataDir = tempDir('serve');
      const outside = tempDir('serve-outside');
      writeFileSync(path.join(outside, 'elsewhere.txt'), 'not ours', { mode: 0o644 });
      chmodSync(path.join(outside, 'elsewhere.txt'), 0o644);
      mkdirSync(path.join(dataDir, 'old', 'backup'), { recursive: true });
      writeFileSync(path.join(dataDir, 'old', 'backup', 'notes.txt'), 'left by an older version');
      chmodSync(path.join(dataDir, 'old', 'backup', 'notes.txt'), 0o666);
      chmodSync(path.join(dataDir, 'old'), 0o755);
      chmodSync(dataDir, 0o755);
      symlinkSync(path.join(outside, 'elsewhere.txt'), path.join(dataDir, 'link'));

      const env: NodeJS.ProcessEnv = { ...process.env, SETTLE_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
      for (const name of [
        'DATABASE_URL',
        'SETTLE_API_KEY',
        'STRIPE_SECRET_KEY',
        'STRIPE_API_BASE',
        'STRIPE_WEBHOOK_SECRET',
        'SETTLE_BASE_URL',
      ])
        delete env[name];
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc = child;
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const deadline = Date.now() + 120_000;
      const files = ['admin-api-key', EMULATOR_ENDPOINT_FILE, 'stripe-emulator.json'];
      // Listening, and the emulator has saved its state (shortly after the endpoint's registration).
      while (!(
        /Settle is listening on/.test(output) &&
        files.every((file) => listTree(dataDir).some((entry) => entry.path === file))
      )) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`settle serve did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(output).not.toMatch(/could not make/);
      expect(notPrivate(dataDir)).toEqual([]);
      expect(modeOf(path.join(outside, 'elsewhere.txt'))).toBe(0o644);
      expect(lstatSync(path.join(dataDir, 'link')).isSymbolicLink()).toBe(true);
    },
  );
});
