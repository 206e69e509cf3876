// Audit events: a change of configuration (settings, gateways, API keys, console users) as listed, and the list's filters.
import { Type } from 'typebox';
import { AUDIT_ACTIONS } from '../../app/audit.js';
import { ListQuery } from './common.js';

const Instant = (description: string) =>
  Type.String({ format: 'date-time', description: `${description} ISO 8601 date-time, e.g. 2026-11-24T12:00:00Z.` });
const Text = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });

export const AuditEventSchema = Type.Object(
  {
    id: Type.String({ description: 'aud_...' }),
    object: Type.Literal('audit_event'),
    actor: Type.String({
      description:
        'Who made the change: the API key id (key_...), cli (the settle command) or system (Settle itself, at start).',
    }),
    action: Type.String({ description: `What was done: ${AUDIT_ACTIONS.join(', ')}.` }),
    object_type: Type.String({ description: 'settings, gateway or api_key.' }),
    object_id: Type.String({ description: "The object's id (settings: `settings`)." }),
    before: Type.Unknown({
      description:
        "The object's fields before the change; null for a creation. Secrets and key digests are never recorded.",
    }),
    after: Type.Unknown({ description: "The object's fields after the change." }),
    created_at: Type.String(),
  },
  { $id: 'AuditEvent' },
);

export const ListAuditEventsQuery = Type.Object(
  {
    actor: Type.Optional(Text('Exact match: key_..., usr_... (a console user), cli or system.')),
    action: Type.Optional(Text(`Exact match: ${AUDIT_ACTIONS.join(', ')}.`)),
    object_type: Type.Optional(Text('Exact match: settings, gateway, api_key.')),
    object_id: Type.Optional(Text('Exact match.')),
    created_after: Type.Optional(Instant('Recorded strictly after.')),
    created_before: Type.Optional(Instant('Recorded strictly before.')),
    ...ListQuery,
  },
  { additionalProperties: false },
);
