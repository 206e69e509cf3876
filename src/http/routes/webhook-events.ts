// /v1/webhook-events (W4): the stored gateway events with their processing state. Reading needs the read scope;
// replaying one needs write, replaying a range admin.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../app/deps.js';
import {
  getWebhookEvent,
  listWebhookEvents,
  MAX_REPLAY_EVENTS,
  replayWebhookEvent,
  replayWebhookEvents,
} from '../../app/webhooks/events.js';
import { requestContext, sendOutcome } from '../context.js';
import { runKeyed } from '../keyed-work.js';
import { absentBodyIsEmpty, errorResponses, IdParams, ListOf, NoBody } from '../schemas/common.js';
import {
  ListWebhookEventsQuery,
  ReplayRangeBody,
  ReplayRangeSchema,
  WebhookEventSchema,
  WebhookEventSummarySchema,
} from '../schemas/webhook-event.js';

const tags = ['webhook events'];
const REPEAT =
  'Safe to repeat: the processor applies an event only where it still changes something (late and duplicate events are ignored). A repeat with the same Idempotency-Key answers the first response and replays nothing.';

export function webhookEventRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/webhook-events',
      {
        schema: {
          tags,
          summary: 'List webhook events',
          description:
            'Events received from gateways, newest first, without their payloads (retrieve one to see it). Filters: status, type, gateway_id, object_id, event_id (exact) and a received_at range.',
          querystring: ListWebhookEventsQuery,
          response: { 200: ListOf(WebhookEventSummarySchema), ...errorResponses },
        },
      },
      async (request) => listWebhookEvents(deps, request.query),
    );

    app.get(
      '/v1/webhook-events/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve a webhook event',
          description:
            'The event with its payload, processing state (outcome, error, retryable), attempts, deliveries and times.',
          params: IdParams,
          response: { 200: WebhookEventSchema, ...errorResponses },
        },
      },
      async (request) => getWebhookEvent(deps, request.params.id),
    );

    app.post(
      '/v1/webhook-events/:id/replay',
      {
        config: { scope: 'write' },
        preValidation: absentBodyIsEmpty,
        schema: {
          tags,
          summary: 'Replay a webhook event',
          description: `Whatever its status, the event goes back to pending, due now (attempts are kept), and is processed at once; returns it as processing left it. ${REPEAT}`,
          params: IdParams,
          body: NoBody,
          response: { 200: WebhookEventSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(
          reply,
          await runKeyed(deps, requestContext(request), async () => ({
            status: 200,
            body: await replayWebhookEvent(deps, request.params.id),
          })),
        ),
    );

    app.post(
      '/v1/webhook-events/replay',
      {
        config: { scope: 'admin' },
        schema: {
          tags,
          summary: 'Replay the webhook events of a period (admin)',
          description: `Every event first received in (received_after, received_before), optionally only of one status or type, goes back to pending and is processed at once. At most ${MAX_REPLAY_EVENTS} events: a larger match is a 400 too_many_events (replay it in parts). Returns how many were reset and what processing did. ${REPEAT}`,
          body: ReplayRangeBody,
          response: { 200: ReplayRangeSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(
          reply,
          await runKeyed(deps, requestContext(request), async () => ({
            status: 200,
            body: await replayWebhookEvents(deps, request.body),
          })),
        ),
    );
  };
}
