// X6: the dates of a payment schedule's occurrences, and which of them a top-up generates.
import { describe, expect, it } from 'vitest';
import {
  addMonthsClamped,
  isComplete,
  lastOccurrence,
  MAX_OCCURRENCES_PER_TOP_UP,
  nextOccurrenceDate,
  occurrenceDate,
  occurrencesToGenerate,
  type ScheduleDates,
} from '../../src/domain/schedules.js';

const schedule = (fields: Partial<ScheduleDates>): ScheduleDates => ({
  interval: 'month',
  interval_count: 1,
  start_date: '2026-01-31',
  end_date: null,
  occurrences: null,
  ...fields,
});

const dates = (s: ScheduleDates, n: number) => Array.from({ length: n }, (_, i) => occurrenceDate(s, i + 1));

describe('payment schedule dates', () => {
  it('monthly from the 31st falls on the last day of shorter months and back on the 31st', () => {
    expect(dates(schedule({}), 7)).toEqual([
      '2026-01-31',
      '2026-02-28',
      '2026-03-31',
      '2026-04-30',
      '2026-05-31',
      '2026-06-30',
      '2026-07-31',
    ]);
  });

  it('February has 29 days in a leap year (2028, 2000) and 28 in a century that is not one (2100)', () => {
    expect(occurrenceDate(schedule({ start_date: '2028-01-31' }), 2)).toBe('2028-02-29');
    expect(occurrenceDate(schedule({ start_date: '2028-01-29' }), 2)).toBe('2028-02-29');
    expect(occurrenceDate(schedule({ start_date: '2027-01-29' }), 2)).toBe('2027-02-28');
    expect(occurrenceDate(schedule({ start_date: '2000-01-30' }), 2)).toBe('2000-02-29');
    expect(occurrenceDate(schedule({ start_date: '2100-01-30' }), 2)).toBe('2100-02-28');
  });

  it('the 29th, 30th and 31st each keep their own day once the month is long enough', () => {
    for (const [start, feb, mar] of [
      ['2027-01-29', '2027-02-28', '2027-03-29'],
      ['2027-01-30', '2027-02-28', '2027-03-30'],
      ['2027-01-31', '2027-02-28', '2027-03-31'],
    ] as const) {
      expect(dates(schedule({ start_date: start }), 3)).toEqual([start, feb, mar]);
    }
  });

  it('a yearly schedule from Feb 29 falls on Feb 28 in common years and Feb 29 in leap years', () => {
    const s = schedule({ interval: 'year', start_date: '2028-02-29' });
    expect(dates(s, 5)).toEqual(['2028-02-29', '2029-02-28', '2030-02-28', '2031-02-28', '2032-02-29']);
  });

  it('quarters are 3 months, weeks 7 days, and interval_count multiplies them', () => {
    expect(dates(schedule({ interval: 'quarter', start_date: '2026-11-30' }), 4)).toEqual([
      '2026-11-30',
      '2027-02-28',
      '2027-05-30',
      '2027-08-30',
    ]);
    expect(dates(schedule({ interval: 'week', start_date: '2026-12-24' }), 3)).toEqual([
      '2026-12-24',
      '2026-12-31',
      '2027-01-07',
    ]);
    expect(dates(schedule({ interval: 'week', interval_count: 2, start_date: '2028-02-22' }), 3)).toEqual([
      '2028-02-22',
      '2028-03-07',
      '2028-03-21',
    ]);
    expect(dates(schedule({ interval_count: 2, start_date: '2026-12-31' }), 3)).toEqual([
      '2026-12-31',
      '2027-02-28',
      '2027-04-30',
    ]);
    expect(addMonthsClamped('2026-12-15', 1)).toBe('2027-01-15');
  });

  it('the last occurrence: occurrences, or the last date on or before end_date, or none', () => {
    expect(lastOccurrence(schedule({ occurrences: 12 }))).toBe(12);
    expect(lastOccurrence(schedule({}))).toBeNull();
    // From the 31st: Feb 28 is on or before Feb 28, Mar 31 is not on or before Mar 30.
    expect(lastOccurrence(schedule({ end_date: '2026-02-28' }))).toBe(2);
    expect(lastOccurrence(schedule({ end_date: '2026-03-30' }))).toBe(2);
    expect(lastOccurrence(schedule({ end_date: '2026-03-31' }))).toBe(3);
    expect(lastOccurrence(schedule({ end_date: '2026-01-31' }))).toBe(1);
    expect(lastOccurrence(schedule({ interval: 'week', start_date: '2026-12-01', end_date: '2026-12-29' }))).toBe(5);
    expect(lastOccurrence(schedule({ interval: 'week', start_date: '2026-12-01', end_date: '2026-12-28' }))).toBe(4);
    expect(lastOccurrence(schedule({ interval: 'year', start_date: '2028-02-29', end_date: '2032-02-28' }))).toBe(4);
  });

  it('next date and completion follow the generated count', () => {
    const s = schedule({ occurrences: 2 });
    expect(nextOccurrenceDate(s, 0)).toBe('2026-01-31');
    expect(nextOccurrenceDate(s, 1)).toBe('2026-02-28');
    expect(nextOccurrenceDate(s, 2)).toBeNull();
    expect(isComplete(s, 1)).toBe(false);
    expect(isComplete(s, 2)).toBe(true);
    expect(isComplete(schedule({}), 1000)).toBe(false);
  });
});

describe('what a top-up generates', () => {
  it('every occurrence within the horizon of today', () => {
    const s = schedule({ interval: 'week', start_date: '2026-11-24' });
    expect(occurrencesToGenerate(s, 0, '2026-11-24', 14).map((o) => o.date)).toEqual([
      '2026-11-24',
      '2026-12-01',
      '2026-12-08',
    ]);
    // Nothing new until the horizon reaches the next date.
    expect(occurrencesToGenerate(s, 3, '2026-11-24', 14)).toEqual([]);
    expect(occurrencesToGenerate(s, 3, '2026-12-01', 14)).toEqual([{ occurrence: 4, date: '2026-12-15' }]);
  });

  it('always the next occurrence, even beyond the horizon', () => {
    const yearly = schedule({ interval: 'year', start_date: '2027-03-01' });
    expect(occurrencesToGenerate(yearly, 0, '2026-11-24', 35)).toEqual([{ occurrence: 1, date: '2027-03-01' }]);
    expect(occurrencesToGenerate(yearly, 1, '2026-11-24', 35)).toEqual([]);
    // Once occurrence 1 is past, occurrence 2 is the next one and is generated at once.
    expect(occurrencesToGenerate(yearly, 1, '2027-03-02', 35)).toEqual([{ occurrence: 2, date: '2028-03-01' }]);
  });

  it('catches up the occurrences that fell due while nothing was generated, then the next one', () => {
    const monthly = schedule({ start_date: '2026-01-31' });
    expect(occurrencesToGenerate(monthly, 1, '2026-05-05', 1).map((o) => o.date)).toEqual([
      '2026-02-28',
      '2026-03-31',
      '2026-04-30',
      '2026-05-31',
    ]);
  });

  it('stops at the last occurrence, and generates at most MAX_OCCURRENCES_PER_TOP_UP at once', () => {
    const s = schedule({ start_date: '2026-11-24', occurrences: 2 });
    expect(occurrencesToGenerate(s, 0, '2026-11-24', 3660).map((o) => o.occurrence)).toEqual([1, 2]);
    expect(occurrencesToGenerate(s, 2, '2026-11-24', 3660)).toEqual([]);
    const ended = schedule({ start_date: '2026-11-24', end_date: '2026-12-31', interval: 'week' });
    expect(occurrencesToGenerate(ended, 0, '2026-11-24', 3660)).toHaveLength(6);
    const weekly = schedule({ interval: 'week', start_date: '2026-11-24' });
    expect(occurrencesToGenerate(weekly, 0, '2026-11-24', 3660)).toHaveLength(MAX_OCCURRENCES_PER_TOP_UP);
  });
});
