// G5 across processes: the per-endpoint limit shared through PostgreSQL. Two Settle processes (here: two gateway
// registries on connection pools of their own, in one test process) call the same gateway; the registry keys each
// endpoint's grants as `<gateway id> <endpoint>`, so together they must stay within the endpoint's limit, while
// another endpoint of the same gateway keeps its own limit and is not held up. Measured where it counts: at the
// emulator, which dates each request on arrival (arrivalThread). Only the invariant (the most requests in any
// one-second window) is asserted, never a duration. Real PostgreSQL only: runs with TEST_DATABASE_URL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, type RequestLogEntry, startEmulator } from '@settle/stripe-emulator';
import { ensureDefaultEmulatorGateway } from '../../src/app/gateway-records.js';
import type { Gateway } from '../../src/app/gateway-port.js';
import { GatewayRegistry } from '../../src/gateway-adapters/registry.js';
import { unlimited } from '../../src/gateway-adapters/stripe/rate-limiter.js';
import { StripeGateway } from '../../src/gateway-adapters/stripe/stripe-gateway.js';
import { createDeps } from '../../src/runtime.js';
import { openDatabase, type OpenDatabase } from '../../src/store/database.js';
import type { GatewayRow } from '../../src/store/schema.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

/** The per-endpoint limit under test; the gateway's own limit is set far above it so that it never binds. */
const ENDPOINT_LIMIT = 4;
const GATEWAY_LIMIT = 100;
const PROCESSES = 2;
/** GETs per process: 16 in all, four windows' worth of the endpoint's limit. */
const GETS_EACH = 8;
/** POSTs per process: 6 in all, more than one window's worth, so their own limit is at work too. */
const POSTS_EACH = 3;

/** The most requests in any window [s, s + windowMs) (a window starting at a request is enough). */
function maxInAnyWindow(arrivals: number[], windowMs = 1000): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i += 1) {
    while (j < sorted.length && (sorted[j] ?? 0) < (sorted[i] ?? 0) + windowMs) j += 1;
    most = Math.max(most, j - i);
  }
  return most;
}

const isGet = (e: RequestLogEntry) => e.method === 'GET' && e.path.startsWith('/v1/payment_intents/');
const isPost = (e: RequestLogEntry) => e.method === 'POST' && e.path.split('?')[0] === '/v1/payment_intents';

describe.skipIf(!process.env.TEST_DATABASE_URL)(
  'the per-endpoint limit shared by two processes on one PostgreSQL database (G5)',
  () => {
    let t: TestDatabase;
    let emulator: Emulator;
    const pools: OpenDatabase[] = [];

    beforeAll(async () => {
      t = await createTestDatabase('postgres');
      emulator = await startEmulator({ arrivalThread: true });
    });
    afterAll(async () => {
      for (const pool of pools) await pool.close();
      await emulator.close();
      await t.drop();
    });

    it(`keeps GETs of different ids within ${ENDPOINT_LIMIT} a second across both, and POSTs are not held up`, async () => {
      const stored = await ensureDefaultEmulatorGateway(createDeps(t.database), { apiBase: emulator.url });
      // The emulator's record has the endpoint limit off (0); a record with it on, as an operator would set it.
      const record: GatewayRow = {
        ...stored,
        rate_limit_per_second: GATEWAY_LIMIT,
        endpoint_rate_limit_per_second: ENDPOINT_LIMIT,
      };

      // The PaymentIntents to read, made beforehand by an adapter without any limit (not measured).
      const setup = new StripeGateway({
        secretKey: 'sk_test_shared_endpoint_limit',
        apiBase: emulator.url,
        timeoutMs: 10_000,
        rateLimitPerSecond: GATEWAY_LIMIT,
        rateLimiter: unlimited,
      });
      const intents: string[] = [];
      for (let i = 0; i < PROCESSES * GETS_EACH; i += 1) {
        const outcome = await setup.authorize({
          amount: 1000 + i,
          currency: 'USD',
          paymentMethod: 'pm_card_visa',
          idempotencyKey: `shared-endpoint-setup-${i}`,
          transactionId: `trx_shared_endpoint_setup_${i}`,
        });
        if (outcome.kind !== 'succeeded') throw new Error(`setup authorize ${i}: ${outcome.kind}`);
        intents.push(outcome.result.refs.payment_intent!);
      }
      expect(new Set(intents).size).toBe(PROCESSES * GETS_EACH);

      // Each "process": a connection pool and a registry of its own, as `createDeps` builds on PostgreSQL.
      const adapters: Gateway[] = [];
      for (let p = 0; p < PROCESSES; p += 1) {
        const pool = await openDatabase({ url: t.url, poolSize: 2 });
        pools.push(pool);
        adapters.push(new GatewayRegistry({ sharedRateLimits: { db: pool.db } }).forRecord(record));
      }

      const before = emulator.controls.requestLog().length;
      // Every GET is queued first, then the POSTs, all at once: the GETs alone keep their endpoint at its limit.
      const gets = adapters.flatMap((gateway, p) =>
        Array.from({ length: GETS_EACH }, (_, i) => gateway.retrieve(intents[p * GETS_EACH + i]!)),
      );
      const posts = adapters.flatMap((gateway, p) =>
        Array.from({ length: POSTS_EACH }, (_, i) =>
          gateway.authorize({
            amount: 2000 + p * POSTS_EACH + i,
            currency: 'USD',
            paymentMethod: 'pm_card_visa',
            idempotencyKey: `shared-endpoint-post-${p}-${i}`,
            transactionId: `trx_shared_endpoint_post_${p}_${i}`,
          }),
        ),
      );
      const outcomes = await Promise.all([...gets, ...posts]);
      expect(outcomes.map((o) => o.kind)).toEqual(outcomes.map(() => 'succeeded'));

      const log = emulator.controls.requestLog().slice(before);
      const getLog = log.filter(isGet);
      const postLog = log.filter(isPost);
      // Nothing else was sent, and every request reached the emulator exactly once (no retries).
      expect(getLog).toHaveLength(PROCESSES * GETS_EACH);
      expect(postLog).toHaveLength(PROCESSES * POSTS_EACH);
      expect(log).toHaveLength(getLog.length + postLog.length);
      expect(new Set(getLog.map((e) => e.path.split('?')[0])).size).toBe(PROCESSES * GETS_EACH);

      const getArrivals = getLog.map((e) => e.at);
      const postArrivals = postLog.map((e) => e.at);
      console.info(
        `shared endpoint limit ${ENDPOINT_LIMIT}/s, ${PROCESSES} processes: max ${maxInAnyWindow(getArrivals)} GETs ` +
          `and ${maxInAnyWindow(postArrivals)} POSTs in any 1-second window, ${maxInAnyWindow([...getArrivals, ...postArrivals])} together`,
      );
      // The invariant, per endpoint, across both processes.
      expect(maxInAnyWindow(getArrivals)).toBeLessThanOrEqual(ENDPOINT_LIMIT);
      expect(maxInAnyWindow(postArrivals)).toBeLessThanOrEqual(ENDPOINT_LIMIT);
      // Not starved: the POSTs are not counted in the GETs' limit, so they went out while the GETs used all of
      // theirs, and some window holds more requests of the two together than one endpoint may send. Were the two
      // counted together (one key for both), no window could (checked: with such a key this fails, 4 together).
      expect(maxInAnyWindow([...getArrivals, ...postArrivals])).toBeGreaterThan(ENDPOINT_LIMIT);
      // And every POST was served while GETs were still being sent: none waited for the GETs to be done.
      expect(Math.max(...postArrivals)).toBeLessThan(Math.max(...getArrivals));
    });
  },
);
