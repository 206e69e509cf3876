// Lists (README, "API overview"): newest first by id, `limit` 1 to 200 (default 20), `starting_after` = the previous
// page's `next_cursor` (the last id shown). Queries fetch `limit + 1` rows to know whether more follow.
// A cursor is checked before it is used: one that is not an id of the list's own kind is a 400, never a page.
import { ValidationError } from '../domain/errors.js';
import { ID_PREFIXES, type IdKind } from './ids.js';

export interface Page<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

export function parseLimit(limit: number | undefined, fallback = 20): number {
  const value = limit ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > 200) {
    throw new ValidationError('invalid_limit', 'limit must be a whole number from 1 to 200.', 'limit');
  }
  return value;
}

/** `rows` were fetched with `limit + 1` rows, so an extra row means there is another page. */
export function pageOf<R, V>(rows: R[], limit: number, present: (row: R) => V, cursorOf: (row: R) => string): Page<V> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const hasMore = rows.length > limit && last !== undefined;
  return { object: 'list', data: page.map(present), has_more: hasMore, next_cursor: hasMore ? cursorOf(last) : null };
}

export const byId = (row: { id: string }): string => row.id;

/** Exactly the ids newId() makes: the kind's prefix, then 26 base-36 characters (10 of time, 16 random). */
const ID_FORMAT = new Map(
  Object.entries(ID_PREFIXES).map(([kind, prefix]) => [kind, new RegExp(`^${prefix}_[0-9a-z]{26}$`)]),
);

export function invalidCursor(): ValidationError {
  return new ValidationError(
    'invalid_cursor',
    "'starting_after' must be the next_cursor of a previous page of this list.",
    'starting_after',
  );
}

/**
 * The `starting_after` of a list of `kind` ids, checked: an id of another kind (a foreign cursor), a truncated or
 * made-up one is a 400 invalid_cursor. Without the check such a cursor compares as text and silently yields an
 * empty or wrong page.
 */
export function cursorAfter(startingAfter: string | undefined, kind: IdKind): string | undefined {
  if (startingAfter === undefined) return undefined;
  if (!ID_FORMAT.get(kind)?.test(startingAfter)) throw invalidCursor();
  return startingAfter;
}
