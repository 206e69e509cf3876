import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { DataDirLockedError, lockDataDir } from '../../src/store/data-dir-lock.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'settle-lock-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('embedded data directory lock', () => {
  it('refuses a second process while the first runs, and takes over a lock whose process is gone', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(path.join(dir, 'settle.lock'), `${child.pid}\n`);
      expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
      expect(() => lockDataDir(dir)).toThrow(new RegExp(`pid ${child.pid}`));
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const release = lockDataDir(dir); // the owner is dead: stale lock taken over
    release();
    lockDataDir(dir)();
  });

  it('an open PGlite database holds the lock until it is closed', async () => {
    const dir = path.join(tempDir(), 'pglite');
    const first = await openDatabase({ dataDir: dir });
    expect(readFileSync(path.join(dir, 'settle.lock'), 'utf8').trim()).toBe(String(process.pid));
    await first.close();
    expect(existsSync(path.join(dir, 'settle.lock'))).toBe(false);
    const second = await openDatabase({ dataDir: dir });
    await second.close();
  });
});
