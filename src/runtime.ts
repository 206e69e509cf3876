// Wires the parts together for a process (serve, CLI commands, tests): database, migrations, settings,
// command runner, clock.
import { type Clock, systemClock } from './app/clock.js';
import { CommandRunner } from './app/command-runner.js';
import type { Deps } from './app/deps.js';
import { GatewayLogWriter } from './app/gateway-log.js';
import { SettingsStore } from './app/settings.js';
import { GatewayRegistry } from './gateway-adapters/registry.js';
import type { Config } from './config.js';
import { type GatewayHostRules, gatewayHostRules, NO_EXTRA_HOSTS } from './domain/host-policy.js';
import { openDatabase, type OpenDatabase } from './store/database.js';
import { migrateToLatest } from './store/migrate.js';
import { TransactionInserter } from './store/transaction-inserter.js';

export interface Runtime {
  deps: Deps;
  database: OpenDatabase;
  close(): Promise<void>;
}

export async function openRuntime(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'databasePoolSize'> &
    Partial<Pick<Config, 'gatewayTimeoutMs' | 'rateLimitAllowanceMs' | 'gatewayApiBaseAllow' | 'stripeApiBase'>>,
  options: { migrate?: boolean; clock?: Clock } = {},
): Promise<Runtime> {
  const database = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.databaseUrl ? undefined : `${config.dataDir}/pglite`,
    poolSize: config.databasePoolSize,
  });
  try {
    if (options.migrate ?? true) await migrateToLatest(database.db);
  } catch (error) {
    await database.close();
    throw error;
  }
  const deps = createDeps(database, {
    clock: options.clock,
    gatewayTimeoutMs: config.gatewayTimeoutMs,
    rateLimitAllowanceMs: config.rateLimitAllowanceMs,
    gatewayHosts: gatewayHostRules(config.gatewayApiBaseAllow, config.stripeApiBase),
  });
  return { deps, database, close: () => database.close() };
}

/**
 * The use cases' dependencies on one database (shared by the server, the CLI, tests and benchmarks). On PostgreSQL
 * the gateway rate limits are counted in the database, as several processes may call the same gateway; a PGlite
 * directory is opened by one process only, so its per-process limiter is already exact.
 */
export function createDeps(
  database: Pick<OpenDatabase, 'db' | 'prepared' | 'kind'> & Partial<Pick<OpenDatabase, 'rateLimitDb'>>,
  options: {
    clock?: Clock | undefined;
    settingsTtlMs?: number;
    gatewayTimeoutMs?: number | undefined;
    /** The shared rate limiter's allowance for uneven delivery (PostgreSQL; default DEFAULT_ALLOWANCE_MS). */
    rateLimitAllowanceMs?: number | undefined;
    /** Where gateways may send requests (default: loopback, and api.stripe.com for gateways without api_base). */
    gatewayHosts?: GatewayHostRules | undefined;
  } = {},
): Deps {
  const { db } = database;
  const gatewayHosts = options.gatewayHosts ?? NO_EXTRA_HOSTS;
  return {
    gatewayHosts,
    gateways: new GatewayRegistry({
      hosts: gatewayHosts,
      timeoutMs: options.gatewayTimeoutMs,
      gatewayLogs: new GatewayLogWriter(db),
      sharedRateLimits:
        database.kind === 'postgres'
          ? { db: database.rateLimitDb ?? db, allowanceMs: options.rateLimitAllowanceMs }
          : undefined,
    }),
    db,
    clock: options.clock ?? systemClock,
    settings: new SettingsStore(db, options.settingsTtlMs, options.clock ?? systemClock),
    commands: new CommandRunner(db),
    inserter: new TransactionInserter(db, { prepared: database.prepared }),
  };
}
