// Builds the adapter for a stored gateway record (G1): its key is read from the environment variable the
// record names (the built-in emulator accepts any sk_test_ key and needs none), its API base and rate
// limit come from the record. One adapter per gateway per process; its rate limiter is either the process's own
// (exact when this process is the only one calling the gateway: PGlite) or, given `sharedRateLimits`, one that
// splits the limit with every process on the same PostgreSQL database (shared-rate-limiter.ts). Unless the record's
// endpoint_rate_limit_per_second is 0, each endpoint has a limiter of its own beside it (G5; rate-limiter.ts).
//
// Before a record is used, its configuration is checked again (app/gateway-records.ts gatewayUseProblem: records made
// before the credential and api_base rules): a record that fails is refused (gateway_not_configured) and its
// secret is never read. Its adapter connects only where the record's ConnectPolicy allows (gateway-adapters/host-policy.ts).
import type { LookupFunction } from 'node:net';
import { credentialOwner, gatewayUseProblem, requireGateway, secretFromEnv } from '../app/gateway-records.js';
import type { Gateway, GatewayResolver } from '../app/gateway-port.js';
import type { GatewayLogWriter } from '../app/gateway-log.js';
import type { Deps } from '../app/deps.js';
import { SettleError } from '../domain/errors.js';
import { type GatewayHostRules, NO_EXTRA_HOSTS } from '../domain/host-policy.js';
import type { Db, GatewayRow } from '../store/schema.js';
import { gatewayConnectPolicy } from './host-policy.js';
import { exchangeLogEntry, SharedRateLimiter, StripeGateway } from './stripe/index.js';
import { EndpointRateLimiter, type RateLimiter, SlidingWindowRateLimiter } from './stripe/rate-limiter.js';

/** The key the built-in emulator gateway uses (the emulator accepts any sk_test_ key). */
export const EMULATOR_SECRET_KEY = 'sk_test_settle_emulator';

export interface RegistryOptions {
  /** Time allowed for one gateway call before its outcome counts as unknown. */
  timeoutMs?: number | undefined;
  /** The gateway log (P13): when given, every HTTP exchange of every adapter is stored as a gateway_logs row. */
  gatewayLogs?: GatewayLogWriter;
  /** Count every gateway's rate limit in this (PostgreSQL) database, across all processes using it. */
  sharedRateLimits?: { db: Db; allowanceMs?: number | undefined } | undefined;
  /** SETTLE_GATEWAY_API_BASE_ALLOW and STRIPE_API_BASE (Deps.gatewayHosts). Default: loopback and Stripe only. */
  hosts?: GatewayHostRules | undefined;
  /** dns.lookup-compatible resolver for the adapters' connections (tests). Default: dns.lookup. */
  lookup?: LookupFunction | undefined;
}

export class GatewayRegistry implements GatewayResolver {
  readonly #cache = new Map<string, { version: number; gateway: Gateway }>();
  readonly #timeoutMs: number;
  readonly #logs: GatewayLogWriter | undefined;
  readonly #sharedDb: Db | undefined;
  readonly #allowanceMs: number | undefined;
  readonly #hosts: GatewayHostRules;
  readonly #lookup: LookupFunction | undefined;

  constructor(options: RegistryOptions = {}) {
    this.#hosts = options.hosts ?? NO_EXTRA_HOSTS;
    this.#lookup = options.lookup;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#logs = options.gatewayLogs;
    this.#sharedDb = options.sharedRateLimits?.db;
    this.#allowanceMs = options.sharedRateLimits?.allowanceMs;
  }

  /** The adapter for a gateway record; rebuilt when the record changed. */
  forRecord(record: GatewayRow): Gateway {
    const cached = this.#cache.get(record.id);
    if (cached && cached.version === record.version) return cached.gateway;
    const gateway = this.#build(record);
    this.#cache.set(record.id, { version: record.version, gateway });
    return gateway;
  }

  async forId(deps: Pick<Deps, 'db'>, id: string): Promise<{ record: GatewayRow; gateway: Gateway }> {
    const record = await requireGateway(deps, id);
    return { record, gateway: this.forRecord(record) };
  }

  /**
   * G5: the gateway's limit and, unless it is 0, the per-endpoint one; both this process's own, or both shared through
   * the database. A shared endpoint limit counts its grants under the text key `<gateway id> <endpoint>` (the grant
   * function takes any text as its key: migrations 0007, 0008), so every process counts the same endpoint together.
   */
  #limiter(record: GatewayRow): RateLimiter {
    const sharedDb = this.#sharedDb;
    const allowance = this.#allowanceMs === undefined ? {} : { allowanceMs: this.#allowanceMs };
    const make = (key: string, ratePerSecond: number): RateLimiter =>
      sharedDb
        ? new SharedRateLimiter({ db: sharedDb, gatewayId: key, ratePerSecond, ...allowance })
        : new SlidingWindowRateLimiter({ ratePerSecond });
    const gateway = make(record.id, record.rate_limit_per_second);
    const perEndpoint = record.endpoint_rate_limit_per_second;
    if (!(perEndpoint > 0)) return gateway; // 0: off
    return new EndpointRateLimiter(gateway, (endpoint) => make(`${record.id} ${endpoint}`, perEndpoint));
  }

  #build(record: GatewayRow): Gateway {
    if (record.provider !== 'stripe') {
      throw new SettleError(
        'invalid_request',
        'gateway_not_supported',
        `Gateway ${record.id} uses provider '${record.provider}', which this version of Settle cannot call yet.`,
      );
    }
    const problem = gatewayUseProblem(record, this.#hosts);
    if (problem !== null)
      throw new SettleError(
        'invalid_request',
        'gateway_not_configured',
        `Gateway ${record.id} cannot be used: ${problem}.`,
      );
    const secretKey =
      secretFromEnv(record.secret_key_env, credentialOwner(record, this.#hosts)) ??
      (record.is_emulator ? EMULATOR_SECRET_KEY : undefined);
    if (!secretKey) {
      throw new SettleError(
        'invalid_request',
        'gateway_not_configured',
        `Gateway ${record.id} has no API key: set the environment variable ${record.secret_key_env ?? '(none named)'} for the Settle process.`,
      );
    }
    const logs = this.#logs;
    return new StripeGateway({
      secretKey,
      ...(record.api_base ? { apiBase: record.api_base } : {}),
      timeoutMs: this.#timeoutMs,
      rateLimitPerSecond: record.rate_limit_per_second,
      connectPolicy: gatewayConnectPolicy(record.api_base, this.#hosts),
      ...(this.#lookup ? { lookup: this.#lookup } : {}),
      rateLimiter: this.#limiter(record),
      ...(logs ? { onExchange: (exchange) => logs.write(record.id, exchangeLogEntry(exchange)) } : {}),
    });
  }
}
