// `settle serve`: migrate, listen, print the URL and the admin key, shut down gracefully on SIGINT/SIGTERM.
import { ensureBootstrapKey } from '../app/api-keys.js';
import type { Config } from '../config.js';
import { openRuntime } from '../runtime.js';
import { type DefaultGateway, setUpDefaultGateway } from '../gateways/default-gateway.js';
import { buildApp } from './app.js';

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
  const app = await buildApp({
    deps: runtime.deps,
    bootstrapApiKey: key.secret,
    logger: { level: config.logLevel },
    bodyLimitBytes: config.bodyLimitBytes,
    processMetrics: true,
  });
  const address = await app.listen({ port: config.port, host: config.host });
  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}/pglite`;
  const keySource = config.apiKey ? 'from SETTLE_API_KEY' : `${key.generated ? 'generated' : 'kept'} in ${config.dataDir}/admin-api-key`;
  process.stdout.write(
    [
      '',
      `Settle is listening on ${address}`,
      `  database: ${where}`,
      `  gateway:  ${gateway.description} [${gateway.record.id}]`,
      `  API docs: ${address}/docs`,
      `  admin API key (${keySource}):`,
      `    ${key.secret}`,
      `  try: curl -H "Authorization: Bearer ${key.secret}" ${address}/v1/transactions`,
      '',
    ].join('\n') + '\n',
  );

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    try {
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
