// Fuzzes every operation of the app's own /openapi.json with fast-check: wrong types, boundary and huge numbers,
// NUL characters, lone surrogates, 1 MB strings, unknown and missing fields, bodies that are not objects or not
// UTF-8, odd headers and path ids (real objects of the right and of the wrong kind too). No answer may be a 5xx (but
// a 503 for a gateway the fuzz itself made unusable), every 4xx must have the error shape, and a refused request must
// leave the database as it was: a digest (per table: rows, largest id, latest updated_at, in one query) is taken
// after every request and compared.
// Fixed seed by default (printed); FUZZ_SEED=<n> runs another; FUZZ_DATABASE=postgres runs it on PostgreSQL.
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_NAMES } from '../../src/jobs/definitions.js';
import { createHarness, type Harness } from '../support/harness.js';
import {
  changedTables,
  type Digest,
  describeRequest,
  digestQuery,
  type FuzzRequest,
  IdPool,
  type Operation,
  operationsOf,
  requestsFor,
} from './fuzz-support.js';

/** Requests per run of the suite (a constant: FUZZ_SEED changes which, never how many). */
const RUNS = 3000;
const DEFAULT_SEED = 20_261_207;

/**
 * Tables left out of the digest because a refused request may change them: none. (Idempotency claims are
 * inserted before the work and deleted when it fails, so idempotency_keys is back to its rows after a refusal,
 * and stays in.)
 */
const NOT_DIGESTED: readonly string[] = [];

/**
 * What a refusal may legitimately have written: a gateway action that the gateway itself refused (its invalid_request,
 * e.g. a token it does not know) keeps the record of the call: the attempt, the call's log rows and the transaction's
 * history of going to `process` and back (ARCHITECTURE.md, Processing), and a refund it refused stays as `failed`;
 * the same for a call the gateway could not take (503 gateway_unavailable, gateway_configuration_error).
 */
const GATEWAY_REFUSAL_TABLES = new Set(['gateway_attempts', 'gateway_logs', 'transactions', 'transaction_history']);
/**
 * A refused console sign-in (401 invalid_credentials) records its failure for the back-off (app/sessions.ts): that
 * row, and only that, is what it may write.
 */
const SIGN_IN_REFUSAL_TABLES = new Set(['sign_in_failures']);
const isSignInRefusal = (body: { error?: { code?: unknown } }) => body.error?.code === 'invalid_credentials';
const isGatewayRefusal = (body: { error?: { code?: unknown; message?: unknown } }) =>
  (typeof body.error?.message === 'string' && body.error.message.startsWith('The gateway refused')) ||
  body.error?.code === 'gateway_unavailable';

/**
 * The only 5xx allowed: the webhook intake of a gateway that has no signing secret answers 503
 * webhook_secret_not_configured (README, "Webhooks"), so that the gateway keeps retrying the event until the operator
 * sets one; the fuzz, as an admin, creates such gateways and then posts to their intake. It writes nothing. Any other
 * 5xx fails, gateway_unavailable included: the fuzz never points a gateway at an address nothing answers on.
 */
const DEPENDENCY_UNAVAILABLE = new Set(['webhook_secret_not_configured']);
/** The seeded default gateway's webhook signing secret, so that its intake verifies signatures instead of answering 503. */
const WEBHOOK_SECRET_ENV = 'SETTLE_GATEWAY_FUZZ_WEBHOOK_SECRET';

/** Routes that do not exist, so that the router's own answers are fuzzed too. */
const UNKNOWN_ROUTES: Operation[] = [
  {
    name: 'PUT /v1/transactions/{id}',
    method: 'PUT',
    path: '/v1/transactions/{id}',
    pathParams: ['id'],
    query: [],
    body: { type: 'object' },
  },
  {
    name: 'GET /v1/nothing/{id}',
    method: 'GET',
    path: '/v1/nothing/{id}',
    pathParams: ['id'],
    query: [],
    body: undefined,
  },
  {
    name: 'DELETE /v1/accounts/{id}',
    method: 'DELETE',
    path: '/v1/accounts/{id}',
    pathParams: ['id'],
    query: [],
    body: undefined,
  },
];

function collectIds(value: unknown, pool: IdPool, depth = 0): void {
  if (depth > 3 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collectIds(item, pool, depth + 1);
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key === 'id' || key.endsWith('_id')) pool.add(child);
    else collectIds(child, pool, depth + 1);
  }
}

/** PGlite in memory (the suite's); FUZZ_DATABASE=postgres (with TEST_DATABASE_URL) fuzzes PostgreSQL instead. */
const KIND = process.env.FUZZ_DATABASE === 'postgres' ? 'postgres' : 'pglite';

describe(`fuzz: every operation of /openapi.json [${KIND}]`, () => {
  let h: Harness;
  let key: string;
  const pool = new IdPool();

  beforeAll(async () => {
    h = await createHarness(KIND, { emulator: true });
    key = await h.keyWith(['admin']);
    process.env[WEBHOOK_SECRET_ENV] = 'whsec_fuzz_0123456789abcdef';
    // Valid rows for path ids to hit: an account, a contact, a payment method, transactions open, authorized and
    // captured (which leave gateway log rows and history), a job run.
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await h.request(method, url, body, {}, key);
      if (res.status >= 300) throw new Error(`seeding ${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
      collectIds(res.body, pool);
      return res.body;
    };
    const account = await call('POST', '/v1/accounts', {
      name: 'Fuzz Ltd',
      email: 'fuzz@example.com',
      metadata: { plan: 'gold' },
    });
    const contact = await call('POST', '/v1/contacts', { last_name: 'Fuzz', account_id: account.id });
    const method = await call('POST', '/v1/payment-methods', {
      gateway_token: 'pm_card_visa',
      type: 'card',
      account_id: account.id,
      contact_id: contact.id,
      exp_month: 12,
      exp_year: 2030,
    });
    const charge = { amount: 5000, currency: 'USD', payment_method_id: method.id, account_id: account.id };
    await call('POST', '/v1/transactions', charge);
    const authorized = await call('POST', '/v1/transactions', charge);
    await call('POST', `/v1/transactions/${authorized.id}/authorize`);
    const captured = await call('POST', '/v1/transactions', charge);
    await call('POST', `/v1/transactions/${captured.id}/capture`);
    await call('POST', `/v1/transactions/${captured.id}/refund`, { amount: 1000 });
    const run = await call('POST', '/v1/jobs/webhook_cleanup/run');
    await waitForRun(run.id);
    const gateways = await call('GET', '/v1/gateways');
    for (const gateway of gateways.data)
      await call('PATCH', `/v1/gateways/${gateway.id}`, { webhook_secret_env: WEBHOOK_SECRET_ENV });
    await call('GET', '/v1/gateway-logs?limit=200');
    const keys = await call('GET', '/v1/api-keys?limit=200');
    for (const item of keys.data) if (item.name === 'test admin') pool.exclude(item.id);
  });

  afterAll(async () => {
    await h?.close();
    delete process.env[WEBHOOK_SECRET_ENV];
  });

  /** A job run started by a request goes on in the background: wait for it, so its writes are not a later request's. */
  async function waitForRun(id: string): Promise<void> {
    for (let i = 0; i < 1500; i += 1) {
      const run = await h.request('GET', `/v1/job-runs/${id}`, undefined, {}, key);
      if (run.body?.status !== 'running') return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`job run ${id} still running after 30 s`);
  }

  /** The key's last_used_at is written after a use (at most once a minute): wait until that has happened. */
  async function waitForKeyUse(): Promise<void> {
    const has = await sql<{
      n: number;
    }>`select count(*)::int as n from information_schema.columns where table_name = 'api_keys' and column_name = 'last_used_at'`.execute(
      h.deps.db,
    );
    if (has.rows[0]?.n === 0) return;
    for (let i = 0; i < 1500; i += 1) {
      const used = await sql<{
        n: number;
      }>`select count(*)::int as n from api_keys where last_used_at is not null`.execute(h.deps.db);
      if ((used.rows[0]?.n ?? 0) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error("the fuzz key's last_used_at was never written");
  }

  it(`answers ${RUNS} generated requests: no 5xx but a dependency's 503, every 4xx in the error shape, refusals writing nothing`, async () => {
    const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : DEFAULT_SEED;
    if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, not '${process.env.FUZZ_SEED}'`);
    console.log(`fuzz: seed ${seed} (FUZZ_SEED=${seed} repeats this run)`);
    const openapi = await h.request('GET', '/openapi.json', undefined, {}, null);
    const operations = [...operationsOf(openapi.body), ...UNKNOWN_ROUTES];
    const context = { jobNames: JOB_NAMES, apiBase: h.emulator?.url ?? 'http://127.0.0.1:1' };
    const requests = fc.oneof(...operations.map((op) => requestsFor(op, pool, context, key)));

    await waitForKeyUse();
    const digest = await digestQuery(h.deps.db, NOT_DIGESTED);
    let before: Digest = await digest();
    const counts = new Map<string, number>();
    const statuses = new Map<number, number>();
    const started = performance.now();

    await fc.assert(
      fc.asyncProperty(requests, async (request: FuzzRequest) => {
        counts.set(request.operation, (counts.get(request.operation) ?? 0) + 1);
        // Every write gets its own instant, so an updated_at that moves shows in the digest.
        h.clock.advance(1);
        const response = await h.app.inject({
          method: request.method as 'GET',
          url: request.url,
          headers: request.headers,
          ...(request.payload === undefined ? {} : { payload: request.payload }),
        });
        const status = response.statusCode;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const where = `${describeRequest(request)}\nanswer: ${status} ${response.body.slice(0, 500)}`;
        let body: any;
        try {
          body = response.body === '' ? undefined : JSON.parse(response.body);
        } catch {
          body = undefined;
        }
        if (status >= 500 && !(status === 503 && DEPENDENCY_UNAVAILABLE.has(body?.error?.code)))
          throw new Error(`a 5xx:\n${where}`);
        if (status >= 400) {
          const error = body?.error;
          if (typeof error?.type !== 'string' || typeof error.code !== 'string' || typeof error.message !== 'string') {
            throw new Error(`a 4xx without the error shape:\n${where}`);
          }
          const after = await digest();
          const changed = changedTables(before, after);
          const allowed =
            (isGatewayRefusal(body) && changed.every((table) => GATEWAY_REFUSAL_TABLES.has(table))) ||
            (isSignInRefusal(body) && changed.every((table) => SIGN_IN_REFUSAL_TABLES.has(table)));
          if (changed.length > 0 && !allowed) {
            throw new Error(
              `a refused request changed ${changed.join(', ')}:\n${where}\n${changed.map((t) => `${t}: ${JSON.stringify(before[t])} -> ${JSON.stringify(after[t])}`).join('\n')}`,
            );
          }
          before = after;
          return;
        }
        collectIds(body, pool);
        if (status === 202 && body?.object === 'job_run') await waitForRun(body.id);
        before = await digest();
      }),
      { numRuns: RUNS, seed, endOnFailure: true },
    );

    const seconds = (performance.now() - started) / 1000;
    const byStatus = [...statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ');
    console.log(`fuzz: ${RUNS} requests over ${operations.length} operations in ${seconds.toFixed(1)} s (${byStatus})`);
    expect(operations.filter((op) => !counts.has(op.name)).map((op) => op.name)).toEqual([]);
  }, 900_000);
});
