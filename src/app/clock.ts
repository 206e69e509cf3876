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

const timeFormatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time ('HH:MM', 00:00 to 23:59) of an instant in an IANA time zone. */
export function timeOfDayInZone(instant: Date, timeZone: string): string {
  let formatter = timeFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    timeFormatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(instant);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('hour')}:${get('minute')}`;
}

/**
 * The instant at which the wall clock in `timeZone` shows `day` `time` ('YYYY-MM-DD', 'HH:MM'). In an overlap (the
 * hour repeated when clocks go back) the earlier instant; in a gap (a time skipped when clocks go forward) the time
 * is moved forward by the gap's length (02:30 becomes 03:30), as calendar applications do.
 */
export function zonedTimeToInstant(day: string, time: string, timeZone: string): Date {
  const [y, mo, d] = day.split('-').map(Number) as [number, number, number];
  const [h, mi] = time.split(':').map(Number) as [number, number];
  const wanted = Date.UTC(y, mo - 1, d, h, mi);
  // Offset of the zone at an instant: its wall clock read as if it were UTC, minus the instant.
  const offsetAt = (ms: number): number => {
    const wall = dateInZone(new Date(ms), timeZone);
    const [wh, wm] = timeOfDayInZone(new Date(ms), timeZone).split(':').map(Number) as [number, number];
    const [wy, wmo, wd] = wall.split('-').map(Number) as [number, number, number];
    return Date.UTC(wy, wmo - 1, wd, wh, wm) - Math.floor(ms / 60_000) * 60_000;
  };
  // The zone's offsets a day either side cover any change on that day.
  const before = offsetAt(wanted - 86_400_000);
  const after = offsetAt(wanted + 86_400_000);
  const valid = [wanted - before, wanted - after].filter((c) => offsetAt(c) === wanted - c).sort((a, b) => a - b);
  if (valid.length > 0) return new Date(valid[0]!);
  return new Date(wanted - before);
}
