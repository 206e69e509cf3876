// Validators for the plain fields that several resources share: calendar dates, instants (list filters),
// metadata, short text, e-mail addresses. Pure: no I/O.
import { ValidationError } from './errors.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date written YYYY-MM-DD (2026-02-30 is rejected). */
export function parseDate(value: unknown, field: string): string {
  const match = typeof value === 'string' ? DATE.exec(value) : null;
  if (match) {
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const date = new Date(Date.UTC(year, month - 1, day));
    if (
      year >= 1900 &&
      date.getUTCFullYear() === year &&
      date.getUTCMonth() === month - 1 &&
      date.getUTCDate() === day
    ) {
      return value as string;
    }
  }
  throw new ValidationError('invalid_date', `${field} must be a calendar date written YYYY-MM-DD.`, field);
}

/** An instant written as an ISO 8601 date-time (a list filter such as created_after), e.g. 2026-11-24T12:00:00Z. */
export function parseInstant(value: string, field: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new ValidationError(
      'invalid_timestamp',
      `${field} must be an ISO 8601 date-time such as 2026-11-24T12:00:00Z.`,
      field,
    );
  }
  return date;
}

export const METADATA_LIMITS = { keys: 50, keyLength: 40, valueLength: 500 } as const;

/**
 * Metadata is a map of strings (Stripe's limits: 50 keys, keys up to 40 characters, values up to 500).
 * When `allowDeletes`, an empty string or null value means "remove this key" (as Stripe does on update).
 */
export function parseMetadata(value: unknown, field: string, allowDeletes: boolean): Record<string, string | null> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('invalid_metadata', `${field} must be an object of string values.`, field);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > METADATA_LIMITS.keys) {
    throw new ValidationError('invalid_metadata', `${field} may have at most ${METADATA_LIMITS.keys} keys.`, field);
  }
  const out: Record<string, string | null> = {};
  for (const [key, raw] of entries) {
    if (key.length === 0 || key.length > METADATA_LIMITS.keyLength || key.includes('[') || key.includes(']')) {
      throw new ValidationError(
        'invalid_metadata',
        `${field} keys must be 1 to ${METADATA_LIMITS.keyLength} characters without square brackets.`,
        `${field}.${key}`,
      );
    }
    if (allowDeletes && (raw === null || raw === '')) {
      out[key] = null;
      continue;
    }
    if (typeof raw !== 'string' || raw.length > METADATA_LIMITS.valueLength) {
      throw new ValidationError(
        'invalid_metadata',
        `${field}.${key} must be a string of at most ${METADATA_LIMITS.valueLength} characters.`,
        `${field}.${key}`,
      );
    }
    out[key] = raw;
  }
  return out;
}

/** Applies a metadata update to the stored map: null removes a key. */
export function mergeMetadata(
  current: Record<string, string>,
  update: Record<string, string | null>,
): Record<string, string> {
  const next: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  if (Object.keys(next).length > METADATA_LIMITS.keys) {
    throw new ValidationError(
      'invalid_metadata',
      `metadata may have at most ${METADATA_LIMITS.keys} keys.`,
      'metadata',
    );
  }
  return next;
}

export function parseText(
  value: unknown,
  field: string,
  maxLength: number,
  options: { allowEmpty?: boolean } = {},
): string {
  if (typeof value !== 'string' || value.length > maxLength || (!options.allowEmpty && value.trim() === '')) {
    throw new ValidationError(
      'invalid_string',
      `${field} must be a ${options.allowEmpty ? '' : 'non-empty '}string of at most ${maxLength} characters.`,
      field,
    );
  }
  return value;
}

export function parseEmail(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
    throw new ValidationError('invalid_email', `${field} must be an e-mail address.`, field);
  }
  return value;
}
