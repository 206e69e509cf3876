// /v1/sync (W6): import a gateway's history (a backfill run, `syn_`), follow it, list the runs.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../app/deps.js';
import { getSync, listSyncs, presentSync, type SyncRunner } from '../../app/sync/sync-runs.js';
import { requestContext, sendOutcome } from '../context.js';
import { runKeyed } from '../keyed-work.js';
import { errorResponses, IdParams, ListOf, ListQuery } from '../schemas/common.js';
import { SyncBody, SyncRunSchema } from '../schemas/sync.js';
import { Type } from 'typebox';

const tags = ['sync'];

export function syncRoutes(deps: Deps, runner: SyncRunner): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/sync',
      {
        // Admin: a backfill writes accounts, payment methods and transactions in bulk, like the other bulk operations.
        config: { scope: 'admin' },
        schema: {
          tags,
          summary: "Import the gateway's history",
          description:
            'Starts a backfill of the gateway: customers, payment methods, payments, refunds, disputes, payouts and balance transactions created in [since, until), in that order, and answers 202 with the run; follow it at GET /v1/sync/{id}. Safe to run twice (nothing is duplicated; records Settle has only move forward) and resumable (each page is committed with its cursor). 409 sync_already_running while a sync of the gateway runs.',
          body: SyncBody,
          response: { 202: SyncRunSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const ctx = requestContext(request);
        const outcome = await runKeyed(deps, ctx, async () => ({
          status: 202,
          body: presentSync(await runner.start(request.body, 'api', ctx.actor)),
        }));
        return sendOutcome(reply, outcome);
      },
    );

    app.get(
      '/v1/sync',
      {
        schema: {
          tags,
          summary: 'List sync runs',
          description: 'Backfill runs, newest first.',
          querystring: Type.Object(ListQuery),
          response: { 200: ListOf(SyncRunSchema), ...errorResponses },
        },
      },
      async (request) => listSyncs(deps, request.query),
    );

    app.get(
      '/v1/sync/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve a sync run',
          description: 'The run with its progress per object type (read, created, updated, unchanged, skipped).',
          params: IdParams,
          response: { 200: SyncRunSchema, ...errorResponses },
        },
      },
      async (request) => getSync(deps, request.params.id),
    );
  };
}
