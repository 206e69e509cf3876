// Payouts (M2): payout transactions with their reconciliation, the items each paid out, and a reconcile run.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Deps } from '../../app/deps.js';
import { getPayout, listPayoutItems, listPayouts, requirePayout } from '../../app/payouts/payouts.js';
import { reconcilePayout } from '../../app/payouts/reconcile-payout.js';
import { requestContext, sendOutcome } from '../context.js';
import { runKeyed } from '../keyed-work.js';
import { errorResponses, IdParams, ListOf, ListQuery } from '../schemas/common.js';
import { ListPayoutsQuery, PayoutItemSchema, PayoutSchema, ReconcileReportSchema } from '../schemas/payout.js';

const tags = ['payouts'];

export function payoutRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/payouts',
      {
        schema: {
          tags,
          summary: 'List payouts',
          description:
            'Payout transactions (record_type payout), newest first, with their reconciliation. Filter: reconciliation_status.',
          querystring: ListPayoutsQuery,
          response: { 200: ListOf(PayoutSchema), ...errorResponses },
        },
      },
      async (request) => listPayouts(deps, request.query),
    );
    app.get(
      '/v1/payouts/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve a payout',
          params: IdParams,
          response: { 200: PayoutSchema, ...errorResponses },
        },
      },
      async (request) => getPayout(deps, request.params.id),
    );
    app.get(
      '/v1/payouts/:id/items',
      {
        schema: {
          tags,
          summary: "List a payout's items",
          description:
            "The balance transactions the payout settled (its own `payout` balance transaction left out), in the gateway's order, each with the Settle transaction it came from or the reason it has none.",
          params: IdParams,
          querystring: Type.Object(ListQuery),
          response: { 200: ListOf(PayoutItemSchema), ...errorResponses },
        },
      },
      async (request) => listPayoutItems(deps, request.params.id, request.query),
    );
    app.post(
      '/v1/payouts/:id/reconcile',
      {
        schema: {
          tags,
          summary: 'Reconcile a payout now',
          description:
            'Reads the payout and its balance transactions from the gateway and links each to its Settle transaction (README, "Payout reconciliation"). Running it twice changes nothing. 404 for an unknown id, 400 not_a_payout for another transaction, 409 payout_reconciliation_pending while Stripe\'s own reconciliation is in progress. A manual or instant payout answers not_applicable.',
          params: IdParams,
          response: { 200: ReconcileReportSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const ctx = requestContext(request);
        await requirePayout(deps, request.params.id);
        const outcome = await runKeyed(deps, ctx, async () => {
          const run = await reconcilePayout(deps, ctx.actor, request.params.id);
          const { pages, items, items_written, linked, removed } = run;
          const counts = { pages, items, items_written, linked, removed };
          return { status: 200, body: { payout: await getPayout(deps, request.params.id), run: counts } };
        });
        return sendOutcome(reply, outcome);
      },
    );
  };
}
