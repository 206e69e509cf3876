// A whole Settle (deps + HTTP app) on a test database, driven through app.inject() (no sockets).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createApiKey, type Scope } from '../../src/app/api-keys.js';
import { FakeClock } from '../../src/app/clock.js';
import type { Deps } from '../../src/app/deps.js';
import { ensureDefaultEmulatorGateway } from '../../src/app/gateway-records.js';
import { type Emulator, startEmulator } from '@settle/stripe-emulator';
import { buildApp } from '../../src/http/app.js';
import { createDeps } from '../../src/runtime.js';
import { createTestDatabase, type DatabaseKind, databaseKinds, type TestDatabase } from './databases.js';

export const ADMIN_KEY = 'settle_test_admin_key_0123456789abcdef';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
}

/** Expects an API answer's status, showing its body when it differs (what every suite's requests check first). */
export function expectStatus(res: { status: number; body: unknown }, status: number): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
}

export interface Harness {
  kind: DatabaseKind;
  testDb: TestDatabase;
  deps: Deps;
  app: FastifyInstance;
  clock: FakeClock;
  /** The offline Stripe emulator, the default gateway (only with `emulator: true`). */
  emulator: Emulator | undefined;
  /** Calls the API as the admin (or with `key`). */
  request<T = any>(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
    key?: string | null,
  ): Promise<ApiResponse<T>>;
  keyWith(scopes: Scope[]): Promise<string>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  clock?: FakeClock;
  poolSize?: number;
  /** Start the Stripe emulator (its clock follows the harness clock) and make it the default gateway. */
  emulator?: boolean;
  gatewayTimeoutMs?: number;
}

export async function createHarness(kind: DatabaseKind, options: HarnessOptions = {}): Promise<Harness> {
  const testDb = await createTestDatabase(kind, options.poolSize);
  const clock = options.clock ?? new FakeClock('2026-11-24T12:00:00Z');
  const deps: Deps = createDeps(testDb.database, {
    clock,
    settingsTtlMs: 0,
    gatewayTimeoutMs: options.gatewayTimeoutMs,
  });
  const emulator = options.emulator ? await startEmulator({ now: () => clock.now() }) : undefined;
  if (emulator) await ensureDefaultEmulatorGateway(deps, { apiBase: emulator.url });
  // The API rate limit is off: tests that are not about it must not meet it (test/http/headers-and-limits.test.ts is).
  // Errors only: an unexpected 500 prints its cause (the "unhandled error" log line with its stack) beside the test
  // that met it, so that a rare one seen in CI can be diagnosed from the CI log.
  const app = await buildApp({
    deps,
    bootstrapApiKey: ADMIN_KEY,
    apiRateLimitPerSecond: 0,
    logger: { level: 'error' },
  });
  const request: Harness['request'] = async (method, url, body, headers = {}, key = ADMIN_KEY) => {
    const response = await app.inject({
      method: method as 'GET',
      url,
      headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...headers },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    const text = response.body;
    let parsed: unknown = text;
    if ((response.headers['content-type'] ?? '').toString().includes('application/json') && text !== '')
      parsed = JSON.parse(text);
    return { status: response.statusCode, body: parsed as any, headers: response.headers };
  };
  return {
    kind,
    testDb,
    deps,
    app,
    clock,
    emulator,
    request,
    keyWith: async (scopes) =>
      (await createApiKey(deps, { actor: 'test' }, { name: `test ${scopes.join(',')}`, scopes })).body.secret as string,
    close: async () => {
      await app.close();
      await emulator?.close();
      await testDb.drop();
    },
  };
}

/** Runs the suite once per database kind (PGlite always, PostgreSQL when TEST_DATABASE_URL is set). */
export function describeEachDatabase(
  name: string,
  suite: (get: () => Harness, kind: DatabaseKind) => void,
  options: { only?: DatabaseKind } & Omit<HarnessOptions, 'clock'> = {},
): void {
  for (const kind of databaseKinds()) {
    if (options.only && options.only !== kind) continue;
    describe(`${name} [${kind}]`, () => {
      let harness: Harness | undefined;
      beforeAll(async () => {
        harness = await createHarness(kind, options);
      });
      afterAll(async () => {
        await harness?.close();
      });
      suite(() => {
        if (!harness) throw new Error('harness not ready');
        return harness;
      }, kind);
    });
  }
}

/** Runs only when PostgreSQL is configured; with TEST_DATABASE_URL unset the suite is reported skipped. */
export function describePostgres(
  name: string,
  suite: (get: () => Harness) => void,
  options: Omit<HarnessOptions, 'clock'> = {},
): void {
  if (!process.env.TEST_DATABASE_URL) {
    describe.skip(`${name} [postgres: set TEST_DATABASE_URL]`, () => suite(() => undefined as never));
    return;
  }
  describeEachDatabase(name, suite, { ...options, only: 'postgres' });
}
