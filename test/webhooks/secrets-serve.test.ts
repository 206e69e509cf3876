// `settle serve` end to end (PGlite in a temporary data directory, the in-process emulator): once listening it
// registers its intake with the emulator, keeps the secret in the data directory (0600), receives the emulator's
// signed events for the payments it makes, and reuses the endpoint after a restart. The secret never reaches the
// output.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { EMULATOR_ENDPOINT_FILE } from '../../src/app/webhooks/secrets.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const KEY = 'settle_serve_webhooks_test_key_0123456789';
const dataDir = mkdtempSync(path.join(tmpdir(), 'settle-serve-webhooks-'));

interface Server {
  proc: ChildProcess;
  url: string;
  output: () => string;
}

async function serve(): Promise<Server> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SETTLE_DATA_DIR: dataDir,
    PORT: '0',
    SETTLE_API_KEY: KEY,
    LOG_LEVEL: 'info',
    SETTLE_API_RATE_LIMIT: '0',
  };
  for (const name of [
    'DATABASE_URL',
    'STRIPE_SECRET_KEY',
    'STRIPE_API_BASE',
    'STRIPE_WEBHOOK_SECRET',
    'SETTLE_BASE_URL',
  ])
    delete env[name];
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!/webhooks: .*\n/.test(output)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`settle serve did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const url = /Settle is listening on (\S+)/.exec(output)?.[1];
  if (!url) throw new Error(`no URL in:\n${output}`);
  return { proc, url, output: () => output };
}

async function stop(server: Server): Promise<void> {
  if (server.proc.exitCode !== null) return;
  const exited = new Promise((resolve) => server.proc.once('exit', resolve));
  server.proc.kill('SIGTERM');
  await exited;
}

async function api(server: Server, method: string, route: string, body?: unknown): Promise<any> {
  const response = await fetch(`${server.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('registers with the in-process emulator at start-up, receives its events, and reuses the endpoint after a restart (on another port)', async () => {
  const first = await serve();
  let endpoint: { endpoint_id: string; secret: string; url: string };
  try {
    const banner = /webhooks: (\S+): endpoint (we_\S+) registered with the emulator/.exec(first.output());
    expect(banner, first.output()).not.toBeNull();
    const file = path.join(dataDir, EMULATOR_ENDPOINT_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    endpoint = JSON.parse(readFileSync(file, 'utf8'));
    expect(endpoint.endpoint_id).toBe(banner?.[2]);
    expect(endpoint.url).toBe(banner?.[1]);
    expect(endpoint.url).toMatch(new RegExp(`^${first.url}/v1/webhooks/gw_`));

    const pm = await api(first, 'POST', '/v1/payment-methods', { gateway_token: 'pm_card_visa', type: 'card' });
    const trx = await api(first, 'POST', '/v1/transactions', {
      amount: 2500,
      currency: 'usd',
      payment_method_id: pm.id,
    });
    const captured = await api(first, 'POST', `/v1/transactions/${trx.id}/capture`);
    const pi = captured.gateway_ref.payment_intent as string;
    let events: { object_id: string | null; type: string }[] = [];
    for (
      let i = 0;
      i < 100 && !events.some((e) => e.object_id === pi && e.type === 'payment_intent.succeeded');
      i += 1
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      events = (await api(first, 'GET', '/v1/webhook-events?limit=200')).data;
    }
    expect(events.filter((e) => e.object_id === pi).map((e) => e.type)).toEqual(
      expect.arrayContaining(['payment_intent.created', 'payment_intent.succeeded']),
    );

    // The serve process applies what arrives: a refund made "in the dashboard" becomes a refund transaction.
    const emulatorUrl = /offline Stripe emulator at (http:\/\/\S+?)[ )]/.exec(first.output())?.[1];
    expect(emulatorUrl, first.output()).toBeTruthy();
    const dashboard = await fetch(`${emulatorUrl}/_emulator/dashboard/refunds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payment_intent: pi, amount: 700 }),
    });
    expect(dashboard.status).toBe(200);
    let refunds: { amount: number; source: string; status: string }[] = [];
    for (let i = 0; i < 100 && refunds.length === 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      refunds = (await api(first, 'GET', `/v1/transactions?original_transaction_id=${trx.id}`)).data;
    }
    expect(refunds.map((r) => [r.amount, r.source, r.status])).toEqual([[-700, 'webhook', 'completed']]);
    expect(await api(first, 'GET', `/v1/transactions/${trx.id}`)).toMatchObject({
      payment_status: 'partially_refunded',
      refunded_amount: 700,
      retained_amount: 1800,
    });
  } finally {
    await stop(first);
  }
  const second = await serve();
  try {
    // PORT=0: Settle (and the emulator) listen on other ports now; the kept endpoint follows Settle's new URL.
    expect(second.url).not.toBe(first.url);
    expect(second.output()).toContain(
      `endpoint ${endpoint.endpoint_id} updated with the emulator for ${second.url}/v1/webhooks/`,
    );
    expect(JSON.parse(readFileSync(path.join(dataDir, EMULATOR_ENDPOINT_FILE), 'utf8')).secret).toBe(endpoint.secret);
  } finally {
    await stop(second);
  }
  expect(first.output() + second.output()).not.toContain(endpoint.secret);
}, 120_000);
