// The gateway rate limit (G5) shared by every Settle process on one PostgreSQL database: the limit is the
// gateway's, so several workers calling the same Stripe account must split it, not each use all of it.
//
// How: a process asks the database for a grant of a few tokens (one short transaction, serialised per gateway by
// an advisory lock). The grant is refused while this gateway's grants of the last `window + margin` ms already
// add up to the rate; otherwise it is recorded at the database's clock_timestamp(). Only the database clock ever
// dates a grant, so processes whose clocks disagree still agree on the order and spacing of grants.
//
// Why this bounds every 1-second window: tokens are used only until `asked + ttl`, where `asked` is the local
// time just before the grant statement was sent, so (in real time) before the grant's database time G; every
// request of a grant therefore starts within [G, G + ttl]. Take any window of length `window` and the grants whose
// requests start in it: the first (G1) and last (G2) satisfy G2 - G1 < window + ttl. Since margin >= ttl, G1 was
// still inside G2's look-back when G2 was granted, and so were all the grants between them: their tokens together
// never exceed the rate. The rest of the margin (`jitterMs`) absorbs what the proof ignores: the few
// milliseconds between handing a token out and the request leaving, and uneven network latency to the gateway,
// which can bring two starts `window` apart closer together when they arrive there.
//
// What it costs: each token is reissued at best `window + margin` after its last use, so a saturated fleet gets
// window / (window + margin) of the rate (1000 / 1085 ms with the default 40 ms ttl and 45 ms jitter allowance, about 92%), less a round trip per reissue. The ttl must
// comfortably exceed the grant statement's round trip plus the commit's (well under a millisecond to a few ms next
// to the database); a grant that comes back later than that is dropped unused (see `stats.tokensDropped`).
//
// Locally, callers are served in arrival order (chained, as in rate-limiter.ts), one grant request in flight at
// a time, asking for as many tokens as callers are waiting, capped at what the rate allows in one ttl (a bigger
// grant would mostly expire unused, while counting against every other process for a whole window). Unused
// tokens are simply dropped: they still count in the database, which only errs on the safe side. A database error
// rejects the acquire() that needed the grant (its gateway call then fails before anything is sent); the callers
// behind it ask again.
import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { RateLimiter } from './rate-limiter.js';

export interface SharedRateLimiterOptions {
  db: Kysely<Database>;
  gatewayId: string;
  ratePerSecond: number;
  windowMs?: number; // 1000 unless a test says otherwise
  /** How long granted tokens may be handed out, counted from just before the grant was asked for. */
  ttlMs?: number;
  /** Added to the window when counting earlier grants; at least ttlMs (see the header). */
  marginMs?: number;
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
}

export const DEFAULT_TTL_MS = 40;
/** Allowance for the time between a token being handed out and its request reaching the gateway, unevenly. */
export const DEFAULT_JITTER_MS = 45;
/** Old grants are deleted at most this often per limiter, in a grant's own transaction. */
const SWEEP_EVERY_MS = 1000;
/** Grants older than this (beyond the look-back) are deleted; the spare seconds cover differently configured peers. */
const KEEP_GRANTS_MS = 10_000;

interface GrantAnswer {
  tokens: number;
  /** When nothing was granted: how long until the oldest counted grant leaves the look-back. */
  waitMs: number;
  /** Local monotonic time just before the grant statement was sent. */
  askedAt: number;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The advisory lock key for a gateway's grants: 64 bits of a hash, namespaced so it meets no other lock. */
export function grantLockKey(gatewayId: string): string {
  const digest = createHash('sha256').update(`settle:rate_limit_grants:${gatewayId}`).digest();
  return digest.readBigInt64BE(0).toString();
}

export class SharedRateLimiter implements RateLimiter {
  readonly #db: Kysely<Database>;
  readonly #gatewayId: string;
  readonly #lockKey: string;
  readonly #rate: number;
  readonly #ttlMs: number;
  readonly #lookBackMs: number;
  readonly #maxGrant: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #tail: Promise<void> = Promise.resolve();
  /** Callers that called acquire() and have not been served (or failed) yet. */
  #queued = 0;
  #tokens = 0;
  #expiresAt = 0;
  #lastSweep = Number.NEGATIVE_INFINITY;
  readonly stats: SharedRateLimiterStats = { grants: 0, refusals: 0, tokensGranted: 0, tokensDropped: 0 };

  constructor(options: SharedRateLimiterOptions) {
    const windowMs = options.windowMs ?? 1000;
    const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    const marginMs = options.marginMs ?? ttlMs + DEFAULT_JITTER_MS;
    checkOptions(options.ratePerSecond, windowMs, ttlMs, marginMs);
    this.#db = options.db;
    this.#gatewayId = options.gatewayId;
    this.#lockKey = grantLockKey(options.gatewayId);
    this.#rate = options.ratePerSecond;
    this.#ttlMs = ttlMs;
    this.#lookBackMs = windowMs + marginMs;
    this.#maxGrant = Math.min(this.#rate, Math.ceil((this.#rate * ttlMs) / windowMs));
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? realSleep;
  }

  acquire(): Promise<void> {
    this.#queued += 1;
    const turn = this.#tail.then(() => this.#serve());
    this.#tail = turn.catch(() => undefined);
    return turn;
  }

  async #serve(): Promise<void> {
    try {
      await this.#take();
    } finally {
      this.#queued -= 1;
    }
  }

  async #take(): Promise<void> {
    for (;;) {
      if (this.#useToken()) return;
      const wanted = Math.min(this.#maxGrant, Math.max(1, this.#queued));
      const answer = await this.#askForGrant(wanted);
      if (answer.tokens > 0) {
        this.#tokens = answer.tokens;
        this.#expiresAt = answer.askedAt + this.#ttlMs;
        continue; // a grant that came back too late is dropped by #useToken and asked for again
      }
      await this.#sleep(Math.max(1, answer.waitMs));
    }
  }

  /** Takes a token in hand if one is still valid; drops expired ones. */
  #useToken(): boolean {
    if (this.#tokens > 0 && this.#now() < this.#expiresAt) {
      this.#tokens -= 1;
      return true;
    }
    this.stats.tokensDropped += this.#tokens;
    this.#tokens = 0;
    return false;
  }

  async #askForGrant(wanted: number): Promise<GrantAnswer> {
    const sweep = this.#now() - this.#lastSweep >= SWEEP_EVERY_MS;
    const answer = await this.#db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${this.#lockKey}::bigint)`.execute(trx);
      // Taken after the lock (waiting for it must not eat into the ttl) and before the grant's clock_timestamp().
      const askedAt = this.#now();
      const row = await this.#grantStatement(wanted, sweep).execute(trx);
      const result = row.rows[0];
      if (!result) throw new Error('the rate limit grant statement returned no row');
      return { tokens: result.tokens, waitMs: result.wait_ms ?? 1, askedAt };
    });
    if (sweep) this.#lastSweep = this.#now();
    if (answer.tokens > 0) {
      this.stats.grants += 1;
      this.stats.tokensGranted += answer.tokens;
    } else {
      this.stats.refusals += 1;
    }
    return answer;
  }

  /**
   * One statement: count this gateway's grants in the look-back, record a grant of what is left (up to `wanted`)
   * at clock_timestamp(), and now and then delete grants long out of the look-back. The data-modifying CTEs all
   * see the statement's snapshot, taken after the advisory lock was granted, so the previous holder's grant is
   * counted.
   */
  #grantStatement(wanted: number, sweep: boolean) {
    const gatewayId = this.#gatewayId;
    const lookBack = sql`(${this.#lookBackMs}::float8 * interval '1 millisecond')`;
    const keep = sql`(${Math.max(KEEP_GRANTS_MS, 2 * this.#lookBackMs)}::float8 * interval '1 millisecond')`;
    return sql<{ tokens: number; wait_ms: number | null }>`
      with now as materialized (select clock_timestamp() as t),
      recent as materialized (
        select coalesce(sum(g.tokens), 0)::int as used, min(g.granted_at) as oldest
        from rate_limit_grants g
        where g.gateway_id = ${gatewayId} and g.granted_at > (select t from now) - ${lookBack}
      ),
      granted as materialized (
        select greatest(0, least(${wanted}::int, ${this.#rate}::int - recent.used)) as tokens from recent
      ),
      inserted as (
        insert into rate_limit_grants (gateway_id, granted_at, tokens)
        select ${gatewayId}, now.t, granted.tokens from now, granted where granted.tokens > 0
      ),
      swept as (
        delete from rate_limit_grants
        where ${sweep}::boolean and gateway_id = ${gatewayId} and granted_at < (select t from now) - ${keep}
      )
      select granted.tokens,
        ceil(extract(epoch from recent.oldest + ${lookBack} - now.t) * 1000)::int as wait_ms
      from now, recent, granted`;
  }
}

function checkOptions(rate: number, windowMs: number, ttlMs: number, marginMs: number): void {
  if (!Number.isInteger(rate) || rate < 1) throw new RangeError(`ratePerSecond must be a positive integer, got ${String(rate)}`);
  if (!(windowMs > 0) || !(ttlMs > 0)) throw new RangeError(`windowMs and ttlMs must be positive, got ${windowMs} and ${ttlMs}`);
  // A smaller margin would let two grants that do not count against each other start closer than a window.
  if (!(marginMs >= ttlMs)) throw new RangeError(`marginMs (${marginMs}) must be at least ttlMs (${ttlMs})`);
}
