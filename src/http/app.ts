// Composes the HTTP application: validation, security headers, CORS, rate limit, auth, errors, metrics, OpenAPI and
// the routes.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { ApiKeyVerifier, type BootstrapKeySource } from '../app/api-keys.js';
import type { Deps } from '../app/deps.js';
import { WebhookIntake } from '../app/webhooks/intake.js';
import { WebhookSecrets } from '../app/webhooks/secrets.js';
import { JobRunner } from '../jobs/runner.js';
import { stripeWebhookVerifier } from '../gateway-adapters/stripe/webhook-signature.js';
import { registerAuth, trackRouteAccess } from './auth.js';
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './errors.js';
import { registerRequestGuard } from './request-guard.js';
import { rewriteRequestTarget } from './request-target.js';
import {
  DEFAULT_API_RATE_LIMIT_PER_SECOND,
  DOCS_CSP,
  pageHeaders,
  registerSecurity,
  servePublicPages,
} from './security.js';
import { customerRoutes } from './routes/customers.js';
import { invoiceRoutes } from './routes/invoices.js';
import { allocationRoutes } from './routes/allocations.js';
import { paymentScheduleRoutes } from './routes/payment-schedules.js';
import { parentRoutes } from './routes/parents.js';
import { orderRoutes } from './routes/orders.js';
import { orderPaymentRoutes } from './routes/order-payments.js';
import { orderServicingRoutes } from './routes/order-servicing.js';
import { disputeRoutes } from './routes/disputes.js';
import { balanceRoutes } from './routes/balances.js';
import { payoutRoutes } from './routes/payouts.js';
import { reportRoutes } from './routes/reports.js';
import { connectedAccountRoutes } from './routes/connected-accounts.js';
import { transferRoutes } from './routes/transfers.js';
import { reversalRoutes } from './routes/reversals.js';
import { jobRoutes } from './routes/jobs.js';
import { syncRoutes } from './routes/sync.js';
import { SyncRunner } from '../app/sync/sync-runs.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { userRoutes } from './routes/users.js';
import { sessionRoutes } from './routes/sessions.js';
import { auditEventRoutes } from './routes/audit-events.js';
import { gatewayLogRoutes } from './routes/gateway-logs.js';
import { gatewayRoutes } from './routes/gateways.js';
import { paymentMethodRoutes } from './routes/payment-methods.js';
import { systemRoutes } from './routes/system.js';
import { processingRoutes } from './routes/processing.js';
import { transactionRoutes } from './routes/transactions.js';
import { webhookEventRoutes } from './routes/webhook-events.js';
import { webhookIntakeRoutes } from './routes/webhooks.js';
import { validatorCompiler } from './validation.js';
import { consoleRoutes } from './console.js';

export interface BuildAppOptions {
  deps: Deps;
  /** The bootstrap admin key (SETTLE_API_KEY or the generated one). */
  bootstrapApiKey: string | undefined;
  /** Where the bootstrap key comes from (its name in GET /v1/api-keys; how to rotate it). */
  bootstrapKeySource?: BootstrapKeySource;
  /** How long a verified API key is trusted before the database is asked again (SETTLE_KEY_CACHE_SECONDS). Default 5. */
  keyCacheSeconds?: number;
  /** The API key verifier (tests pass their own to wait for its last_used_at writes); default: one over deps. */
  apiKeyVerifier?: ApiKeyVerifier;
  logger?: FastifyServerOptions['logger'];
  bodyLimitBytes?: number;
  /** Collect process metrics (off in tests that build many apps). */
  processMetrics?: boolean;
  /** Webhook signing secrets beyond the gateways' environment variables (the emulator's registered endpoint). */
  webhookSecrets?: WebhookSecrets;
  /** Called when a webhook event was stored (serve kicks its webhook worker). */
  onWebhookStored?: () => void;
  /** Runs jobs started through the API (serve passes the one its scheduler uses; otherwise one is made and stopped with the app). */
  jobs?: JobRunner;
  /** Carries backfills started through the API (serve passes its own; otherwise one is made and stopped with the app). */
  sync?: SyncRunner;
  /** GET /metrics answers without a key (SETTLE_METRICS_PUBLIC); otherwise it needs the read scope. Default false. */
  metricsPublic?: boolean;
  /** Origins allowed to call the API from a browser (SETTLE_CORS_ORIGINS); none (the default): CORS off. */
  corsOrigins?: readonly string[];
  /** Requests per second per API key in this process (SETTLE_API_RATE_LIMIT); 0: off. Default 100. */
  apiRateLimitPerSecond?: number;
  /**
   * SETTLE_TRUST_PROXY: the proxies whose X-Forwarded-For/-Proto are believed (Fastify's trustProxy: true, or
   * addresses and CIDR ranges); default none. Decides the client address and whether the console cookie is Secure.
   */
  trustProxy?: boolean | string[];
  /** The built console's folder (served at /console); default packages/console/dist. */
  consoleDir?: string;
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimitBytes ?? 256 * 1024,
    trustProxy: options.trustProxy ?? false,
    ajv: { customOptions: { coerceTypes: false } },
    // A path parameter up to this long reaches its schema (400 naming it); a longer one is a 414. The router's own
    // defaults, pinned: paths are case-sensitive; '//' and a trailing '/' are not ignored.
    routerOptions: {
      maxParamLength: 1024,
      caseSensitive: true,
      ignoreDuplicateSlashes: false,
      ignoreTrailingSlash: false,
    },
    // Before routing: a target that is not a canonical path is refused (request-target.ts).
    rewriteUrl: rewriteRequestTarget,
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  registerErrorHandling(app);
  trackRouteAccess(app);
  // Headers, target check, CORS and the rate limit first, then auth: their hooks run before any other (deny by default).
  const limit = await registerSecurity(app, {
    corsOrigins: options.corsOrigins ?? [],
    apiRateLimitPerSecond: options.apiRateLimitPerSecond ?? DEFAULT_API_RATE_LIMIT_PER_SECOND,
    clock: options.deps.clock,
  });
  const apiKeys =
    options.apiKeyVerifier ??
    new ApiKeyVerifier(
      options.deps.db,
      options.bootstrapApiKey,
      (options.keyCacheSeconds ?? 5) * 1000,
      options.deps.clock,
    );
  app.addHook('onClose', () => apiKeys.whenIdle());
  registerAuth(app, apiKeys, { limit, sessions: options.deps });
  registerRequestGuard(app);

  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'settle_http_requests_total',
    help: 'HTTP requests',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'settle_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Settle API',
        version: '1',
        description:
          'Settle, a self-hosted payments transaction ledger. Amounts are integers in the currency minor unit. Authenticate with Authorization: Bearer <key>; writes accept an Idempotency-Key header.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  // Swagger UI's routes (the page, its assets, /docs/json) need no key and send the page's own CSP.
  await app.register(async (docs) => {
    servePublicPages(docs, pageHeaders(DOCS_CSP));
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  await app.register(systemRoutes(options.deps, registry, { metricsPublic: options.metricsPublic ?? false }));
  await app.register(transactionRoutes(options.deps));
  await app.register(processingRoutes(options.deps));
  await app.register(customerRoutes(options.deps));
  await app.register(paymentScheduleRoutes(options.deps));
  await app.register(parentRoutes(options.deps));
  await app.register(invoiceRoutes(options.deps));
  await app.register(orderRoutes(options.deps));
  await app.register(orderPaymentRoutes(options.deps));
  await app.register(orderServicingRoutes(options.deps));
  await app.register(allocationRoutes(options.deps));
  await app.register(paymentMethodRoutes(options.deps));
  await app.register(gatewayRoutes(options.deps));
  await app.register(gatewayLogRoutes(options.deps));
  const intake = new WebhookIntake(options.deps, {
    secrets: options.webhookSecrets ?? new WebhookSecrets(),
    verifiers: { stripe: stripeWebhookVerifier },
    ...(options.onWebhookStored ? { onStored: options.onWebhookStored } : {}),
  });
  await app.register(webhookIntakeRoutes(intake));
  await app.register(webhookEventRoutes(options.deps));
  await app.register(disputeRoutes(options.deps));
  await app.register(balanceRoutes(options.deps));
  await app.register(payoutRoutes(options.deps));
  await app.register(reportRoutes(options.deps));
  await app.register(connectedAccountRoutes(options.deps));
  await app.register(transferRoutes(options.deps));
  await app.register(reversalRoutes(options.deps));
  const jobs = options.jobs ?? new JobRunner(options.deps);
  if (!options.jobs) app.addHook('onClose', () => jobs.stop());
  await app.register(jobRoutes(options.deps, jobs));
  const sync = options.sync ?? new SyncRunner(options.deps);
  if (!options.sync) app.addHook('onClose', () => sync.stop());
  await app.register(syncRoutes(options.deps, sync));
  await app.register(apiKeyRoutes(options.deps, apiKeys, options.bootstrapKeySource));
  await app.register(userRoutes(options.deps));
  await app.register(sessionRoutes(options.deps));
  await app.register(auditEventRoutes(options.deps));
  await app.register(consoleRoutes(options.consoleDir));
  await app.ready();
  return app;
}
