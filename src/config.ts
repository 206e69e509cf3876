// Typed environment with safe defaults: PGlite under ./data and the offline Stripe emulator.
import path from 'node:path';
import { DEFAULT_ALLOWANCE_MS } from './gateway-adapters/stripe/shared-rate-limiter.js';
import { DEFAULT_CONCURRENCY as DEFAULT_JOB_CONCURRENCY } from './jobs/runner.js';

export interface Config {
  port: number;
  host: string;
  /** PostgreSQL connection string; when absent, the embedded PGlite database under dataDir is used. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Bootstrap admin key from SETTLE_API_KEY (otherwise generated into the data directory). */
  apiKey: string | undefined;
  logLevel: string;
  /** Size of the PostgreSQL connection pool. */
  databasePoolSize: number;
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes: number;
  /** Real Stripe: the default gateway uses this key (read from STRIPE_SECRET_KEY, never stored). */
  stripeSecretKey: string | undefined;
  /** A separately running Stripe emulator (or any Stripe-compatible base URL) for the default gateway. */
  stripeApiBase: string | undefined;
  /**
   * STRIPE_WEBHOOK_SECRET: when set, the default gateway's webhook signing secret (its record names the variable;
   * the value stays in the environment and is read when an event arrives).
   */
  stripeWebhookSecret: string | undefined;
  /**
   * SETTLE_BASE_URL: how a gateway reaches this server, for the webhook endpoint Settle registers with the emulator
   * (default http://127.0.0.1:<port>).
   */
  baseUrl: string | undefined;
  /** Port of the in-process emulator started when neither of the above is set (0 = any free port). */
  emulatorPort: number;
  /** Time allowed for one gateway call before its outcome counts as unknown (then recovery confirms it). */
  gatewayTimeoutMs: number;
  /** SETTLE_SCHEDULER=off: `settle serve` runs no scheduled jobs (leave them to `settle worker` processes). */
  schedulerEnabled: boolean;
  /**
   * SETTLE_SCHEDULED_JOBS: the jobs this process's scheduler starts (comma-separated names, or `none`); default all.
   * Whatever it says, the process joins batch runs started elsewhere.
   */
  scheduledJobs: string[] | undefined;
  /** SETTLE_JOB_CONCURRENCY: transactions one process works on at once in a batch job. */
  jobConcurrency: number;
  /** SETTLE_JOB_LEASE_SECONDS: how long a worker's claims and a run's heartbeat hold without news from it. */
  jobLeaseSeconds: number;
  /**
   * SETTLE_RATE_LIMIT_ALLOWANCE_MS: on PostgreSQL, how unevenly requests may travel from their write to the gateway
   * (network, a busy gateway front) before the shared rate limit could be exceeded there; each turn counts for a
   * second plus this (and the grant's 25 ms). Larger = safer and slower (see shared-rate-limiter.ts).
   */
  rateLimitAllowanceMs: number;
  /** SETTLE_METRICS_PUBLIC=true: GET /metrics needs no key (otherwise a key with the read scope). */
  metricsPublic: boolean;
  /** SETTLE_CORS_ORIGINS: origins allowed to call the API from a browser (comma list); empty = CORS off. */
  corsOrigins: string[];
  /** SETTLE_API_RATE_LIMIT: requests per second per API key in this process; 0 = no limit. */
  apiRateLimitPerSecond: number;
  /** SETTLE_KEY_CACHE_SECONDS: how long a process trusts a verified API key before asking the database again. */
  keyCacheSeconds: number;
  /** SETTLE_GATEWAY_API_BASE_ALLOW: hosts (besides loopback) a test-mode gateway's api_base may name. */
  gatewayApiBaseAllow: string[];
  /**
   * SETTLE_TRUST_PROXY: the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto Settle believes: `true` (every
   * hop: only when nothing reaches Settle but through the proxy), or addresses and CIDR ranges; default none. Decides
   * the client address (rate limits) and whether the console's session cookie is Secure.
   */
  trustProxy: boolean | string[];
}

/**
 * Every environment variable Settle reads for its own configuration. A gateway may never name one of these in
 * secret_key_env or webhook_secret_env (except STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, under the rules in
 * app/gateway-records.ts). A test keeps this list equal to the README's configuration table.
 */
export const SETTLE_ENV_VARS = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'SETTLE_DATA_DIR',
  'SETTLE_API_KEY',
  'DATABASE_POOL_SIZE',
  'SETTLE_BODY_LIMIT_BYTES',
  'STRIPE_SECRET_KEY',
  'STRIPE_API_BASE',
  'STRIPE_WEBHOOK_SECRET',
  'SETTLE_BASE_URL',
  'SETTLE_EMULATOR_PORT',
  'SETTLE_GATEWAY_TIMEOUT_MS',
  'SETTLE_SCHEDULER',
  'SETTLE_SCHEDULED_JOBS',
  'SETTLE_JOB_CONCURRENCY',
  'SETTLE_JOB_LEASE_SECONDS',
  'SETTLE_RATE_LIMIT_ALLOWANCE_MS',
  'SETTLE_METRICS_PUBLIC',
  'SETTLE_CORS_ORIGINS',
  'SETTLE_API_RATE_LIMIT',
  'SETTLE_KEY_CACHE_SECONDS',
  'SETTLE_GATEWAY_API_BASE_ALLOW',
  'SETTLE_TRUST_PROXY',
  'LOG_LEVEL',
] as const;

/** A comma list of words (hosts, origins); empty when unset. */
function commaListFromEnv(env: NodeJS.ProcessEnv, name: string): string[] {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return [];
  const items = raw.split(',').map((item) => item.trim());
  if (items.some((item) => item === '' || /\s/.test(item)))
    throw new Error(`${name} must be a comma-separated list without empty items, got '${raw}'`);
  return items;
}

/** Origins such as https://erp.example.com: scheme, host and optional port, nothing else. */
function originsFromEnv(env: NodeJS.ProcessEnv, name: string): string[] {
  return commaListFromEnv(env, name).map((item) => {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new Error(`${name} must list origins such as https://console.example.com, got '${item}'`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== item.replace(/\/+$/, '')) {
      throw new Error(`${name} must list origins (scheme://host[:port], no path), got '${item}'`);
    }
    return url.origin;
  });
}

/** Host names or IP addresses (lower-cased; IPv6 without brackets). */
function hostsFromEnv(env: NodeJS.ProcessEnv, name: string): string[] {
  return commaListFromEnv(env, name).map((item) => {
    const host = item.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    if (!/^[a-z0-9.:_-]+$/.test(host)) throw new Error(`${name} must list host names or IP addresses, got '${item}'`);
    return host;
  });
}

/** on/true: trust every hop; off/false/unset: none; otherwise addresses and CIDR ranges (10.0.0.0/8, ::1). */
function trustProxyFromEnv(env: NodeJS.ProcessEnv, name: string): boolean | string[] {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '' || ['off', 'false', '0', 'no'].includes(raw)) return false;
  if (['on', 'true', '1', 'yes'].includes(raw)) return true;
  return commaListFromEnv(env, name).map((item) => {
    if (!/^[0-9a-f.:]+(\/\d{1,3})?$/i.test(item))
      throw new Error(`${name} must be true, false, or addresses and CIDR ranges (10.0.0.0/8), got '${item}'`);
    return item.toLowerCase();
  });
}

function listFromEnv(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'none') return [];
  const names = raw.split(',').map((n) => n.trim());
  if (names.some((n) => !/^[a-z_]+$/.test(n)))
    throw new Error(`${name} must be job names separated by commas, or none, got '${raw}'`);
  return names;
}

function onOffFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['on', 'true', '1', 'yes'].includes(raw)) return true;
  if (['off', 'false', '0', 'no'].includes(raw)) return false;
  throw new Error(`${name} must be on or off, got '${env[name] ?? ''}'`);
}

function urlFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${name} must be a URL such as http://127.0.0.1:12111, got '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`${name} must be an http:// or https:// URL`);
  return raw.replace(/\/+$/, '');
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number, got '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max) throw new Error(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function stripeKeyFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const key = env.STRIPE_SECRET_KEY?.trim();
  if (!key) return undefined;
  if (!/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/.test(key)) {
    throw new Error('STRIPE_SECRET_KEY must be a Stripe secret or restricted key (sk_test_..., sk_live_..., rk_...)');
  }
  return key;
}

function webhookSecretFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const secret = env.STRIPE_WEBHOOK_SECRET;
  if (secret === undefined || secret === '') return undefined;
  if (/\s/.test(secret))
    throw new Error(
      'STRIPE_WEBHOOK_SECRET contains whitespace (a stray newline or space?); give the signing secret exactly, e.g. whsec_...',
    );
  return secret;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL && env.DATABASE_URL.trim() !== '' ? env.DATABASE_URL.trim() : undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('DATABASE_URL must start with postgres:// or postgresql://');
  }
  const apiKey = env.SETTLE_API_KEY && env.SETTLE_API_KEY.trim() !== '' ? env.SETTLE_API_KEY.trim() : undefined;
  if (apiKey !== undefined && apiKey.length < 24) {
    throw new Error('SETTLE_API_KEY must be at least 24 characters long');
  }
  return {
    port: intFromEnv(env, 'PORT', 3000, 0, 65535),
    host: env.HOST && env.HOST !== '' ? env.HOST : '127.0.0.1',
    databaseUrl,
    dataDir: path.resolve(env.SETTLE_DATA_DIR && env.SETTLE_DATA_DIR !== '' ? env.SETTLE_DATA_DIR : './data'),
    apiKey,
    logLevel: env.LOG_LEVEL && env.LOG_LEVEL !== '' ? env.LOG_LEVEL : 'info',
    databasePoolSize: intFromEnv(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
    bodyLimitBytes: intFromEnv(env, 'SETTLE_BODY_LIMIT_BYTES', 256 * 1024, 1024, 10 * 1024 * 1024),
    stripeSecretKey: stripeKeyFromEnv(env),
    stripeApiBase: urlFromEnv(env, 'STRIPE_API_BASE'),
    stripeWebhookSecret: webhookSecretFromEnv(env),
    baseUrl: urlFromEnv(env, 'SETTLE_BASE_URL'),
    emulatorPort: intFromEnv(env, 'SETTLE_EMULATOR_PORT', 0, 0, 65535),
    gatewayTimeoutMs: intFromEnv(env, 'SETTLE_GATEWAY_TIMEOUT_MS', 30_000, 100, 600_000),
    schedulerEnabled: onOffFromEnv(env, 'SETTLE_SCHEDULER', true),
    scheduledJobs: listFromEnv(env, 'SETTLE_SCHEDULED_JOBS'),
    jobConcurrency: intFromEnv(env, 'SETTLE_JOB_CONCURRENCY', DEFAULT_JOB_CONCURRENCY, 1, 64),
    jobLeaseSeconds: intFromEnv(env, 'SETTLE_JOB_LEASE_SECONDS', 60, 2, 3600),
    rateLimitAllowanceMs: intFromEnv(env, 'SETTLE_RATE_LIMIT_ALLOWANCE_MS', DEFAULT_ALLOWANCE_MS, 0, 1000),
    metricsPublic: onOffFromEnv(env, 'SETTLE_METRICS_PUBLIC', false),
    corsOrigins: originsFromEnv(env, 'SETTLE_CORS_ORIGINS'),
    apiRateLimitPerSecond: intFromEnv(env, 'SETTLE_API_RATE_LIMIT', 100, 0, 1_000_000),
    keyCacheSeconds: intFromEnv(env, 'SETTLE_KEY_CACHE_SECONDS', 5, 0, 3600),
    gatewayApiBaseAllow: hostsFromEnv(env, 'SETTLE_GATEWAY_API_BASE_ALLOW'),
    trustProxy: trustProxyFromEnv(env, 'SETTLE_TRUST_PROXY'),
  };
}
