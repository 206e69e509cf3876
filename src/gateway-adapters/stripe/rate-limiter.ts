// Client-side request rate limit per gateway (G5): the turn a request takes before it is written, and
// the per-process limiter (one Settle process per gateway: PGlite). The limiter shared by processes on one
// PostgreSQL database is shared-rate-limiter.ts; both hand out the same kind of turn.
//
// A turn is valid for a short time (its ttl) and is checked at the moment of writing, not when it is handed out:
// paced-http-client.ts takes it, opens (or reuses) the connection, and right before the synchronous write asks
// `use()`. Measured on a busy 2-vCPU machine (docs/PERFORMANCE.md, "Scheduled processing"), the time from a turn
// being handed out to the request's bytes leaving reached 118 ms on a kept-alive connection (the process was busy
// with other promise work, collecting garbage, or kept off the CPU) and 250 ms on a new one (the TCP handshake
// needs the event loop): far longer than any allowance. Checking at the write bounds it by the turn's ttl.
//
// The per-process limiter is a sliding-window log: a turn is handed out only while fewer than `ratePerSecond` turns
// were handed out in the last `window + margin` ms (margin >= ttl). A request starts within [handed out, + ttl), so
// any 1000 ms window of starts holds turns handed out within window + ttl of each other: never more than the rate.
// A token bucket would allow a burst of `capacity` right after a full refill, up to twice the rate across a
// window boundary. Turns given back (never used) stop counting.
//
// Callers are served in arrival order: acquisitions are chained, so a waiter can never be overtaken. Time and
// sleeping are injected so tests can drive the limiter deterministically with a fake clock.

export interface RateLimitTurn {
  /**
   * Call synchronously right before the request is written. true: send now (the turn is spent). false: the turn
   * lapsed before it could be used; nothing may be sent on it, it has been given back, ask for another.
   */
  use(): boolean;
  /** Nothing will be sent on this turn (the connection failed): it stops counting. No-op once used or lapsed. */
  giveBack(): void;
  /** Whether use() would say true now (nothing is spent). Turns without it are taken as valid. */
  valid?(): boolean;
}

export interface RateLimiter {
  /**
   * Resolves with a turn that is valid for a short while; see RateLimitTurn. `endpoint` (endpointOf) names what the
   * request is, for limiters that count per endpoint; the others ignore it.
   */
  acquire(endpoint?: string): Promise<RateLimitTurn>;
}

/** How long a turn stays valid after it was handed out (per-process limiter) or granted (shared limiter). */
export const DEFAULT_TURN_TTL_MS = 25;

/** A turn valid until `expiresAt` (monotonic ms); `onReturn` runs once if it is given back or lapses. */
export class ExpiringTurn implements RateLimitTurn {
  #state: 'held' | 'used' | 'returned' = 'held';
  readonly #expiresAt: number;
  readonly #now: () => number;
  readonly #onReturn: () => void;

  constructor(expiresAt: number, now: () => number, onReturn: () => void) {
    this.#expiresAt = expiresAt;
    this.#now = now;
    this.#onReturn = onReturn;
  }

  valid(): boolean {
    return this.#state === 'held' && this.#now() < this.#expiresAt;
  }

  use(): boolean {
    if (this.#state !== 'held') throw new Error(`a rate-limit turn was used after it was ${this.#state}`);
    if (this.#now() < this.#expiresAt) {
      this.#state = 'used';
      return true;
    }
    this.giveBack();
    return false;
  }

  giveBack(): void {
    if (this.#state !== 'held') return;
    this.#state = 'returned';
    this.#onReturn();
  }
}

export interface RateLimiterOptions {
  ratePerSecond: number;
  /** Milliseconds, monotonic. Defaults to performance.now(). */
  now?: () => number;
  /** Waits this many milliseconds. Defaults to a real timer. */
  sleep?: (ms: number) => Promise<void>;
  windowMs?: number; // 1000 unless a test says otherwise
  /** How long a turn may wait to be used. Default DEFAULT_TURN_TTL_MS. */
  ttlMs?: number;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class SlidingWindowRateLimiter implements RateLimiter {
  readonly #rate: number;
  /** A turn counts for this long after it was handed out: the window plus the ttl. */
  readonly #countsForMs: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Turns handed out inside the look-back and not given back, oldest first (at most `rate` of them). */
  readonly #turns: { at: number }[] = [];
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: RateLimiterOptions) {
    if (!Number.isInteger(options.ratePerSecond) || options.ratePerSecond < 1) {
      throw new RangeError(`ratePerSecond must be a positive integer, got ${String(options.ratePerSecond)}`);
    }
    const ttlMs = options.ttlMs ?? DEFAULT_TURN_TTL_MS;
    if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${ttlMs}`);
    this.#rate = options.ratePerSecond;
    this.#ttlMs = ttlMs;
    this.#countsForMs = (options.windowMs ?? 1000) + ttlMs;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? realSleep;
  }

  acquire(): Promise<RateLimitTurn> {
    const turn = this.#tail.then(() => this.#take());
    this.#tail = turn.catch(() => undefined);
    return turn;
  }

  async #take(): Promise<RateLimitTurn> {
    for (;;) {
      const now = this.#now();
      // A turn handed out at `at` stops counting once now >= at + window + ttl.
      while (this.#turns.length > 0 && (this.#turns[0]?.at ?? 0) + this.#countsForMs <= now) this.#turns.shift();
      if (this.#turns.length < this.#rate) {
        const entry = { at: now };
        this.#turns.push(entry);
        return new ExpiringTurn(now + this.#ttlMs, this.#now, () => {
          const index = this.#turns.indexOf(entry);
          if (index >= 0) this.#turns.splice(index, 1);
        });
      }
      const oldest = this.#turns[0]?.at ?? now;
      await this.#sleep(Math.max(1, oldest + this.#countsForMs - now));
    }
  }
}

/** A limiter that never waits (for a gateway configured without a rate limit). */
export const unlimited: RateLimiter = {
  acquire: () => Promise.resolve({ use: () => true, giveBack: () => undefined }),
};

// ---- per endpoint (G5) ---------------------------------------------------------------------------------------
//
// Stripe limits each endpoint besides the account: "Individual API endpoints (unless otherwise stated): 25 requests
// per second", where an endpoint is an operation, its method and path: POST /v1/payment_intents and GET
// /v1/payment_intents/{id} count separately, and GETs of different ids share one limit (docs.stripe.com/rate-limits).

/** Prefixes of Stripe object ids (the part before the first underscore) that never name a path's word. */
const ID_PREFIXES = new Set([
  'acct',
  'ba',
  'card',
  'ch',
  'cs',
  'cus',
  'dp',
  'du',
  'evt',
  'in',
  'pi',
  'pm',
  'po',
  'pr',
  'py',
  're',
  'seti',
  'sub',
  'src',
  'tok',
  'tr',
  'txn',
  'we',
]);

function isId(segment: string): boolean {
  const match = /^([a-z]+)_[A-Za-z0-9_]+$/.exec(segment);
  if (match === null) return false;
  // A word of the API (payment_intents, test_helpers) is lower case without digits; an id has digits or capitals,
  // or a known prefix (a test token such as pm_card_visa).
  return /[0-9A-Z]/.test(segment) || ID_PREFIXES.has(match[1] ?? '');
}

/** The endpoint a request counts against: its method and its path with ids as `:id` and no query string. */
export function endpointOf(method: string, path: string): string {
  const bare = path.split('?')[0] ?? '';
  const template = bare
    .split('/')
    .map((segment) => (isId(decodeURIComponent(segment)) ? ':id' : segment))
    .join('/');
  return `${method.toUpperCase()} ${template}`;
}

const isValid = (turn: RateLimitTurn): boolean => turn.valid?.() ?? true;

/** A turn of the endpoint's limiter and one of the gateway's: used only when both are still valid. */
class BothTurns implements RateLimitTurn {
  constructor(
    readonly endpoint: RateLimitTurn,
    readonly gateway: RateLimitTurn,
  ) {}

  use(): boolean {
    // The endpoint's turn was handed out first: if it lapsed (and was given back), so is the gateway's. If only the
    // gateway's lapsed, the endpoint's was spent for nothing: it counts, which errs on the safe side.
    if (!this.endpoint.use()) {
      this.gateway.giveBack();
      return false;
    }
    return this.gateway.use();
  }

  giveBack(): void {
    this.endpoint.giveBack();
    this.gateway.giveBack();
  }
}

/**
 * The gateway's limiter and one limiter per endpoint (made on first use by `perEndpoint`): a request waits for a turn
 * of its endpoint, then of the gateway, and is sent only while both are valid. Without an endpoint, the gateway's only.
 */
export class EndpointRateLimiter implements RateLimiter {
  readonly #gateway: RateLimiter;
  readonly #perEndpoint: (endpoint: string) => RateLimiter;
  readonly #endpoints = new Map<string, RateLimiter>();

  constructor(gateway: RateLimiter, perEndpoint: (endpoint: string) => RateLimiter) {
    this.#gateway = gateway;
    this.#perEndpoint = perEndpoint;
  }

  async acquire(endpoint?: string): Promise<RateLimitTurn> {
    if (endpoint === undefined) return this.#gateway.acquire();
    let limiter = this.#endpoints.get(endpoint);
    if (limiter === undefined) {
      limiter = this.#perEndpoint(endpoint);
      this.#endpoints.set(endpoint, limiter);
    }
    let mine = await limiter.acquire(endpoint);
    let theirs: RateLimitTurn;
    try {
      theirs = await this.#gateway.acquire(endpoint);
    } catch (error) {
      mine.giveBack();
      throw error;
    }
    // Waiting for one turn may outlast the other's ttl. Renew only what lapsed, keeping the other: renewing both
    // would let each wait lapse the other's turn again, for as long as either limit is saturated. Each turn is still
    // used within its own ttl, so each limiter's bound holds. After a few rounds use() decides (false: ask again).
    for (let round = 0; round < 4; round += 1) {
      const mineValid = isValid(mine);
      const theirsValid = isValid(theirs);
      if (mineValid && theirsValid) break;
      try {
        if (!mineValid) {
          mine.giveBack();
          mine = await limiter.acquire(endpoint);
        }
        if (!theirsValid) {
          theirs.giveBack();
          theirs = await this.#gateway.acquire(endpoint);
        }
      } catch (error) {
        mine.giveBack();
        theirs.giveBack();
        throw error;
      }
    }
    return new BothTurns(mine, theirs);
  }
}
