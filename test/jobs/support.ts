// Helpers for the job tests: transactions through the API, runs started through the API and awaited.
import Stripe from 'stripe';
import { expect } from 'vitest';
import type { Harness } from '../support/harness.js';

export function expectStatus(res: { status: number; body: any }, status: number): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
}

export function stripeOf(h: Harness): Stripe {
  return new Stripe('sk_test_x', { host: '127.0.0.1', port: h.emulator!.port, protocol: 'http' });
}

export async function paymentMethod(
  h: Harness,
  token = 'pm_card_visa',
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await h.request('POST', '/v1/payment-methods', {
    gateway_token: token,
    type: 'card',
    exp_month: 12,
    exp_year: 2030,
    ...extra,
  });
  expectStatus(res, 201);
  return res.body.id;
}

export async function charge(h: Harness, fields: Record<string, unknown>): Promise<any> {
  const res = await h.request('POST', '/v1/transactions', {
    amount: 1000,
    currency: 'usd',
    auto_process: true,
    ...fields,
  });
  expectStatus(res, 201);
  return res.body;
}

export async function getTrx(h: Harness, id: string): Promise<any> {
  const res = await h.request('GET', `/v1/transactions/${id}`);
  expectStatus(res, 200);
  return res.body;
}

/** Starts a run through the API and waits until it is no longer running; returns the finished run. */
export async function runJob(h: Harness, name: string): Promise<any> {
  const started = await h.request('POST', `/v1/jobs/${name}/run`);
  expectStatus(started, 202);
  return waitForRun(h, started.body.id);
}

export async function waitForRun(h: Harness, id: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await h.request('GET', `/v1/job-runs/${id}`);
    expectStatus(res, 200);
    if (res.body.status !== 'running') return res.body;
    if (Date.now() > deadline) throw new Error(`run ${id} still running: ${JSON.stringify(res.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function setSettings(h: Harness, patch: Record<string, unknown>): Promise<void> {
  expectStatus(await h.request('PATCH', '/v1/settings', patch), 200);
}

/** Test hygiene when tests share a database: whatever a test left due is made not due for the next one. */
export async function leaveNothingDue(h: Harness): Promise<void> {
  await h.deps.db.updateTable('transactions').set({ auto_process: false, capture: false }).execute();
}
