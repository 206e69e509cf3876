// /healthz, /readyz, /metrics (X5) and /v1/settings (X4).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import type { Deps } from '../../app/deps.js';
import { updateSettings } from '../../app/settings.js';
import { pingDatabase } from '../../store/database.js';
import { migrationsApplied } from '../../store/migrate.js';
import { errorResponses } from '../schemas/common.js';
import { UpdateSettingsBody } from '../schemas/settings.js';
import { requestContext, sendOutcome } from '../context.js';

const SettingsSchema = Type.Object({
  timezone: Type.String({ description: "IANA time zone that defines 'today'." }),
  daily_jobs_at: Type.String({ description: 'HH:MM, when the daily jobs run.' }),
  validations_enabled: Type.Boolean({
    description: 'Off allows deleting gateway-touched and canceling non-open transactions (data repair).',
  }),
  auto_process_due_today_only: Type.Boolean(),
  reattempts_enabled: Type.Boolean(),
  reattempts_non_auto_process: Type.Boolean(),
  reattempt_day_gaps: Type.Array(Type.Integer()),
  webhook_delay_seconds: Type.Integer(),
  webhook_retention_days: Type.Integer(),
  stuck_after_seconds: Type.Integer(),
  payment_method_rolldown_enabled: Type.Boolean(),
  schedule_horizon_days: Type.Integer(),
});

export function systemRoutes(
  deps: Deps,
  registry: Registry,
  options: { metricsPublic: boolean },
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/healthz',
      { config: { public: true }, schema: { tags: ['operations'], summary: 'The process is up' } },
      async () => ({ status: 'ok' }),
    );

    app.get(
      '/readyz',
      { config: { public: true }, schema: { tags: ['operations'], summary: 'Database reachable and migrated' } },
      async (_request, reply) => {
        try {
          await pingDatabase(deps.db);
          if (!(await migrationsApplied(deps.db))) return reply.code(503).send({ status: 'migrations_pending' });
          return { status: 'ready' };
        } catch {
          return reply.code(503).send({ status: 'database_unreachable' });
        }
      },
    );

    // A key with the read scope, unless SETTLE_METRICS_PUBLIC=true (a scraper on a trusted network).
    app.get(
      '/metrics',
      {
        config: options.metricsPublic ? { public: true } : { scope: 'read' },
        schema: {
          tags: ['operations'],
          summary: options.metricsPublic ? 'Prometheus metrics' : 'Prometheus metrics (read scope)',
        },
      },
      async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
    );

    app.get(
      '/v1/settings',
      {
        schema: { tags: ['settings'], summary: 'Read settings', response: { 200: SettingsSchema, ...errorResponses } },
      },
      async () => deps.settings.get(),
    );

    app.patch(
      '/v1/settings',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['settings'],
          summary: 'Change settings (admin)',
          description:
            'Changes the settings named; the others keep their values. Honours an Idempotency-Key (the same request again answers the first response). A change records one audit event (settings.updated, GET /v1/audit-events); a request that changes nothing records none.',
          body: UpdateSettingsBody,
          response: { 200: SettingsSchema, ...errorResponses },
        },
      },
      async (request, reply) => sendOutcome(reply, await updateSettings(deps, requestContext(request), request.body)),
    );
  };
}
