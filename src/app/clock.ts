// The clock is a port so that jobs and tests can run on a fake time.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A settable clock for tests. */
export class FakeClock implements Clock {
  #now: Date;
  constructor(start: Date | string) {
    this.#now = new Date(start);
  }
  now(): Date {
    return new Date(this.#now);
  }
  set(value: Date | string): void {
    this.#now = new Date(value);
  }
  advance(ms: number): void {
    this.#now = new Date(this.#now.getTime() + ms);
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const lastDate = new Map<string, { minute: number; date: string }>();

/**
 * The calendar date ('YYYY-MM-DD') of an instant in an IANA time zone. Every zone's offset is a whole
 * number of minutes, so the date can only change on a minute boundary: the answer is reused within one.
 */
export function dateInZone(instant: Date, timeZone: string): string {
  const minute = Math.floor(instant.getTime() / 60_000);
  const last = lastDate.get(timeZone);
  if (last && last.minute === minute) return last.date;
  const date = formatDateInZone(instant, timeZone);
  lastDate.set(timeZone, { minute, date });
  return date;
}

function formatDateInZone(instant: Date, timeZone: string): string {
  // Building a formatter costs far more than using one, and this runs on most requests.
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(instant);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
