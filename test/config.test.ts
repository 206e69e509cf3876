// The environment's settings as loadConfig reads them: defaults, and a clear error for a bad value.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { DEFAULT_ALLOWANCE_MS } from '../src/gateway-adapters/stripe/shared-rate-limiter.js';

describe('loadConfig', () => {
  it('reads the shared rate limit allowance, 45 ms unless set', () => {
    expect(DEFAULT_ALLOWANCE_MS).toBe(45);
    expect(loadConfig({}).rateLimitAllowanceMs).toBe(45);
    expect(loadConfig({ SETTLE_RATE_LIMIT_ALLOWANCE_MS: '120' }).rateLimitAllowanceMs).toBe(120);
    expect(loadConfig({ SETTLE_RATE_LIMIT_ALLOWANCE_MS: '0' }).rateLimitAllowanceMs).toBe(0);
  });

  it('refuses an allowance that is not a whole number of milliseconds up to 1000', () => {
    expect(() => loadConfig({ SETTLE_RATE_LIMIT_ALLOWANCE_MS: '2.5' })).toThrow(
      /SETTLE_RATE_LIMIT_ALLOWANCE_MS must be a whole number/,
    );
    expect(() => loadConfig({ SETTLE_RATE_LIMIT_ALLOWANCE_MS: '-1' })).toThrow(
      /SETTLE_RATE_LIMIT_ALLOWANCE_MS must be a whole number/,
    );
    expect(() => loadConfig({ SETTLE_RATE_LIMIT_ALLOWANCE_MS: '5000' })).toThrow(/between 0 and 1000/);
  });
});
