// S3: the scheduler's slots and next run times, in time zones and across daylight-saving changes (pure).
import { describe, expect, it } from 'vitest';
import { timeOfDayInZone, zonedTimeToInstant } from '../../src/app/clock.js';
import { currentSlot, nextRunAt } from '../../src/jobs/scheduler.js';

const DAILY = { kind: 'daily' } as const;
const at = (iso: string) => new Date(iso);

describe('job schedule', () => {
  it('S3: a daily job is due once the wall clock in the timezone reaches daily_jobs_at; its slot is that local day', () => {
    const utc = { timezone: 'UTC', daily_jobs_at: '06:00' };
    expect(currentSlot(DAILY, utc, at('2026-11-24T05:59:59Z'))).toBeNull();
    expect(currentSlot(DAILY, utc, at('2026-11-24T06:00:00Z'))).toBe('2026-11-24');
    expect(currentSlot(DAILY, utc, at('2026-11-24T23:59:00Z'))).toBe('2026-11-24');
    const paris = { timezone: 'Europe/Paris', daily_jobs_at: '06:00' };
    expect(currentSlot(DAILY, paris, at('2026-11-24T04:59:00Z'))).toBeNull(); // 05:59 in Paris
    expect(currentSlot(DAILY, paris, at('2026-11-24T05:00:00Z'))).toBe('2026-11-24');
    const la = { timezone: 'America/Los_Angeles', daily_jobs_at: '06:00' };
    expect(currentSlot(DAILY, la, at('2026-11-24T03:00:00Z'))).toBe('2026-11-23'); // 19:00 the day before
  });

  it('S3: an interval job has one slot per interval', () => {
    const s = { timezone: 'UTC', daily_jobs_at: '06:00' };
    const every = { kind: 'interval', seconds: 60 } as const;
    expect(currentSlot(every, s, at('2026-11-24T10:00:59.999Z'))).toBe('2026-11-24T10:00:00.000Z');
    expect(currentSlot(every, s, at('2026-11-24T10:01:00Z'))).toBe('2026-11-24T10:01:00.000Z');
    expect(nextRunAt(every, s, at('2026-11-24T10:00:30Z'), '2026-11-24T10:00:00.000Z').toISOString()).toBe(
      '2026-11-24T10:01:00.000Z',
    );
    expect(nextRunAt(every, s, at('2026-11-24T10:00:30Z'), null).toISOString()).toBe('2026-11-24T10:00:00.000Z');
  });

  it("S3: the next daily run is today's time if today's slot has not run, else tomorrow's", () => {
    const paris = { timezone: 'Europe/Paris', daily_jobs_at: '06:00' };
    expect(nextRunAt(DAILY, paris, at('2026-11-24T03:00:00Z'), '2026-11-23').toISOString()).toBe(
      '2026-11-24T05:00:00.000Z',
    );
    expect(nextRunAt(DAILY, paris, at('2026-11-24T09:00:00Z'), '2026-11-24').toISOString()).toBe(
      '2026-11-25T05:00:00.000Z',
    );
    // Missed (the process was down at 06:00): due now.
    expect(nextRunAt(DAILY, paris, at('2026-11-24T09:00:00Z'), '2026-11-23').toISOString()).toBe(
      '2026-11-24T09:00:00.000Z',
    );
  });

  it('zonedTimeToInstant handles daylight-saving gaps and overlaps', () => {
    expect(zonedTimeToInstant('2026-07-01', '06:00', 'Europe/Paris').toISOString()).toBe('2026-07-01T04:00:00.000Z');
    expect(zonedTimeToInstant('2026-01-01', '06:00', 'America/New_York').toISOString()).toBe(
      '2026-01-01T11:00:00.000Z',
    );
    // 02:30 does not exist in Paris on 2026-03-29 (02:00 -> 03:00): moved forward by the hour skipped.
    const gap = zonedTimeToInstant('2026-03-29', '02:30', 'Europe/Paris');
    expect(timeOfDayInZone(gap, 'Europe/Paris')).toBe('03:30');
    expect(gap.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    // 02:30 happens twice in Paris on 2026-10-25: the first one (still summer time, UTC+2).
    expect(zonedTimeToInstant('2026-10-25', '02:30', 'Europe/Paris').toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(zonedTimeToInstant('2026-11-24', '23:59', 'Pacific/Kiritimati').toISOString()).toBe(
      '2026-11-24T09:59:00.000Z',
    );
  });
});
