// The transport every Stripe request leaves through (paced-http-client.ts), against a plain node:http server: the
// turn is used only once the connection is open and in the same step as the write; a turn that lapsed, or a
// connection that closed while waiting, sends nothing; errors before the write are marked as never sent; the gateway
// log's latency starts at the write.
import http from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { recordingHttpClient, type StripeExchange } from '../../src/gateway-adapters/stripe/exchange.js';
import {
  PacedHttpClient,
  RateLimiterFailure,
  SENT_AT,
  sentAtOf,
  wasNotSent,
} from '../../src/gateway-adapters/stripe/paced-http-client.js';
import type { RateLimiter } from '../../src/gateway-adapters/stripe/rate-limiter.js';

interface Server {
  port: number;
  requests: string[];
  connections: number;
  /** Closes every connection from the server's side, as a server dropping idle kept-alive connections does. */
  dropConnections(): void;
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/** A server answering `{"ok":true}`, or never answering when `silent`. */
async function startServer(options: { silent?: boolean } = {}): Promise<Server> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url} ${body}`);
      if (options.silent) return;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  const handle: Server = {
    port: 0,
    requests,
    connections: 0,
    dropConnections: () => server.closeAllConnections(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  server.on('connection', () => (handle.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  handle.port = (server.address() as AddressInfo).port;
  servers.push(handle);
  return handle;
}

/**
 * A limiter that logs to `events`; the turns listed in `lapsing` (0-based) say they lapsed; `waitMs[n]` delays turn
 * n; `before(n)` runs before turn n is handed out.
 */
function loggingLimiter(
  events: string[],
  options: { lapsing?: number[]; waitMs?: number[]; before?: (n: number) => void } = {},
): RateLimiter {
  let handedOut = 0;
  return {
    acquire: async () => {
      const n = handedOut;
      handedOut += 1;
      options.before?.(n);
      const wait = options.waitMs?.[n] ?? 0;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      events.push(`turn ${n}`);
      let state: 'held' | 'used' | 'returned' = 'held';
      return {
        use: () => {
          if (options.lapsing?.includes(n)) {
            state = 'returned';
            events.push(`lapsed ${n}`);
            return false;
          }
          state = 'used';
          events.push(`use ${n}`);
          return true;
        },
        giveBack: () => {
          if (state !== 'held') return;
          state = 'returned';
          events.push(`give back ${n}`);
        },
      };
    },
  };
}

const fresh = () => ({ http: new http.Agent({ keepAlive: true }), https: undefined as never });

function post(client: PacedHttpClient, port: number, body = 'amount=1000', timeoutMs = 5000) {
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) };
  return client.makeRequest('127.0.0.1', String(port), '/v1/payment_intents', 'POST', headers, body, 'http', timeoutMs);
}

describe('PacedHttpClient', () => {
  it('opens a new connection after the turn and writes the request in the same step as the turn is used', async () => {
    const server = await startServer();
    const events: string[] = [];
    const original = Socket.prototype.write;
    Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
      // A socket still connecting would only buffer the bytes: they must be written to an open connection.
      const chunk = args[0];
      if ((typeof chunk === 'string' || Buffer.isBuffer(chunk)) && chunk.toString().startsWith('POST /v1/')) {
        events.push(this.connecting ? 'write while connecting' : 'write');
      }
      return Reflect.apply(original, this, args) as boolean;
    };
    try {
      const limiter = loggingLimiter(events);
      const checking: RateLimiter = {
        acquire: async () => {
          const turn = await limiter.acquire();
          return {
            use: () => {
              const used = turn.use();
              // Anything queued at the use, however small, must come after the bytes were handed to the socket.
              queueMicrotask(() => events.push('microtask'));
              return used;
            },
            giveBack: () => turn.giveBack(),
          };
        },
      };
      const response = await post(new PacedHttpClient(checking, fresh()), server.port);
      expect(response.getStatusCode()).toBe(200);
      expect(await response.toJSON()).toEqual({ ok: true });
    } finally {
      Socket.prototype.write = original;
    }
    expect(events).toEqual(['turn 0', 'use 0', 'write', 'microtask']);
    expect(server.requests).toEqual(['POST /v1/payment_intents amount=1000']);
  });

  it('sends nothing on a turn that lapsed while the connection opened: takes another, then writes once', async () => {
    const server = await startServer();
    const events: string[] = [];
    const response = await post(new PacedHttpClient(loggingLimiter(events, { lapsing: [0, 1] }), fresh()), server.port);
    expect(response.getStatusCode()).toBe(200);
    expect(events).toEqual(['turn 0', 'lapsed 0', 'turn 1', 'lapsed 1', 'turn 2', 'use 2']);
    expect(server.requests).toHaveLength(1);
    expect(server.connections).toBe(1);
  });

  it('reuses a kept-alive connection; one the server closed while the request waited is replaced, and nothing is lost', async () => {
    const server = await startServer();
    const events: string[] = [];
    // Turn 1 (the second request's first) lapses, with the kept-alive connection already taken; before turn 2 the
    // server drops that connection, and turn 2 comes 100 ms later.
    const limiter = loggingLimiter(events, {
      lapsing: [1],
      waitMs: [0, 0, 100],
      before: (n) => n === 2 && server.dropConnections(),
    });
    const client = new PacedHttpClient(limiter, fresh());
    await (await post(client, server.port, 'n=1')).toJSON();
    const second = await post(client, server.port, 'n=2');
    expect(await second.toJSON()).toEqual({ ok: true });
    expect(events).toEqual(['turn 0', 'use 0', 'turn 1', 'lapsed 1', 'turn 2', 'use 2']);
    expect(server.requests).toEqual(['POST /v1/payment_intents n=1', 'POST /v1/payment_intents n=2']);
    expect(server.connections).toBe(2);
    // A third request soon after (once the answer's connection went back to the agent) reuses the connection.
    await new Promise((resolve) => setImmediate(resolve));
    await (await post(client, server.port, 'n=3')).toJSON();
    expect(server.connections).toBe(2);
  });

  it('a connection that does not open in time fails as never sent (ETIMEDOUT), and its turn is given back', async () => {
    const events: string[] = [];
    const agent = new http.Agent({ keepAlive: true });
    // A socket that never connects: 'connect' never comes.
    (agent as unknown as { createConnection: () => Socket }).createConnection = () => new Socket();
    const failure = await post(
      new PacedHttpClient(loggingLimiter(events), { http: agent, https: undefined as never }),
      9,
      'x=1',
      100,
    ).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'ETIMEDOUT' });
    expect(wasNotSent(failure)).toBe(true);
    expect(sentAtOf(failure)).toBeUndefined();
    expect(events).toEqual(['turn 0', 'give back 0']);
  });

  it('a refused connection fails as never sent, and its turn is given back', async () => {
    const server = await startServer();
    const port = server.port;
    await server.close();
    servers.splice(0);
    const events: string[] = [];
    const failure = await post(new PacedHttpClient(loggingLimiter(events), fresh()), port).catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'ECONNREFUSED' });
    expect(wasNotSent(failure)).toBe(true);
    expect(events).toEqual(['turn 0', 'give back 0']);
  });

  it('a limiter failure fails the request before any connection opens', async () => {
    const server = await startServer();
    const broken = new Error('rate_limit_grants: connection terminated');
    const failure = await post(
      new PacedHttpClient({ acquire: () => Promise.reject(broken) }, fresh()),
      server.port,
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RateLimiterFailure);
    expect((failure as RateLimiterFailure).cause).toBe(broken);
    expect(server.connections).toBe(0);
  });

  it('an answer that does not come within the timeout after the write is ETIMEDOUT, not marked as never sent', async () => {
    const server = await startServer({ silent: true });
    const failure = await post(new PacedHttpClient(loggingLimiter([]), fresh()), server.port, 'x=1', 150).catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'ETIMEDOUT' });
    expect(wasNotSent(failure)).toBe(false);
    expect(typeof sentAtOf(failure)).toBe('number');
    expect(server.requests).toEqual(['POST /v1/payment_intents x=1']);
  });

  it("the gateway log's latency starts at the write, not while the request waited for its turn", async () => {
    const server = await startServer();
    const exchanges: StripeExchange[] = [];
    // Only performance.now() is faked (timers and sockets are real): the turn comes 600 fake ms after the request
    // was handed over, and no fake time passes after that, however long the real steps take.
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const limiter = loggingLimiter([], { before: () => vi.advanceTimersByTime(600) });
      const client = recordingHttpClient(
        new PacedHttpClient(limiter, fresh()),
        (exchange) => void exchanges.push(exchange),
      );
      const handedOver = performance.now();
      const response = await client.makeRequest(
        '127.0.0.1',
        String(server.port),
        '/v1/payment_intents',
        'POST',
        { 'Content-Length': 3 },
        'a=1',
        'http',
        5000,
      );
      // Read through the log's wrapper, as the SDK reads every answer.
      expect((response.getRawResponse() as http.IncomingMessage).statusCode).toBe(200);
      expect(await response.toJSON()).toEqual({ ok: true });
      expect(exchanges).toHaveLength(1);
      // Written once the turn came; measured from the hand-over the latency would be the 600 ms wait.
      expect((response as unknown as Record<symbol, unknown>)[SENT_AT]).toBe(handedOver + 600);
      expect(exchanges[0]!.latencyMs).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
