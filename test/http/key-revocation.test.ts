// Revocation across processes, for real: a second `settle serve` process on the same PostgreSQL database with
// SETTLE_KEY_CACHE_SECONDS=0 accepts a key, the key is revoked through this process's API, and the second process
// refuses it on its very next request. The second process's banner shows its SETTLE_API_KEY by its first 8
// characters only.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describePostgres } from '../support/harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SECOND_KEY = 'settle_second_process_key_0123456789abcdef';
const dataDir = mkdtempSync(path.join(tmpdir(), 'settle-key-revocation-'));
const children: ChildProcess[] = [];

async function serveOn(databaseUrl: string): Promise<{ proc: ChildProcess; url: string; output: () => string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    SETTLE_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    SETTLE_API_KEY: SECOND_KEY,
    SETTLE_KEY_CACHE_SECONDS: '0',
    SETTLE_SCHEDULER: 'off',
    LOG_LEVEL: 'warn',
  };
  for (const name of ['STRIPE_SECRET_KEY', 'STRIPE_API_BASE', 'STRIPE_WEBHOOK_SECRET', 'SETTLE_BASE_URL'])
    delete env[name];
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let output = '';
  proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!/ {2}try: .*\n/.test(output)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`settle serve did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const url = /Settle is listening on (\S+)/.exec(output)?.[1];
  if (!url) throw new Error(`no URL in:\n${output}`);
  return { proc, url, output: () => output };
}

afterAll(async () => {
  for (const proc of children) {
    if (proc.exitCode !== null || proc.signalCode !== null) continue;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describePostgres('API key revocation across processes', (get) => {
  it('a second process with SETTLE_KEY_CACHE_SECONDS=0 refuses a revoked key on its next request', async () => {
    const h = get();
    if (!h.testDb.url) throw new Error('no PostgreSQL URL');
    const second = await serveOn(h.testDb.url);
    const banner = second.output();
    expect(banner).toContain(`${SECOND_KEY.slice(0, 8)}...`);
    expect(banner).not.toContain(SECOND_KEY);

    const created = await h.request('POST', '/v1/api-keys', { name: 'shared across processes', scopes: ['read'] });
    expect(created.status).toBe(201);
    const use = () =>
      fetch(`${second.url}/v1/transactions`, { headers: { authorization: `Bearer ${created.body.secret}` } });
    expect((await use()).status).toBe(200);
    expect((await use()).status).toBe(200);

    expect((await h.request('POST', `/v1/api-keys/${created.body.id}/revoke`)).status).toBe(200);
    const refused = await use();
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('api_key_invalid');

    // the second process sees the same keys, and its own bootstrap key is not revocable there either
    const listed = await fetch(`${second.url}/v1/api-keys/${created.body.id}`, {
      headers: { authorization: `Bearer ${SECOND_KEY}` },
    });
    expect(((await listed.json()) as { revoked_at: string | null }).revoked_at).not.toBeNull();
  }, 120_000);
});
