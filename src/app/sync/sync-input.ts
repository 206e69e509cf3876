// What a backfill (W6) may be asked for: the object types, in the order they are imported, and the range. Pure
// checks, so that a bad request is refused before anything is written.
import { ValidationError } from '../../domain/errors.js';

/**
 * Import order: customers before their payment methods, payments before their refunds and disputes, payouts before
 * the balance transactions that settle into them.
 */
export const SYNC_OBJECTS = [
  'customers',
  'payment_methods',
  'payments',
  'refunds',
  'disputes',
  'payouts',
  'balance_transactions',
] as const;

export type SyncObject = (typeof SYNC_OBJECTS)[number];

export interface SyncRequest {
  since?: unknown;
  until?: unknown;
  objects?: unknown;
}

export interface SyncRange {
  since: Date;
  until: Date | null;
  objects: SyncObject[];
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** An ISO 8601 timestamp with its offset (Z or +hh:mm): a time without one would depend on the server's zone. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A date (YYYY-MM-DD: midnight UTC) or an ISO timestamp with its offset. */
export function parseInstant(value: unknown, param: string): Date {
  if (typeof value !== 'string') {
    throw new ValidationError(
      'parameter_invalid_date',
      `${param} must be a date (YYYY-MM-DD) or an ISO 8601 timestamp with its offset.`,
      param,
    );
  }
  const day = DAY.exec(value);
  let date: Date | null = null;
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const candidate = new Date(Date.UTC(y, m - 1, d));
    // Date.UTC rolls 2026-02-30 over into March: only a real calendar day is accepted.
    if (candidate.getUTCFullYear() === y && candidate.getUTCMonth() === m - 1 && candidate.getUTCDate() === d)
      date = candidate;
  } else if (TIMESTAMP.test(value)) {
    const candidate = new Date(value);
    if (!Number.isNaN(candidate.getTime())) date = candidate;
  }
  if (date === null || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) {
    throw new ValidationError(
      'parameter_invalid_date',
      `${param} must be a date (YYYY-MM-DD) or an ISO 8601 timestamp with its offset, got ${JSON.stringify(value).slice(0, 64)}.`,
      param,
    );
  }
  return date;
}

function parseObjects(value: unknown): SyncObject[] {
  if (value === undefined) return [...SYNC_OBJECTS];
  if (!Array.isArray(value) || value.length === 0) {
    throw new ValidationError(
      'parameter_invalid_value',
      `objects must be a non-empty list of: ${SYNC_OBJECTS.join(', ')}.`,
      'objects',
    );
  }
  const wanted = new Set<string>();
  for (const item of value) {
    if (typeof item !== 'string' || !(SYNC_OBJECTS as readonly string[]).includes(item)) {
      throw new ValidationError(
        'parameter_invalid_value',
        `objects: ${JSON.stringify(item).slice(0, 64)} is not one of ${SYNC_OBJECTS.join(', ')}.`,
        'objects',
      );
    }
    if (wanted.has(item))
      throw new ValidationError('parameter_invalid_value', `objects names ${item} twice.`, 'objects');
    wanted.add(item);
  }
  // Always imported in SYNC_OBJECTS order, whatever order they were given in.
  return SYNC_OBJECTS.filter((o) => wanted.has(o));
}

/** Checks a request: `since` not in the future, `until` after it, known object types. */
export function parseSyncRequest(input: SyncRequest, now: Date): SyncRange {
  if (input.since === undefined || input.since === null)
    throw new ValidationError('parameter_missing', 'since is required: the date to import from.', 'since');
  const since = parseInstant(input.since, 'since');
  if (since.getTime() > now.getTime()) {
    throw new ValidationError(
      'parameter_invalid_date',
      `since (${since.toISOString()}) is in the future: there is nothing to import yet.`,
      'since',
    );
  }
  const until = input.until === undefined || input.until === null ? null : parseInstant(input.until, 'until');
  if (until !== null && until.getTime() <= since.getTime())
    throw new ValidationError('parameter_invalid_value', 'until must be later than since.', 'until');
  return { since, until, objects: parseObjects(input.objects) };
}
