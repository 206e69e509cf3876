// /v1/audit-events: the audit trail of configuration (settings, gateways, API keys, console users). It shows the
// history of the configuration, so reading it needs the admin scope.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listAuditEvents } from '../../app/audit.js';
import type { Deps } from '../../app/deps.js';
import { AuditEventSchema, ListAuditEventsQuery } from '../schemas/audit-event.js';
import { errorResponses, ListOf } from '../schemas/common.js';

export function auditEventRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/audit-events',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['audit events'],
          summary: 'List audit events (admin)',
          description:
            'Changes of configuration, newest first: settings, gateways (including those Settle makes at start, actor system), API keys and console users; actor is the API key id, the console user (usr_...) acting through a session, cli or system; before and after never hold secrets. Needs the admin scope, as it shows the history of the configuration. Filters: actor, action, object_type, object_id (exact) and a created_at range.',
          querystring: ListAuditEventsQuery,
          response: { 200: ListOf(AuditEventSchema), ...errorResponses },
        },
      },
      async (request) => listAuditEvents(deps, request.query),
    );
  };
}
