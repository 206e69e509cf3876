// Schemas of /v1/sync (W6): the request that starts a backfill and the run with its progress.
import { Type } from 'typebox';
import { SYNC_OBJECTS } from '../../app/sync/sync-input.js';
import { Nullable } from './common.js';

export const SyncBody = Type.Object(
  {
    since: Type.String({
      maxLength: 40,
      description:
        'Import what was created from this date (YYYY-MM-DD, midnight UTC) or ISO 8601 timestamp with its offset; not in the future.',
      examples: ['2026-01-01'],
    }),
    until: Type.Optional(
      Type.String({
        maxLength: 40,
        description: 'Up to (not including) this date or timestamp, later than since. Default: no end.',
      }),
    ),
    objects: Type.Optional(
      Type.Array(Type.String({ maxLength: 32 }), {
        maxItems: SYNC_OBJECTS.length,
        description: `Which object types to import (default all), always in this order: ${SYNC_OBJECTS.join(', ')}.`,
      }),
    ),
    gateway_id: Type.Optional(
      Type.String({ maxLength: 64, description: 'The gateway to import from (default: the default gateway).' }),
    ),
  },
  { additionalProperties: false },
);

const ObjectProgress = Type.Object({
  done: Type.Boolean({ description: 'Every page of this type has been imported.' }),
  read: Type.Integer({ description: 'Objects read from the gateway.' }),
  created: Type.Integer({ description: 'Imported as new records.' }),
  updated: Type.Integer({ description: 'Records Settle had, brought forward to what the gateway holds.' }),
  unchanged: Type.Integer({ description: 'Records Settle had that already said what the gateway holds.' }),
  skipped: Type.Integer({ description: 'Read but not imported (last_skip says why).' }),
  last_skip: Nullable(Type.String()),
});

export const SyncRunSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('sync_run'),
    gateway_id: Type.String(),
    status: Type.String({
      description:
        'running, completed, failed (error says why) or canceled. A running sync whose process died is resumed by the next Settle process that starts (or `settle sync --resume`).',
    }),
    since: Type.String(),
    until: Nullable(Type.String()),
    objects: Type.Array(Type.String()),
    current_object: Nullable(Type.String({ description: 'The object type being imported now.' })),
    progress: Type.Record(Type.String(), ObjectProgress, { description: 'Per object type.' }),
    pages: Type.Integer({ description: 'Pages imported (each one committed with its cursor).' }),
    error: Nullable(Type.String()),
    trigger: Type.String({ description: 'api or cli.' }),
    started_by: Type.String(),
    created_at: Type.String(),
    updated_at: Type.String(),
    finished_at: Nullable(Type.String()),
  },
  { $id: 'SyncRun' },
);
