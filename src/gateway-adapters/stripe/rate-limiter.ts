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
}

export interface RateLimiter {
  /** Resolves with a turn that is valid for a short while; see RateLimitTurn. */
  acquire(): Promise<RateLimitTurn>;
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
