// The HTTP client every Stripe request leaves through (the SDK's `httpClient`): Node's http/https with kept-alive
// connections, like the SDK's own client, but a request takes its rate-limit turn only once its connection is open,
// and the turn is checked in the same synchronous step that writes the request's bytes.
//
// Why not the SDK's client behind a limiter: with it, the turn is taken before the request is handed over, and the
// bytes leave later: on a kept-alive connection after the rest of the current promise work (the write is queued on
// process.nextTick, which runs only once the microtask queue is empty), and on a new connection after the TCP (and
// TLS) handshake, which needs the event loop. On a busy 2-vCPU machine that was up to 118 ms and 250 ms (docs/
// PERFORMANCE.md), so requests that the limiter spaced a second apart could reach the gateway in the same second.
//
// What happens to one request:
//   1. take a turn (rate-limiter.ts); a limiter failure fails the request before anything is opened
//      (RateLimiterFailure);
//   2. open the request: a kept-alive connection from the agent, or a new one, waited for until connected (for
//      https, until the TLS handshake is done); an error or `timeout` here means nothing was written: the error is
//      marked NOT_SENT (classify-error.ts then knows the request never left);
//   3. in one synchronous step: the connection is still usable and `turn.use()` says the turn is still valid, then
//      `req.end(body)` writes headers and body to the socket at once. A lapsed turn (it was handed out too long
//      ago, e.g. while a new connection opened) or a connection closed meanwhile (the server dropped an idle one) means
//      nothing is written on that turn: it is given back, a new connection is opened if needed, and a new turn taken;
//   4. the SDK's `timeout` then runs from the write; the answer is read as the SDK's own client reads it.
//
// Where a connection may go (gateway-adapters/host-policy.ts): before it opens, an IP literal is checked against the
// gateway's ConnectPolicy, and a host name's lookup goes through the policy (every address it returns); once
// connected, the socket's remote address is checked again. A refusal fails the request as NOT_SENT with a
// HostRefusedError (stripe-client.ts makes it a `configuration` outcome): no byte of the request is written.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import Stripe from 'stripe';
import {
  canonicalHost,
  checkLiteral,
  type ConnectGuard,
  DEFAULT_CONNECT_GUARD,
  guardedLookup,
  remoteRefusal,
} from '../host-policy.js';
import { endpointOf, type RateLimiter, type RateLimitTurn } from './rate-limiter.js';

/** On an error raised before any byte of the request was written (the request never left this machine). */
export const NOT_SENT = Symbol.for('settle.stripe.requestNotSent');
/** On the answer, and on an error raised after the write: performance.now() right after the request was written. */
export const SENT_AT = Symbol.for('settle.stripe.requestSentAt');

/** True when `error` was raised before the request was written. */
export function wasNotSent(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[NOT_SENT] === true;
}

/** When the request was written (performance.now()), if `value` is an answer or error that says so. */
export function sentAtOf(value: unknown): number | undefined {
  const at = typeof value === 'object' && value !== null ? (value as Record<symbol, unknown>)[SENT_AT] : undefined;
  return typeof at === 'number' ? at : undefined;
}

function mark<T>(error: T, key: symbol, value: unknown): T {
  if (typeof error === 'object' && error !== null && Object.isExtensible(error))
    Object.defineProperty(error, key, { value, enumerable: false });
  return error;
}

/** The rate limiter could not hand out a turn (e.g. its database failed): the request was never sent. */
export class RateLimiterFailure extends Error {
  constructor(override readonly cause: unknown) {
    super(
      `the gateway rate limiter failed, nothing was sent: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'RateLimiterFailure';
  }
}

const DEFAULT_AGENTS = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

type RequestHeaders = Parameters<Stripe.HttpClient['makeRequest']>[4];

interface Target {
  host: string;
  port: string;
  path: string;
  method: string;
  headers: RequestHeaders;
  secure: boolean;
}

/** A request whose connection is open and which has written nothing yet. */
class OpenRequest {
  readonly #req: http.ClientRequest;
  readonly #socket: Socket;
  readonly #failure: () => Error | null;

  constructor(req: http.ClientRequest, socket: Socket, failure: () => Error | null) {
    this.#req = req;
    this.#socket = socket;
    this.#failure = failure;
  }

  /** The connection closed or failed while the request waited for its turn. */
  dead(): boolean {
    return this.#failure() !== null || this.#req.destroyed || this.#socket.destroyed || !this.#socket.writable;
  }

  abandon(): void {
    if (!this.#req.destroyed) this.#req.destroy();
  }

  /** Writes the request now (synchronously: the socket is connected and attached) and waits for the answer. */
  send(body: string, timeoutMs: number): Promise<PacedResponse> {
    const req = this.#req;
    let timedOut = false;
    const sentAt = performance.now();
    const answer = new Promise<PacedResponse>((resolve, reject) => {
      req.on('error', (error) => reject(mark(error, SENT_AT, sentAt)));
      req.once('response', (res) => resolve(new PacedResponse(res, sentAt, () => timedOut)));
    });
    req.setTimeout(timeoutMs, () => {
      timedOut = true;
      req.destroy(Stripe.HttpClient.makeTimeoutError());
    });
    req.end(body);
    return answer;
  }
}

/** Opens the request and resolves once its connection can take the bytes; nothing is written. */
function openRequest(
  target: Target,
  agents: typeof DEFAULT_AGENTS,
  timeoutMs: number,
  guard: ConnectGuard,
): Promise<OpenRequest> {
  let host: string;
  try {
    host = canonicalHost(target.host);
    checkLiteral(guard.policy, host); // Node makes no lookup for an IP literal
  } catch (error) {
    return Promise.reject(mark(error, NOT_SENT, true));
  }
  return new Promise<OpenRequest>((resolve, reject) => {
    const lookup = guardedLookup(guard);
    const options = {
      host,
      port: target.port,
      path: target.path,
      method: target.method,
      headers: target.headers,
      lookup,
    };
    const req = target.secure
      ? https.request({ ...options, agent: agents.https })
      : http.request({ ...options, agent: agents.http });
    let failure: Error | null = null;
    let opened = false;
    const timer = setTimeout(() => req.destroy(Stripe.HttpClient.makeTimeoutError()), timeoutMs);
    req.on('error', (error) => {
      failure = error;
      if (opened) return;
      clearTimeout(timer);
      reject(mark(error, NOT_SENT, true));
    });
    req.once('socket', (socket: Socket) => {
      const ready = () => {
        if (failure !== null) return;
        // Where the socket actually is (a kept-alive one was opened for this host by any client sharing the agent).
        const refused = remoteRefusal(guard.policy, host, socket.remoteAddress);
        if (refused !== null) {
          req.destroy(refused);
          return;
        }
        clearTimeout(timer);
        opened = true;
        resolve(new OpenRequest(req, socket, () => failure));
      };
      // A kept-alive socket is connected (and past its TLS handshake); a new one is not yet: the 'socket' event
      // comes on the next tick, before any I/O.
      if (req.reusedSocket && !socket.connecting) ready();
      else socket.once(target.secure ? 'secureConnect' : 'connect', ready);
    });
  });
}

/**
 * The answer, read as the SDK's own Node client reads it (status, headers, a JSON body or a stream). Its fields are
 * not #private: the gateway log wraps answers with Object.create (exchange.ts), and a #private field cannot be read
 * through such a wrapper.
 */
class PacedResponse extends Stripe.HttpClientResponse {
  private readonly res: http.IncomingMessage;
  private readonly timedOut: () => boolean;
  readonly [SENT_AT]: number;

  constructor(res: http.IncomingMessage, sentAt: number, timedOut: () => boolean) {
    super(res.statusCode ?? 0, res.headers as ConstructorParameters<typeof Stripe.HttpClientResponse>[1]);
    this.res = res;
    this.timedOut = timedOut;
    this[SENT_AT] = sentAt;
  }

  override getRawResponse(): http.IncomingMessage {
    return this.res;
  }

  override toStream(streamCompleteCallback: () => void): http.IncomingMessage {
    this.res.once('end', () => streamCompleteCallback());
    return this.res;
  }

  /** The body as JSON; a body cut off (closed early, stalled past the timeout) is an HttpClientResponseBodyError. */
  override toJSON(): Promise<unknown> {
    const res = this.res;
    return new Promise((resolve, reject) => {
      let text = '';
      const bodyError = (cause: unknown) =>
        mark(
          Stripe.HttpClient.makeResponseBodyError(this.timedOut() ? Stripe.HttpClient.makeTimeoutError() : cause),
          SENT_AT,
          this[SENT_AT],
        );
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.once('error', (error) => reject(bodyError(error)));
      res.once('close', () => {
        if (!res.complete) reject(bodyError(null));
      });
      res.once('end', () => {
        try {
          resolve(this._parseResponseBody(text));
        } catch (error) {
          reject(error);
        }
      });
    });
  }
}

export class PacedHttpClient extends Stripe.HttpClient {
  readonly #limiter: RateLimiter;
  readonly #agents: typeof DEFAULT_AGENTS;
  readonly #guard: ConnectGuard;

  /** `guard`: where connections may go (default: loopback and api.stripe.com, resolved by dns.lookup). */
  constructor(
    limiter: RateLimiter,
    agents: typeof DEFAULT_AGENTS = DEFAULT_AGENTS,
    guard: ConnectGuard = DEFAULT_CONNECT_GUARD,
  ) {
    super();
    this.#limiter = limiter;
    this.#agents = agents;
    this.#guard = guard;
  }

  override getClientName(): string {
    return 'node';
  }

  override async makeRequest(
    host: string,
    port: string,
    path: string,
    method: string,
    headers: RequestHeaders,
    requestData: string,
    protocol: string,
    timeout: number,
  ): Promise<PacedResponse> {
    const target: Target = { host, port, path, method, headers, secure: protocol !== 'http' };
    const endpoint = endpointOf(method, path);
    let turn = await this.#turn(endpoint);
    let open: OpenRequest | null = null;
    try {
      for (;;) {
        if (open === null || open.dead()) {
          open?.abandon();
          open = null;
          open = await openRequest(target, this.#agents, timeout, this.#guard);
        }
        if (open.dead()) turn.giveBack();
        // From the check to the write nothing else runs: the bytes leave while the turn is valid. (A lapsed turn
        // was given back by use().)
        else if (turn.use()) return await open.send(requestData, timeout);
        turn = await this.#turn(endpoint);
      }
    } catch (error) {
      turn.giveBack();
      open?.abandon();
      throw error;
    }
  }

  /** A turn for the request's endpoint (G5: the gateway's limit and, when it has one, the endpoint's). */
  async #turn(endpoint: string): Promise<RateLimitTurn> {
    try {
      return await this.#limiter.acquire(endpoint);
    } catch (error) {
      throw new RateLimiterFailure(error);
    }
  }
}
