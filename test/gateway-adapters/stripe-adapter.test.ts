// The adapter against a tiny node:http server answering CANNED Stripe responses (no Stripe behaviour; the
// stateful double is the emulator, see stripe-contract.test.ts). Pins: resends only `retryable` outcomes, with
// the same idempotency key and honouring Retry-After; no resend of a 500; a connection that never opened is
// retryable; "already captured / canceled" is re-read and reported as it is; bad amounts never reach Stripe;
// every HTTP request takes its own rate-limit turn and is written in the same step as the turn is used.
import { createServer, type Server } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RateLimiter, unlimited } from '../../src/gateway-adapters/stripe/rate-limiter.js';
import { StripeGateway } from '../../src/gateway-adapters/stripe/stripe-gateway.js';

interface Canned {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Destroy the connection instead of answering (the client sees ECONNRESET). */
  reset?: boolean;
}

interface Recorded {
  method: string;
  path: string;
  idempotencyKey: string | null;
  body: string;
}

interface CannedServer {
  url: string;
  requests: Recorded[];
  reply(...responses: Canned[]): void;
  close(): Promise<void>;
}

async function startCanned(): Promise<CannedServer> {
  const queue: Canned[] = [];
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const key = req.headers['idempotency-key'];
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        idempotencyKey: typeof key === 'string' ? key : null,
        body,
      });
      const next = queue.shift() ?? {
        status: 500,
        body: { error: { type: 'api_error', message: 'no canned response left' } },
      };
      if (next.reset) {
        req.socket.destroy();
        return;
      }
      res.writeHead(next.status, {
        'Content-Type': 'application/json',
        'Request-Id': `req_${requests.length}`,
        ...next.headers,
      });
      res.end(JSON.stringify(next.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply: (...responses) => void queue.push(...responses),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const stripeError = (status: number, error: Record<string, unknown>, headers?: Record<string, string>): Canned => ({
  status,
  body: { error },
  ...(headers ? { headers } : {}),
});

/** A PaymentIntent with an expanded latest charge and balance transaction (wire amounts, USD unless given). */
function paymentIntent(overrides: {
  status: string;
  amount?: number;
  capturable?: number;
  captured?: number;
  refunded?: number;
  chargeStatus?: string;
  captureMethod?: string;
  currency?: string;
  captureBefore?: number;
}): Record<string, unknown> {
  const amount = overrides.amount ?? 1000;
  const currency = overrides.currency ?? 'usd';
  const captured = overrides.captured ?? 0;
  return {
    id: 'pi_1',
    object: 'payment_intent',
    amount,
    amount_capturable: overrides.capturable ?? 0,
    amount_received: captured,
    capture_method: overrides.captureMethod ?? 'manual',
    cancellation_reason: null,
    created: 1_700_000_000,
    currency,
    customer: null,
    last_payment_error: null,
    metadata: { settle_transaction_id: 'txn_1' },
    next_action: null,
    payment_method: 'pm_1',
    status: overrides.status,
    latest_charge: {
      id: 'ch_1',
      object: 'charge',
      amount,
      amount_captured: captured,
      amount_refunded: overrides.refunded ?? 0,
      captured: captured > 0,
      currency,
      status: overrides.chargeStatus ?? 'succeeded',
      failure_code: null,
      failure_message: null,
      payment_method_details: { type: 'card', card: { capture_before: overrides.captureBefore ?? 1_700_600_000 } },
      balance_transaction:
        captured > 0
          ? {
              id: 'txn_bt_1',
              object: 'balance_transaction',
              amount: captured,
              fee: Math.round(captured * 0.029) + 30,
              net: captured - (Math.round(captured * 0.029) + 30),
              currency,
              exchange_rate: null,
              status: 'pending',
              available_on: 1_700_172_800,
              created: 1_700_000_000,
              type: 'charge',
              reporting_category: 'charge',
              source: 'ch_1',
            }
          : null,
    },
  };
}

let canned: CannedServer;
let slept: number[];
const gateway = (apiBase = canned.url, maxRetries = 2): StripeGateway =>
  new StripeGateway({
    secretKey: 'sk_test_canned',
    apiBase,
    timeoutMs: 5000,
    rateLimitPerSecond: 100,
    maxRetries,
    rateLimiter: unlimited,
    sleep: async (ms) => void slept.push(ms),
  });
const authorizeRequest = {
  idempotencyKey: 'idem_a1',
  transactionId: 'txn_1',
  amount: 1000,
  currency: 'USD',
  paymentMethod: 'pm_card_visa',
};

beforeAll(async () => {
  canned = await startCanned();
});
afterAll(() => canned.close());
beforeEach(() => {
  canned.requests.length = 0;
  slept = [];
});

describe('StripeGateway retries (canned responses)', () => {
  it('resends a 429 with the SAME idempotency key after Retry-After, then succeeds', async () => {
    canned.reply(
      stripeError(
        429,
        { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests' },
        { 'Retry-After': '1' },
      ),
      { status: 200, body: paymentIntent({ status: 'requires_capture', capturable: 1000 }) },
    );
    const outcome = await gateway().authorize(authorizeRequest);
    expect(outcome.kind).toBe('succeeded');
    expect(canned.requests.map((r) => r.idempotencyKey)).toEqual(['idem_a1', 'idem_a1']);
    expect(slept).toEqual([1000]);
  });

  it('gives up after maxRetries and reports retryable with a backoff hint', async () => {
    const limited = stripeError(429, { type: 'invalid_request_error', message: 'Too many requests' });
    canned.reply(limited, limited, limited);
    const outcome = await gateway().authorize(authorizeRequest);
    expect(outcome).toMatchObject({ kind: 'retryable', retryAfterMs: 2000 });
    expect(canned.requests).toHaveLength(3);
    expect(new Set(canned.requests.map((r) => r.idempotencyKey))).toEqual(new Set(['idem_a1']));
    expect(slept).toEqual([500, 1000]);
  });

  it('never resends after a 500: the outcome is unknown', async () => {
    canned.reply(stripeError(500, { type: 'api_error', message: 'Something went wrong' }));
    const outcome = await gateway().authorize(authorizeRequest);
    expect(outcome).toMatchObject({ kind: 'unknown', error: { http_status: 500, type: 'api_error' } });
    expect(canned.requests).toHaveLength(1);
  });

  it('a refused connection (nothing sent) is retryable and resent with backoff', async () => {
    const closed = await startCanned();
    const url = closed.url;
    await closed.close();
    const outcome = await gateway(url, 1).authorize(authorizeRequest);
    expect(outcome).toMatchObject({ kind: 'retryable', error: { code: 'ECONNREFUSED' } });
    expect(slept).toEqual([500]);
  });
});

describe('StripeGateway rate limit turns (canned responses)', () => {
  /** A limiter whose turns write what happens to `events`; `lapse` turns say they lapsed at use. */
  function tracingLimiter(events: string[], lapse = 0): RateLimiter {
    let lapsing = lapse;
    return {
      acquire: async () => {
        events.push('turn');
        const lapsed = lapsing > 0;
        lapsing -= 1;
        return {
          use: () => {
            events.push(lapsed ? 'lapsed' : 'use');
            // Anything queued at the use, however small, must come after the bytes left.
            if (!lapsed) queueMicrotask(() => events.push('microtask'));
            return !lapsed;
          },
          giveBack: () => void events.push('give back'),
        };
      },
    };
  }
  const tracedGateway = (limiter: RateLimiter, maxRetries = 2): StripeGateway =>
    new StripeGateway({
      secretKey: 'sk_test_canned',
      apiBase: canned.url,
      timeoutMs: 5000,
      rateLimitPerSecond: 100,
      maxRetries,
      rateLimiter: limiter,
      sleep: async (ms) => void slept.push(ms),
    });
  /** Records 'write' when a socket writes a request to the canned server (its request line). */
  function traceWrites(events: string[]): () => void {
    const original = Socket.prototype.write;
    const spy = vi.spyOn(Socket.prototype, 'write').mockImplementation(function (this: Socket, ...args: unknown[]) {
      const chunk = args[0];
      if (
        (typeof chunk === 'string' || Buffer.isBuffer(chunk)) &&
        /^(GET|POST) \/v1\//.test(chunk.toString().slice(0, 16))
      )
        events.push('write');
      return Reflect.apply(original, this, args) as boolean;
    });
    return () => spy.mockRestore();
  }

  it('each HTTP request is written in the same synchronous step as its turn is used, before any microtask', async () => {
    const events: string[] = [];
    const restore = traceWrites(events);
    try {
      canned.reply(
        stripeError(429, { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests' }),
        { status: 200, body: paymentIntent({ status: 'requires_capture', capturable: 1000 }) },
      );
      const outcome = await tracedGateway(tracingLimiter(events)).authorize(authorizeRequest);
      expect(outcome.kind).toBe('succeeded');
    } finally {
      restore();
    }
    expect(events).toEqual(['turn', 'use', 'write', 'microtask', 'turn', 'use', 'write', 'microtask']);
    expect(canned.requests).toHaveLength(2);
  });

  it('a turn that lapsed before the write sends nothing on it: a new turn is taken', async () => {
    const events: string[] = [];
    const restore = traceWrites(events);
    try {
      canned.reply({ status: 200, body: paymentIntent({ status: 'requires_capture', capturable: 1000 }) });
      const outcome = await tracedGateway(tracingLimiter(events, 2)).authorize(authorizeRequest);
      expect(outcome.kind).toBe('succeeded');
    } finally {
      restore();
    }
    expect(events).toEqual(['turn', 'lapsed', 'turn', 'lapsed', 'turn', 'use', 'write', 'microtask']);
    expect(canned.requests).toHaveLength(1);
  });

  it("the SDK's own resend of a reset connection takes a turn too", async () => {
    const events: string[] = [];
    canned.reply(
      { status: 0, body: null, reset: true },
      { status: 200, body: paymentIntent({ status: 'requires_capture', capturable: 1000 }) },
    );
    const outcome = await tracedGateway(tracingLimiter(events)).authorize(authorizeRequest);
    expect(outcome.kind).toBe('succeeded');
    expect(canned.requests).toHaveLength(2);
    expect(events.filter((e) => e === 'use')).toHaveLength(2);
  });

  it('a failing limiter fails the call with its own error and sends nothing', async () => {
    const broken = new Error('rate_limit_grants: connection terminated');
    const outcome = tracedGateway({ acquire: () => Promise.reject(broken) }).authorize(authorizeRequest);
    await expect(outcome).rejects.toBe(broken);
    expect(canned.requests).toHaveLength(0);
  });
});

describe('StripeGateway state and amount handling (canned responses)', () => {
  it('capture of an already captured intent re-reads it and reports success with the real amounts', async () => {
    canned.reply(
      stripeError(400, {
        type: 'invalid_request_error',
        code: 'payment_intent_unexpected_state',
        message: 'This PaymentIntent has already been captured.',
      }),
      { status: 200, body: paymentIntent({ status: 'succeeded', captured: 600, refunded: 400 }) },
    );
    const outcome = await gateway().capture({
      idempotencyKey: 'idem_c1',
      transactionId: 'txn_1',
      paymentIntentId: 'pi_1',
      currency: 'USD',
      amount: 600,
    });
    expect(outcome).toMatchObject({
      kind: 'succeeded',
      result: { status: 'succeeded', captured_amount: 600, released_amount: 400, refunded_amount: 0 },
    });
    expect(canned.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'POST /v1/payment_intents/pi_1/capture',
      'GET /v1/payment_intents/pi_1',
    ]);
  });

  it('cancel of an already canceled intent is success; of a captured one it is invalid_request with the intent', async () => {
    const unexpected = stripeError(400, {
      type: 'invalid_request_error',
      code: 'payment_intent_unexpected_state',
      message: 'state',
    });
    canned.reply(unexpected, { status: 200, body: paymentIntent({ status: 'canceled', refunded: 1000 }) });
    const released = await gateway().cancel({
      idempotencyKey: 'idem_x1',
      transactionId: 'txn_1',
      paymentIntentId: 'pi_1',
    });
    expect(released).toMatchObject({
      kind: 'succeeded',
      result: { status: 'canceled', released_amount: 1000, refunded_amount: 0 },
    });

    canned.reply(unexpected, { status: 200, body: paymentIntent({ status: 'succeeded', captured: 1000 }) });
    const late = await gateway().cancel({ idempotencyKey: 'idem_x2', transactionId: 'txn_1', paymentIntentId: 'pi_1' });
    expect(late).toMatchObject({
      kind: 'invalid_request',
      error: { code: 'payment_intent_unexpected_state' },
      result: { status: 'succeeded' },
    });
  });

  it('an amount Stripe would refuse is invalid_request without any request', async () => {
    const tooSmall = await gateway().authorize({ ...authorizeRequest, amount: 49 });
    expect(tooSmall).toMatchObject({ kind: 'invalid_request', error: { code: 'amount_too_small', param: 'amount' } });
    const kwd = await gateway().charge({ ...authorizeRequest, currency: 'KWD', amount: 1005 });
    expect(kwd).toMatchObject({ kind: 'invalid_request', error: { code: 'invalid_amount' } });
    const refund = await gateway().refund({
      idempotencyKey: 'k',
      transactionId: 't',
      paymentIntentId: 'pi_1',
      currency: 'USD',
      amount: 0,
    });
    expect(refund.kind).toBe('invalid_request');
    expect(canned.requests).toHaveLength(0);
  });

  it('sends wire amounts: 5 ISK goes out as 500 and comes back as 5', async () => {
    canned.reply({
      status: 200,
      body: paymentIntent({ status: 'requires_capture', amount: 500, capturable: 500, currency: 'isk' }),
    });
    const outcome = await gateway().authorize({ ...authorizeRequest, currency: 'ISK', amount: 5 });
    expect(new URLSearchParams(canned.requests[0]?.body).get('amount')).toBe('500');
    expect(outcome).toMatchObject({ kind: 'succeeded', result: { amount: 5, authorized_amount: 5, currency: 'ISK' } });
  });

  it('an intent status Settle does not know is an unknown outcome, never a success', async () => {
    canned.reply({ status: 200, body: paymentIntent({ status: 'requires_reauthorization' }) });
    const outcome = await gateway().retrieve('pi_1');
    expect(outcome).toMatchObject({ kind: 'unknown', error: { code: 'unrecognized_status' } });
  });
});
