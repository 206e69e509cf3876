// The gateway rate limit (G5) shared by every Settle process on one PostgreSQL database: the limit is the
// gateway's, so several workers calling the same Stripe account must split it, not each use all of it.
//
// How: a process asks the database for a grant of a few tokens: one call of settle_rate_limit_grant (migration
// 0007, 0008), which takes the gateway's advisory lock, refuses while this gateway's grants of the last `window + margin`
// ms already add up to the rate, and otherwise records the grant at the database's clock_timestamp(). Only the
// database clock ever dates a grant, so processes whose clocks disagree still agree on the order and spacing of
// grants. The call is one round trip in autocommit: nothing between the lock and the commit waits for a client,
// which on a busy machine may not be scheduled for a while.
//
// Why this bounds every 1-second window: a grant's tokens are valid only until `asked + offset + ttl`, where
// `asked` is the local time just before the call was sent and `offset` the database's own measure of the time from
// the call's start to the grant (so `asked + offset` is no later, in real time, than the grant's time G). Each token
// is handed out as a turn (rate-limiter.ts) whose validity is checked right before the request's bytes are written
// (paced-http-client.ts), so every request of a grant leaves within [G, G + ttl]. Take any window of length `window`
// and the grants whose requests start in it: the first (G1) and last (G2) satisfy G2 - G1 < window + ttl. Since
// margin >= ttl, G1 was still inside G2's look-back when G2 was granted, and so were all the grants between them:
// their tokens together never exceed the rate. The rest of the margin, the allowance (SETTLE_RATE_LIMIT_ALLOWANCE_MS,
// default 45 ms), covers what the proof leaves out: requests that leave a window apart can still reach the gateway
// unevenly (network jitter, a process preempted inside the write itself, a busy gateway front), which can bring
// them closer together where the gateway counts them. Every process on one database should use the same
// allowance: a grant counts its look-back with its own.
//
// Spread: besides the rate over the look-back, at most `burstMax` tokens (1.5 times their share) are granted in any
// `burstWindowMs` (a tenth of the window). A sliding window alone repeats any burst once per look-back, forever: the
// tokens of a burst all free at once. Measured at 100/s with 4 workers, bursts of 20 requests within 40 ms made the
// emulator answer in up to 190 ms, the workers' pipelines ran dry in between (gaps of 150 to 230 ms with no request
// at all), and 85.6% to 91% of the limit was used; spread (and with claims no longer coming back empty, job-runs.ts),
// 92.2% (docs/PERFORMANCE.md, 2026-12-02).
//
// What it costs: each token is reissued at best `window + margin` after its last use, so a saturated fleet gets
// window / (window + ttl + allowance) of the rate: 1000 / 1070 ms, about 93%, with the defaults. Two things keep
// it near that: when the look-back is full but frees within HOLD_MS, the call sleeps in the database (holding the
// lock) and grants the moment capacity frees, instead of when this process's timer fires and its next call
// arrives; and tokens nobody used (they expired in hand because the grant came back later than the ttl, or a turn
// lapsed before its request could be written) are given back in the next call, so they stop counting.
//
// Locally, callers are served in arrival order (chained, as in rate-limiter.ts), asking for as many tokens as
// callers are waiting, capped at what the rate allows in one ttl (a bigger grant would mostly expire unused, while
// counting against every other process for a whole window). So one process gets at most that cap per grant round
// trip: 3 tokens per round trip at 100/s. When more callers wait than the tokens in hand can serve, the next grant is
// asked for as soon as a turn is handed out (at most one such call ahead), so that it arrives as the tokens in hand
// run out: measured on a 2-vCPU machine busy with webhooks, a round trip took some 33 ms and one worker, asking only
// once its tokens were gone, used 76% of a 100/s limit (docs/PERFORMANCE.md, scheduled-charges-webhooks). Every
// grant is still dated and counted by the database, so asking early changes no bound, only which tokens may expire
// in hand (and be given back). A database
// error rejects the acquire() that needed the grant (its gateway call then fails before anything is sent); the
// callers behind it ask again.
import { createHash } from 'node:crypto';
import { requestRateLimitGrant } from '../../store/rate-limit-grants-repo.js';
import type { Db } from '../../store/schema.js';
import { DEFAULT_TURN_TTL_MS, ExpiringTurn, type RateLimiter, type RateLimitTurn } from './rate-limiter.js';

export interface SharedRateLimiterOptions {
  db: Db;
  gatewayId: string;
  ratePerSecond: number;
  windowMs?: number; // 1000 unless a test says otherwise
  /** How long granted tokens may be handed out, counted from just before the grant was asked for. */
  ttlMs?: number;
  /** Added to the window when counting earlier grants; at least ttlMs (see the header). Default ttlMs + allowanceMs. */
  marginMs?: number;
  /** The part of the margin beyond the ttl: uneven delivery from turn to gateway. Default DEFAULT_ALLOWANCE_MS. */
  allowanceMs?: number;
  /** The burst window (default window / 10) and the most tokens granted in it (default 1.5 times its share). */
  burstWindowMs?: number;
  burstMax?: number;
  /** Milliseconds, monotonic. Defaults to performance.now(). */
  now?: () => number;
  /** Waits this many milliseconds. Defaults to a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** Counters for diagnosis: many dropped tokens mean the database round trip is too slow for ttlMs. */
export interface SharedRateLimiterStats {
  grants: number;
  refusals: number;
  tokensGranted: number;
  tokensDropped: number;
  /** Turns handed out that lapsed before their request could be written (given back, never sent). */
  turnsLapsed: number;
  /** Of the dropped and lapsed tokens, those given back (their grant then counts only what was used). */
  tokensReturned: number;
}

export const DEFAULT_TTL_MS = DEFAULT_TURN_TTL_MS;
/** Allowance for uneven delivery: how much the time from a request's turn to its arrival at the gateway varies. */
export const DEFAULT_ALLOWANCE_MS = 45;
/** The longest wait for capacity done in the database, holding the lock (longer ones sleep here, then ask again). */
const HOLD_MS = 50;
/** Old grants are deleted at most this often per limiter, by a grant call. */
const SWEEP_EVERY_MS = 1000;
/** Grants older than this (beyond the look-back) are deleted; the spare seconds cover differently configured peers. */
const KEEP_GRANTS_MS = 10_000;

interface GrantAnswer {
  tokens: number;
  /** When nothing was granted: how long until the oldest counted grant leaves the look-back. */
  waitMs: number;
  /** Local monotonic time no later than the grant (see #askForGrant): tokens count from here. */
  askedAt: number;
  /** The grant's row, when tokens were granted. */
  grantId: string | null;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The advisory lock key for a gateway's grants: 64 bits of a hash, namespaced so it meets no other lock. */
export function grantLockKey(gatewayId: string): string {
  const digest = createHash('sha256').update(`settle:rate_limit_grants:${gatewayId}`).digest();
  return digest.readBigInt64BE(0).toString();
}

export class SharedRateLimiter implements RateLimiter {
  readonly #db: Db;
  readonly #gatewayId: string;
  readonly #lockKey: string;
  readonly #rate: number;
  readonly #ttlMs: number;
  readonly #lookBackMs: number;
  readonly #maxGrant: number;
  readonly #burstWindowMs: number;
  readonly #burstMax: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #tail: Promise<unknown> = Promise.resolve();
  /** Callers that called acquire() and have not been served (or failed) yet. */
  #queued = 0;
  #tokens = 0;
  #expiresAt = 0;
  /** The grant the tokens in hand came from. */
  #grantId: string | null = null;
  /** Tokens nobody used, per grant: given back by the next grant call. */
  readonly #unused = new Map<string, number>();
  #lastSweep = Number.NEGATIVE_INFINITY;
  /** The next grant, asked for while the tokens in hand were still being handed out (see the header). */
  #ahead: Promise<GrantAnswer> | null = null;
  readonly stats: SharedRateLimiterStats = {
    grants: 0,
    refusals: 0,
    tokensGranted: 0,
    tokensDropped: 0,
    turnsLapsed: 0,
    tokensReturned: 0,
  };

  constructor(options: SharedRateLimiterOptions) {
    const windowMs = options.windowMs ?? 1000;
    const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    const marginMs = options.marginMs ?? ttlMs + (options.allowanceMs ?? DEFAULT_ALLOWANCE_MS);
    checkOptions(options.ratePerSecond, windowMs, ttlMs, marginMs);
    this.#db = options.db;
    this.#gatewayId = options.gatewayId;
    this.#lockKey = grantLockKey(options.gatewayId);
    this.#rate = options.ratePerSecond;
    this.#ttlMs = ttlMs;
    this.#lookBackMs = windowMs + marginMs;
    this.#maxGrant = Math.min(this.#rate, Math.ceil((this.#rate * ttlMs) / windowMs));
    this.#burstWindowMs = options.burstWindowMs ?? windowMs / 10;
    this.#burstMax =
      options.burstMax ?? Math.max(this.#maxGrant, Math.ceil((1.5 * this.#rate * this.#burstWindowMs) / windowMs));
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? realSleep;
  }

  acquire(): Promise<RateLimitTurn> {
    this.#queued += 1;
    const turn = this.#tail.then(() => this.#serve());
    this.#tail = turn.catch(() => undefined);
    return turn;
  }

  async #serve(): Promise<RateLimitTurn> {
    try {
      return await this.#take();
    } finally {
      this.#queued -= 1;
    }
  }

  async #take(): Promise<RateLimitTurn> {
    for (;;) {
      const turn = this.#handOut();
      if (turn) {
        this.#askAhead();
        return turn;
      }
      const ahead = this.#ahead;
      this.#ahead = null;
      const answer = await (ahead ?? this.#askForGrant(Math.min(this.#maxGrant, Math.max(1, this.#queued))));
      if (answer.tokens > 0) {
        this.#tokens = answer.tokens;
        this.#grantId = answer.grantId;
        this.#expiresAt = answer.askedAt + this.#ttlMs;
        continue; // a grant that came back too late is dropped by #handOut and asked for again
      }
      // Wake a little early: the last stretch is slept in the database, which dates the grant precisely.
      await this.#sleep(Math.max(1, answer.waitMs - HOLD_MS / 2));
    }
  }

  /**
   * Asks for the next grant now when the callers waiting behind this one (queued counts it too) outnumber the
   * tokens left in hand; the caller that runs out of tokens awaits it (and gets its error, if any).
   */
  #askAhead(): void {
    const waiting = this.#queued - 1;
    if (this.#ahead !== null || waiting <= this.#tokens) return;
    const ahead = this.#askForGrant(Math.min(this.#maxGrant, waiting - this.#tokens));
    ahead.catch(() => undefined); // awaited later; until then no unhandled rejection
    this.#ahead = ahead;
  }

  /** A turn from the tokens in hand if one is still valid; drops expired ones (to be given back). */
  #handOut(): RateLimitTurn | null {
    const grantId = this.#grantId;
    if (this.#tokens > 0 && grantId !== null && this.#now() < this.#expiresAt) {
      this.#tokens -= 1;
      return new ExpiringTurn(this.#expiresAt, this.#now, () => {
        this.stats.turnsLapsed += 1;
        this.#unused.set(grantId, (this.#unused.get(grantId) ?? 0) + 1);
      });
    }
    this.stats.tokensDropped += this.#tokens;
    if (this.#tokens > 0 && grantId !== null)
      this.#unused.set(grantId, (this.#unused.get(grantId) ?? 0) + this.#tokens);
    this.#tokens = 0;
    return null;
  }

  async #askForGrant(wanted: number): Promise<GrantAnswer> {
    const sweep = this.#now() - this.#lastSweep >= SWEEP_EVERY_MS;
    const unused = [...this.#unused];
    this.#unused.clear();
    const returned = unused.reduce((sum, [, tokens]) => sum + tokens, 0);
    const keepMs = Math.max(KEEP_GRANTS_MS, 2 * this.#lookBackMs);
    // Just before the call: the grant's time is at least offset_ms (measured by the database) after this.
    const askedAt = this.#now();
    const result = await requestRateLimitGrant(this.#db, {
      gatewayId: this.#gatewayId,
      lockKey: this.#lockKey,
      rate: this.#rate,
      lookBackMs: this.#lookBackMs,
      wanted,
      holdMs: HOLD_MS,
      keepMs: sweep ? keepMs : null,
      returnGrantIds: unused.map(([grantId]) => grantId),
      returnTokens: unused.map(([, tokens]) => tokens),
      burstWindowMs: this.#burstWindowMs,
      burstMax: this.#burstMax,
    });
    if (sweep) this.#lastSweep = this.#now();
    this.stats.tokensReturned += returned;
    if (result.tokens > 0) {
      this.stats.grants += 1;
      this.stats.tokensGranted += result.tokens;
    } else {
      this.stats.refusals += 1;
    }
    return {
      tokens: result.tokens,
      grantId: result.grant_id,
      waitMs: result.wait_ms ?? 1,
      askedAt: askedAt + result.offset_ms,
    };
  }
}

function checkOptions(rate: number, windowMs: number, ttlMs: number, marginMs: number): void {
  if (!Number.isInteger(rate) || rate < 1)
    throw new RangeError(`ratePerSecond must be a positive integer, got ${String(rate)}`);
  if (!(windowMs > 0) || !(ttlMs > 0))
    throw new RangeError(`windowMs and ttlMs must be positive, got ${windowMs} and ${ttlMs}`);
  // A smaller margin would let two grants that do not count against each other start closer than a window.
  if (!(marginMs >= ttlMs)) throw new RangeError(`marginMs (${marginMs}) must be at least ttlMs (${ttlMs})`);
}
