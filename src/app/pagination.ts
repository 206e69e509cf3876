// Lists (api.md): newest first by id, `limit` 1 to 200 (default 20), `starting_after` = the previous
// page's `next_cursor` (the last id shown). Queries fetch `limit + 1` rows to know whether more follow.
import { ValidationError } from '../domain/errors.js';

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
