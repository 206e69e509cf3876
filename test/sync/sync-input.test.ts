// What a backfill may be asked for (W6): dates and timestamps, the range, the object types. Pure.
import { describe, expect, it } from 'vitest';
import { parseInstant, parseSyncRequest, SYNC_OBJECTS } from '../../src/app/sync/sync-input.js';
import { ValidationError } from '../../src/domain/errors.js';

const NOW = new Date('2026-11-24T12:00:00Z');

function refusal(run: () => unknown): { code: string; param: string | undefined } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const e = error as ValidationError;
    return { code: e.code, param: e.param };
  }
  throw new Error('not refused');
}

describe('backfill request', () => {
  it('reads a date as midnight UTC and a timestamp with its offset', () => {
    expect(parseInstant('2026-11-01', 'since').toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(parseInstant('2026-11-01T10:30:00+02:00', 'since').toISOString()).toBe('2026-11-01T08:30:00.000Z');
    expect(parseInstant('2026-11-01T10:30Z', 'since').toISOString()).toBe('2026-11-01T10:30:00.000Z');
    expect(parseInstant('2024-02-29', 'since').toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });

  it('refuses what is not a real date, a timestamp without its offset, and other types', () => {
    for (const bad of [
      '2026-02-30',
      '2025-02-29',
      '2026-13-01',
      '2026-1-1',
      '2026-11-01T10:00:00',
      'now',
      '',
      1,
      null,
    ]) {
      expect(
        refusal(() => parseInstant(bad, 'since')),
        String(bad),
      ).toEqual({
        code: 'parameter_invalid_date',
        param: 'since',
      });
    }
  });

  it('defaults to every object type in import order, and puts a subset in that order', () => {
    expect(parseSyncRequest({ since: '2026-11-01' }, NOW)).toEqual({
      since: new Date('2026-11-01T00:00:00Z'),
      until: null,
      objects: [...SYNC_OBJECTS],
    });
    expect(parseSyncRequest({ since: '2026-11-01', objects: ['payouts', 'customers'] }, NOW).objects).toEqual([
      'customers',
      'payouts',
    ]);
  });

  it('refuses a missing or future since, an until not after it, and unknown, repeated or empty object lists', () => {
    expect(refusal(() => parseSyncRequest({}, NOW))).toEqual({ code: 'parameter_missing', param: 'since' });
    expect(refusal(() => parseSyncRequest({ since: '2026-11-24T12:00:01Z' }, NOW)).param).toBe('since');
    expect(parseSyncRequest({ since: '2026-11-24T12:00:00Z' }, NOW).since).toEqual(NOW); // now itself is fine
    for (const until of ['2026-11-01', '2026-10-31']) {
      expect(refusal(() => parseSyncRequest({ since: '2026-11-01', until }, NOW))).toEqual({
        code: 'parameter_invalid_value',
        param: 'until',
      });
    }
    for (const objects of [[], ['charges'], ['payments', 'payments'], 'payments', [1]]) {
      expect(
        refusal(() => parseSyncRequest({ since: '2026-11-01', objects }, NOW)),
        JSON.stringify(objects),
      ).toEqual({
        code: 'parameter_invalid_value',
        param: 'objects',
      });
    }
  });
});
