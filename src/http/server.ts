// `settle serve`: migrate, listen, print the URL and the admin key (in full only at the start that generated it), shut down gracefully on SIGINT/SIGTERM.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { type BootstrapKeySource, ensureBootstrapKey } from '../app/api-keys.js';
import { ensureFirstUser, firstUserLines } from '../app/users.js';
import { credentialOwner, secretFromEnv } from '../app/gateway-records.js';
import { intakeUrl, setUpWebhookSecret, WebhookSecrets } from '../app/webhooks/secrets.js';
import { backgroundWork } from '../jobs/background.js';
import type { Config } from '../config.js';
import { openRuntime } from '../runtime.js';
import { type DefaultGateway, setUpDefaultGateway } from '../gateway-adapters/default-gateway.js';
import { EMULATOR_SECRET_KEY } from '../gateway-adapters/registry.js';
import { stripeWebhookEndpoints } from '../gateway-adapters/stripe/webhook-endpoints.js';
import { buildApp } from './app.js';

/** How a gateway on this machine reaches the server: the listening port on loopback when listening on all addresses. */
function localBaseUrl(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo;
  const host = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** A path as a shell word (quoted when it holds anything but letters, digits, '.', '/', '_' and '-'). */
const shellWord = (value: string): string => (/^[\w./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`);

/**
 * What the start-up banner says of the bootstrap admin key. A key from SETTLE_API_KEY is never printed (its first 8
 * characters only); a generated key is printed once, by the start that generated it; later starts say where it
 * is kept. The curl example reads the key from where it is, never printing it.
 */
export function bootstrapKeyLines(
  key: { secret: string; generated: boolean; source: BootstrapKeySource },
  address: string,
): string[] {
  const tryWith = (bearer: string) => `  try: curl -H "Authorization: Bearer ${bearer}" ${address}/v1/transactions`;
  if (key.source.kind === 'env') {
    return [`  admin API key: from SETTLE_API_KEY (${key.secret.slice(0, 8)}...)`, tryWith('$SETTLE_API_KEY')];
  }
  const file = shellWord(key.source.file);
  if (key.generated) {
    return [
      `  admin API key (generated now, shown only this once; kept in ${key.source.file}):`,
      `    ${key.secret}`,
      tryWith(`$(cat ${file})`),
    ];
  }
  return [`  admin API key: kept in ${key.source.file} (not shown again)`, tryWith(`$(cat ${file})`)];
}

export async function serve(config: Config): Promise<void> {
  const runtime = await openRuntime(config);
  let gateway: DefaultGateway;
  try {
    gateway = await setUpDefaultGateway(config, runtime.deps);
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const key = ensureBootstrapKey(config.dataDir, config.apiKey);
  // The first console user, made (and its password printed) only by a start that finds no console user.
  const firstUser = await ensureFirstUser(runtime.deps, config.dataDir).catch(async (error: unknown) => {
    await gateway.close();
    await runtime.close();
    throw error;
  });
  const webhookSecrets = new WebhookSecrets();
  // Scheduled jobs (S3) and the webhook worker, which applies stored events every second and at once when the
  // intake stores one (W2).
  const background = backgroundWork(runtime.deps, config, (message) => process.stderr.write(`${message}\n`));
  const app = await buildApp({
    onWebhookStored: () => background.webhooks.kick(),
    jobs: background.runner,
    sync: background.sync,
    deps: runtime.deps,
    bootstrapApiKey: key.secret,
    bootstrapKeySource: key.source,
    keyCacheSeconds: config.keyCacheSeconds,
    logger: { level: config.logLevel },
    bodyLimitBytes: config.bodyLimitBytes,
    processMetrics: true,
    webhookSecrets,
    metricsPublic: config.metricsPublic,
    corsOrigins: config.corsOrigins,
    apiRateLimitPerSecond: config.apiRateLimitPerSecond,
    trustProxy: config.trustProxy,
  });
  const address = await app.listen({ port: config.port, host: config.host });
  // Once listening (the emulator needs Settle's URL): the default gateway's webhook secret, or its registration.
  const { record } = gateway;
  const baseUrl = config.baseUrl ?? localBaseUrl(app);
  const webhooks = await setUpWebhookSecret({
    record,
    baseUrl,
    dataDir: config.dataDir,
    secrets: webhookSecrets,
    hosts: runtime.deps.gatewayHosts,
    api: () =>
      stripeWebhookEndpoints({
        secretKey:
          secretFromEnv(record.secret_key_env, credentialOwner(record, runtime.deps.gatewayHosts)) ??
          EMULATOR_SECRET_KEY,
        apiBase: record.api_base ?? undefined,
        timeoutMs: config.gatewayTimeoutMs,
        hosts: runtime.deps.gatewayHosts,
      }),
    now: runtime.deps.clock.now(),
  });
  if (!webhooks.ok) app.log.warn({ gateway_id: record.id }, `webhooks: ${webhooks.description}`);
  background.start();
  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}/pglite`;
  process.stdout.write(
    [
      '',
      `Settle is listening on ${address}`,
      `  database: ${where}`,
      `  gateway:  ${gateway.description} [${gateway.record.id}]`,
      `  webhooks: ${intakeUrl(baseUrl, record.id)}: ${webhooks.description}`,
      `  jobs:     ${config.schedulerEnabled ? 'scheduler on (GET /v1/jobs for the schedule; POST /v1/jobs/{name}/run to run one now)' : 'scheduler off (SETTLE_SCHEDULER=off): run `settle worker` processes'}`,
      `  console:  ${address}/console`,
      `  API docs: ${address}/docs`,
      ...bootstrapKeyLines(key, address),
      ...firstUserLines(firstUser, address),
      '',
    ].join('\n') + '\n',
  );

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    try {
      await background.stop();
      await app.close();
      await gateway.close();
      await runtime.close();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}
