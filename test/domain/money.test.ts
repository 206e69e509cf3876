import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ValidationError } from '../../src/domain/errors.js';
import {
  checkStripeAmount,
  formatAmount,
  fromStripeWireAmount,
  getCurrency,
  listCurrencies,
  parseAmount,
  parseCurrency,
  toStripeWireAmount,
  type AmountSign,
} from '../../src/domain/money.js';

/** Runs fn, expects a ValidationError, and returns it for further checks. */
function rejection(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

function expectRejected(fn: () => unknown, code: string, param?: string): ValidationError {
  const error = rejection(fn);
  expect(error.code).toBe(code);
  expect(error.kind).toBe('invalid_request');
  if (param !== undefined) expect(error.param).toBe(param);
  return error;
}

describe('currency table', () => {
  it('knows exponents and Stripe flags for USD, JPY and KWD', () => {
    expect(getCurrency('USD')).toEqual({
      code: 'USD',
      exponent: 2,
      stripeZeroDecimal: false,
      stripeThreeDecimal: false,
      stripeMinimumAmount: 50,
    });
    expect(getCurrency('JPY')).toMatchObject({ exponent: 0, stripeZeroDecimal: true, stripeMinimumAmount: 50 });
    expect(getCurrency('KWD')).toMatchObject({ exponent: 3, stripeThreeDecimal: true, stripeMinimumAmount: null });
    expect(getCurrency('GBP')?.stripeMinimumAmount).toBe(30);
    expect(getCurrency('EUR')?.stripeMinimumAmount).toBe(50);
    expect(getCurrency('HUF')?.stripeMinimumAmount).toBe(17500);
    expect(getCurrency('ISK')).toMatchObject({ exponent: 0, stripeZeroDecimal: false });
    expect(getCurrency('MGA')).toMatchObject({ exponent: 2, stripeZeroDecimal: true });
  });

  it('looks codes up in any case and rejects unknown ones', () => {
    expect(getCurrency('usd')?.code).toBe('USD');
    expect(getCurrency('Jpy')?.code).toBe('JPY');
    expect(getCurrency('XYZ')).toBeUndefined();
    expect(getCurrency('')).toBeUndefined();
    expect(getCurrency('constructor')).toBeUndefined();
  });

  it('lists every Stripe presentment currency once, with consistent flags', () => {
    const list = listCurrencies();
    const codes = list.map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).toEqual([...codes].sort());
    expect(list.length).toBeGreaterThanOrEqual(135);
    for (const c of list) {
      expect(c.code).toMatch(/^[A-Z]{3}$/);
      expect([0, 2, 3]).toContain(c.exponent);
      if (c.stripeThreeDecimal) expect(c.exponent).toBe(3);
      if (c.stripeMinimumAmount !== null) expect(Number.isSafeInteger(c.stripeMinimumAmount)).toBe(true);
    }
    expect(list.filter((c) => c.stripeThreeDecimal).map((c) => c.code)).toEqual(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);
    expect(list.filter((c) => c.stripeZeroDecimal)).toHaveLength(16);
  });
});

describe('parseCurrency', () => {
  it('accepts any case and returns upper case', () => {
    expect(parseCurrency('usd', 'currency')).toBe('USD');
    expect(parseCurrency('UsD', 'currency')).toBe('USD');
    expect(parseCurrency('jpy', 'currency')).toBe('JPY');
    expect(parseCurrency('kwd', 'currency')).toBe('KWD');
  });

  it.each([['XYZ'], [''], ['usdd'], [' usd'], [42], [null], [undefined], [{}]])('rejects %j', (value) => {
    expectRejected(() => parseCurrency(value, 'settlement_currency'), 'invalid_currency', 'settlement_currency');
  });
});

describe('parseAmount', () => {
  it('accepts integers of minor units', () => {
    expect(parseAmount(1050, 'amount', 'positive')).toBe(1050);
    expect(parseAmount(1, 'amount', 'positive')).toBe(1);
    expect(parseAmount(0, 'amount', 'non_negative')).toBe(0);
    expect(parseAmount(0, 'amount', 'any')).toBe(0);
    expect(Object.is(parseAmount(-0, 'amount', 'any'), 0)).toBe(true);
  });

  it('accepts the largest safe amount and rejects MAX_SAFE_INTEGER + 1 as amount_too_large', () => {
    expect(parseAmount(Number.MAX_SAFE_INTEGER, 'amount', 'positive')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseAmount(-Number.MAX_SAFE_INTEGER, 'amount', 'negative')).toBe(-Number.MAX_SAFE_INTEGER);
    expectRejected(() => parseAmount(Number.MAX_SAFE_INTEGER + 1, 'amount', 'positive'), 'amount_too_large', 'amount');
    expectRejected(() => parseAmount(-(Number.MAX_SAFE_INTEGER + 1), 'amount', 'any'), 'amount_too_large', 'amount');
    expectRejected(() => parseAmount(1e20, 'amount', 'any'), 'amount_too_large', 'amount');
  });

  it('accepts negative amounts for negative/any/non_zero and rejects them for positive/non_negative', () => {
    expect(parseAmount(-35, 'amount', 'negative')).toBe(-35);
    expect(parseAmount(-35, 'amount', 'any')).toBe(-35);
    expect(parseAmount(-35, 'amount', 'non_zero')).toBe(-35);
    const error = expectRejected(() => parseAmount(-35, 'amount', 'positive'), 'invalid_amount', 'amount');
    expect(error.message).toContain('greater than 0');
    expectRejected(() => parseAmount(-1, 'amount', 'non_negative'), 'invalid_amount', 'amount');
    expectRejected(() => parseAmount(1, 'amount', 'negative'), 'invalid_amount', 'amount');
  });

  it.each<AmountSign>(['positive', 'negative', 'non_zero'])('rejects 0 for %s', (sign) => {
    expectRejected(() => parseAmount(0, 'amount', sign), 'invalid_amount', 'amount');
  });

  it('rejects non-numbers with a message about integer minor units', () => {
    for (const value of ['100', '10.50', null, true, false, undefined, {}, [], 10n]) {
      const error = expectRejected(() => parseAmount(value, 'refund_amount', 'any'), 'invalid_amount', 'refund_amount');
      expect(error.message).toMatch(/integer number of minor units/);
    }
  });

  it('rejects fractions, NaN and Infinity naming the field', () => {
    for (const value of [10.5, 0.1, -0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const field = 'amount_to_capture';
      const error = expectRejected(() => parseAmount(value, field, 'any'), 'invalid_amount', field);
      expect(error.message).toMatch(/fractions of a minor unit are not allowed/);
    }
  });
});

describe('formatAmount', () => {
  it.each([
    [1050, 'USD', '10.50 USD'],
    [-5, 'USD', '-0.05 USD'],
    [5, 'USD', '0.05 USD'],
    [0, 'USD', '0.00 USD'],
    [-0, 'USD', '0.00 USD'],
    [100, 'usd', '1.00 USD'],
    [-1050, 'EUR', '-10.50 EUR'],
    [1000, 'JPY', '1000 JPY'],
    [-1000, 'JPY', '-1000 JPY'],
    [0, 'JPY', '0 JPY'],
    [1234, 'KWD', '1.234 KWD'],
    [5, 'KWD', '0.005 KWD'],
    [-1, 'KWD', '-0.001 KWD'],
    [Number.MAX_SAFE_INTEGER, 'USD', '90071992547409.91 USD'],
    [-Number.MAX_SAFE_INTEGER, 'USD', '-90071992547409.91 USD'],
    [Number.MAX_SAFE_INTEGER, 'JPY', '9007199254740991 JPY'],
    [Number.MAX_SAFE_INTEGER, 'KWD', '9007199254740.991 KWD'],
    [1e15 + 1, 'USD', '10000000000000.01 USD'],
  ])('formatAmount(%d, %s) === %s', (minor, currency, text) => {
    expect(formatAmount(minor, currency)).toBe(text);
  });

  it('rejects non-integers and unknown currencies', () => {
    expectRejected(() => formatAmount(10.5, 'USD'), 'invalid_amount');
    expectRejected(() => formatAmount(Number.MAX_SAFE_INTEGER + 1, 'USD'), 'invalid_amount');
    expectRejected(() => formatAmount(1, 'XYZ'), 'invalid_currency');
  });

  it('never loses digits (property)', () => {
    const codes = listCurrencies().map((c) => c.code);
    fc.assert(
      fc.property(
        fc.maxSafeInteger(),
        fc.constantFrom(...codes),
        fc.constantFrom<(c: string) => string>(
          (c) => c,
          (c) => c.toLowerCase(),
        ),
        (minor, code, casing) => {
          const text = formatAmount(minor, casing(code));
          const [number, shownCode, ...rest] = text.split(' ');
          expect(rest).toEqual([]);
          expect(shownCode).toBe(code);
          const exponent = getCurrency(code)?.exponent ?? -1;
          const negative = number?.startsWith('-') ?? false;
          const unsigned = negative ? (number ?? '').slice(1) : (number ?? '');
          const [whole = '', fraction = '', ...more] = unsigned.split('.');
          expect(more).toEqual([]);
          expect(fraction.length).toBe(exponent);
          expect(whole).toMatch(/^(0|[1-9]\d*)$/);
          const digits = `${whole}${fraction}`.replace(/^0+(?=\d)/, '');
          expect(`${negative ? '-' : ''}${digits}`).toBe(String(minor === 0 ? 0 : minor));
          expect(negative).toBe(minor < 0);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('checkStripeAmount', () => {
  it('enforces the per-currency minimum', () => {
    const error = expectRejected(() => checkStripeAmount(49, 'USD', 'amount'), 'amount_too_small', 'amount');
    expect(error.message).toContain('0.50 USD');
    expect(() => checkStripeAmount(50, 'USD', 'amount')).not.toThrow();
    expectRejected(() => checkStripeAmount(29, 'GBP', 'amount'), 'amount_too_small', 'amount');
    expect(() => checkStripeAmount(30, 'GBP', 'amount')).not.toThrow();
    expectRejected(() => checkStripeAmount(49, 'JPY', 'amount'), 'amount_too_small', 'amount');
    expect(() => checkStripeAmount(50, 'jpy', 'amount')).not.toThrow();
  });

  it('rejects zero and negative amounts even without a published minimum', () => {
    expectRejected(() => checkStripeAmount(0, 'KWD', 'amount'), 'amount_too_small', 'amount');
    expectRejected(() => checkStripeAmount(-10, 'USD', 'amount'), 'amount_too_small', 'amount');
    expect(() => checkStripeAmount(10, 'KWD', 'amount')).not.toThrow();
  });

  it('allows at most 8 digits on the wire', () => {
    expect(() => checkStripeAmount(99_999_999, 'USD', 'amount')).not.toThrow();
    const error = expectRejected(() => checkStripeAmount(100_000_000, 'USD', 'amount'), 'amount_too_large', 'amount');
    expect(error.message).toContain('999999.99 USD');
    expect(() => checkStripeAmount(99_999_999, 'JPY', 'amount')).not.toThrow();
    expectRejected(() => checkStripeAmount(100_000_000, 'JPY', 'amount'), 'amount_too_large', 'amount');
    // ISK goes on the wire x100, so 999999 ISK is the largest charge.
    expect(() => checkStripeAmount(999_999, 'ISK', 'amount')).not.toThrow();
    expectRejected(() => checkStripeAmount(1_000_000, 'ISK', 'amount'), 'amount_too_large', 'amount');
  });

  it('requires three-decimal amounts to end in 0', () => {
    const error = expectRejected(() => checkStripeAmount(1235, 'KWD', 'amount'), 'invalid_amount', 'amount');
    expect(error.message).toContain('1.235 KWD');
    expect(() => checkStripeAmount(1230, 'KWD', 'amount')).not.toThrow();
    expectRejected(() => checkStripeAmount(1001, 'BHD', 'amount'), 'invalid_amount', 'amount');
  });

  it('requires whole ariary for MGA (zero-decimal at Stripe, exponent 2 in ISO)', () => {
    expectRejected(() => checkStripeAmount(1050, 'MGA', 'amount'), 'invalid_amount', 'amount');
    expect(() => checkStripeAmount(1000, 'MGA', 'amount')).not.toThrow();
    expectRejected(() => checkStripeAmount(0, 'MGA', 'amount'), 'amount_too_small', 'amount');
  });

  it('rejects a non-integer amount or unknown currency naming the field', () => {
    expectRejected(() => checkStripeAmount(50.5, 'USD', 'amount'), 'invalid_amount', 'amount');
    expectRejected(() => checkStripeAmount(50, 'XYZ', 'amount'), 'invalid_currency', 'amount');
  });
});

describe('Stripe wire amounts', () => {
  it('equals minor units for ordinary currencies, HUF and TWD included', () => {
    expect(toStripeWireAmount(1050, 'USD')).toBe(1050);
    expect(toStripeWireAmount(500, 'JPY')).toBe(500);
    expect(toStripeWireAmount(5120, 'KWD')).toBe(5120);
    expect(toStripeWireAmount(1045, 'HUF')).toBe(1045);
    expect(toStripeWireAmount(80045, 'TWD')).toBe(80045);
    expect(toStripeWireAmount(-35, 'usd')).toBe(-35);
  });

  it('sends ISK and UGX as two-decimal values ending in 00', () => {
    expect(toStripeWireAmount(5, 'ISK')).toBe(500);
    expect(toStripeWireAmount(5, 'UGX')).toBe(500);
    expect(fromStripeWireAmount(500, 'ISK')).toBe(5);
    expect(fromStripeWireAmount(500, 'ugx')).toBe(5);
    expectRejected(() => fromStripeWireAmount(550, 'ISK'), 'invalid_amount');
    expectRejected(() => toStripeWireAmount(Number.MAX_SAFE_INTEGER, 'ISK'), 'amount_too_large');
  });

  it('sends MGA in whole ariary', () => {
    expect(toStripeWireAmount(1500, 'MGA')).toBe(15);
    expect(fromStripeWireAmount(15, 'MGA')).toBe(1500);
    expectRejected(() => toStripeWireAmount(1550, 'MGA'), 'invalid_amount');
  });

  it('round-trips for every currency (property)', () => {
    const currencies = listCurrencies();
    fc.assert(
      fc.property(fc.constantFrom(...currencies), fc.integer({ min: -99_999_999, max: 99_999_999 }), (currency, n) => {
        // Build a ledger amount Stripe can represent in this currency, then go there and back.
        const wire = currency.code === 'ISK' || currency.code === 'UGX' ? n * 100 : n;
        const minor = fromStripeWireAmount(wire, currency.code);
        expect(toStripeWireAmount(minor, currency.code)).toBe(wire);
        if (currency.code !== 'MGA') {
          expect(fromStripeWireAmount(toStripeWireAmount(n, currency.code), currency.code)).toBe(n);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
