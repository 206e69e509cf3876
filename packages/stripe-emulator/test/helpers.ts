// Shared setup for the emulator tests: one emulator per test file on a free port, a fixed base clock, and the
// real stripe SDK as the client (no retries, so every request the SDK makes is one the test expects).
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/index.js';

export const BASE_TIME = new Date('2026-11-24T12:00:00Z');
export const HOUR = 60 * 60 * 1000;
export const DAY = 24 * HOUR;

export function sdk(emulator: Emulator, key = 'sk_test_123', extra: Partial<Stripe.StripeConfig> = {}): Stripe {
  return new Stripe(key, { host: '127.0.0.1', port: emulator.port, protocol: 'http', maxNetworkRetries: 0, ...extra });
}

/** Starts an emulator for the file and forgets objects and faults before each test (the clock only moves forward). */
export function useEmulator(options: EmulatorOptions = {}): { emulator: () => Emulator; stripe: () => Stripe } {
  let emulator: Emulator | undefined;
  let stripe: Stripe | undefined;
  beforeAll(async () => {
    emulator = await startEmulator({ now: () => new Date(BASE_TIME), ...options });
    stripe = sdk(emulator);
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(() => {
    emulator?.controls.reset();
    emulator?.controls.clearFaults();
  });
  return {
    emulator: () => {
      if (!emulator) throw new Error('emulator not started');
      return emulator;
    },
    stripe: () => {
      if (!stripe) throw new Error('emulator not started');
      return stripe;
    },
  };
}

/** Captures a rejected promise's error for assertions. */
export async function failure(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the request to fail');
}

/** A raw HTTP call, for what the SDK does not expose (headers, odd bodies). */
export async function raw(
  emulator: Emulator,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(`${emulator.url}${path}`, {
    method,
    headers: {
      Authorization: 'Bearer sk_test_raw',
      ...(body === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body }),
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
}
