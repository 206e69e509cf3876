// Webhooks (W1, W4): the intake's answer, the stored event as listed and as retrieved, the list filters and the
// range replay.
import { Type } from 'typebox';
import { MAX_REPLAY_EVENTS, WEBHOOK_EVENT_STATUSES } from '../../app/webhooks/events.js';
import { ListQuery, Nullable } from './common.js';

const STATUS_TEXT = `${WEBHOOK_EVENT_STATUSES.join(', ')}: pending (stored, not yet applied), processed, failed (see error; tried again when retryable), not_supported (a type Settle does not handle).`;
const Status = Type.Union(
  WEBHOOK_EVENT_STATUSES.map((s) => Type.Literal(s)),
  { description: STATUS_TEXT },
);
const Instant = (description: string) =>
  Type.String({ format: 'date-time', description: `${description} ISO 8601 date-time, e.g. 2026-11-24T12:00:00Z.` });
const Text = (description: string) => Type.String({ minLength: 1, maxLength: 255, description });

export const IntakeParams = Type.Object({
  gateway_id: Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'The gateway the endpoint belongs to (gw_...).',
  }),
});

export const IntakeHeaders = Type.Object({
  'stripe-signature': Type.Optional(
    Type.String({
      description: "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'> with the gateway's signing secret.",
    }),
  ),
});

export const IntakeAnswerSchema = Type.Object(
  {
    received: Type.Literal(true),
    id: Type.String({ description: "Settle's id of the stored event (whe_...)." }),
    duplicate: Type.Boolean({
      description: 'true: this event was already stored; the delivery was counted, nothing else changed.',
    }),
  },
  { $id: 'WebhookReceived' },
);

const eventFields = {
  id: Type.String(),
  object: Type.Literal('webhook_event'),
  gateway_id: Type.String(),
  event_id: Type.String({ description: "The gateway's event id (evt_...), unique per gateway." }),
  type: Type.String({ description: 'e.g. payment_intent.succeeded.' }),
  object_type: Nullable(Type.String({ description: "data.object's type, e.g. payment_intent." })),
  object_id: Nullable(Type.String({ description: "data.object's id, e.g. pi_..." })),
  api_version: Nullable(Type.String()),
  livemode: Type.Boolean(),
  event_created_at: Type.String({ description: 'When the gateway created the event.' }),
  status: Type.String({ description: STATUS_TEXT }),
  outcome: Nullable(Type.String({ description: 'What processing did, in words.' })),
  error: Nullable(Type.String({ description: 'Why processing failed.' })),
  retryable: Nullable(
    Type.Boolean({ description: 'For a failed event: whether the processor tries it again by itself.' }),
  ),
  attempts: Type.Integer({ description: 'Processing attempts so far.' }),
  deliveries: Type.Integer({ description: 'How many times the gateway sent it (duplicates counted, stored once).' }),
  received_at: Type.String({ description: 'First delivery.' }),
  last_received_at: Type.String({ description: 'Latest delivery.' }),
  process_after: Type.String({ description: 'Not processed before this time (received_at + webhook_delay_seconds).' }),
  claimed_until: Nullable(Type.String({ description: 'A worker is applying it until then.' })),
  processed_at: Nullable(Type.String()),
  updated_at: Type.String(),
};

export const WebhookEventSummarySchema = Type.Object(eventFields, { $id: 'WebhookEventSummary' });

export const WebhookEventSchema = Type.Object(
  {
    ...eventFields,
    payload: Type.Record(Type.String(), Type.Unknown(), {
      description: 'The event as the gateway sent it (first delivery).',
    }),
  },
  { $id: 'WebhookEvent' },
);

export const ListWebhookEventsQuery = Type.Object(
  {
    status: Type.Optional(Status),
    type: Type.Optional(Text('Exact event type.')),
    gateway_id: Type.Optional(Type.String({ maxLength: 64 })),
    object_id: Type.Optional(Text("Exact id of the event's object (pi_..., re_..., ...).")),
    event_id: Type.Optional(Text("The gateway's event id (evt_...).")),
    received_after: Type.Optional(Instant('First received strictly after.')),
    received_before: Type.Optional(Instant('First received strictly before.')),
    ...ListQuery,
  },
  { additionalProperties: false },
);

export const ReplayRangeBody = Type.Object(
  {
    received_after: Instant('Events first received strictly after.'),
    received_before: Instant('Events first received strictly before.'),
    status: Type.Optional(Status),
    type: Type.Optional(Text('Only events of this type.')),
  },
  { additionalProperties: false },
);

const Summary = Type.Object({
  picked: Type.Integer(),
  processed: Type.Integer(),
  failed: Type.Integer(),
  not_supported: Type.Integer(),
});

export const ReplayRangeSchema = Type.Object(
  {
    object: Type.Literal('webhook_event_replay'),
    reset: Type.Integer({ description: `Events set back to pending (at most ${MAX_REPLAY_EVENTS}).` }),
    summary: Summary,
  },
  { $id: 'WebhookEventReplay' },
);
