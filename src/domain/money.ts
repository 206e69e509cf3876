// Money (L4): amounts are integers of a currency's ISO 4217 minor unit, held in a JS number that must be a safe
// integer. Nothing here uses floats, parseFloat or a division that could leave a fraction. Pure: no I/O imports.
//
// DATA NOTE: sources, checked 2026-11. These are facts and figures only. Wording is our own.
// [S1] Stripe, "Supported currencies": https://docs.stripe.com/currencies (also served as .md). We read stored
//      copies of two versions of it:
//      - 2023: has the presentment list, the zero-decimal list, the three-decimal list and the special cases
//        (ISK from 2023-04-14, HUF, TWD, UGX).
//      - 2025/2026: has the special cases and the minimum/maximum charge tables. Its text export leaves out the
//        list tables.
//      Archived 2022 copy with the three-decimal section:
//      https://web.archive.org/web/20221231002856/https://stripe.com/docs/currencies
// [S2] ISO 4217 minor units: https://www.iso.org/iso-4217-currency-codes.html (maintenance agency list-one, SIX).
//      We checked MGA = 2 against a quoted list-one entry (https://github.com/brick/money/issues/51). ISK = 0,
//      UGX = 0, HUF = 2 and TWD = 2 come from a research note that quotes list-one. The other exponents are the
//      well-known list-one values and were not re-read one by one here.
// [S3] Secondary cross-check of a recent Stripe presentment list (it includes XCG):
//      https://woocommerce.com/document/payments/faq/available-currencies/ (WooPayments runs on Stripe).
// [S4] Stripe's error codes `amount_too_small` and `amount_too_large`: https://docs.stripe.com/error-codes and the
//      SDK's types (stripe-node 23.1.0, `PaymentIntent.LastPaymentError.Code`).
//
// Gaps and choices:
// - We could not read the current presentment table from Stripe itself (it is rendered per account country).
//   The list below is the 2023 table [S1]. We add XCG [S3] and the three-decimal currencies BHD, JOD, KWD, OMR
//   and TND: Stripe offers these only to some account countries, e.g. the UAE [S1].
// - We leave out codes that are no longer active in ISO 4217 or are being withdrawn:
//   - STD: replaced by STN in 2018. Stripe lists STD, and we do not know whether Stripe accepts STN.
//   - ANG: replaced by XCG in 2025.
//   - BGN: Bulgaria adopted the euro on 2026-01-01, and the current Stripe minimum table no longer lists BGN
//     (the 2023 table had 1.00 BGN).
//   We did not confirm ISO's exact withdrawal dates for ANG and BGN.
// - Three-decimal rule (the last digit must be 0): it is in the 2022/2023 copies, but the current text export
//   does not have that section. We still enforce it, because it is the safe reading.
// - UGX is on Stripe's zero-decimal list, and Stripe's special-cases table also says to send it as a
//   two-decimal value ending in 00. We follow the special case (more specific; ISK has the same wording), so
//   UGX and ISK go on the wire as ISO minor units x 100.
// - HUF and TWD: Stripe's divisible-by-100 rule covers manual payouts only. Charges use two decimals, the same
//   as ISO, so on the wire they equal the minor units.
// - MGA: ISO exponent 2, but Stripe treats MGA as zero-decimal. The wire value is minor / 100, so an MGA charge
//   must be a whole number of ariary. Stripe's docs do not call this out; it follows from [S1] and [S2].
// - Minimums are listed for settlement currencies, and Stripe checks them after converting to the account's
//   settlement currency. We can only check a charge against the minimum of its own currency. Currencies with no
//   published minimum get null, and the only check is that the amount is positive.
// - Maximum: the current page allows up to 12 digits for most card payments and up to 8 for non-card methods
//   (9 for INR, 10 for COP, 12 for IDR). The PaymentIntent reference still says 8 digits. We apply 8 digits to
//   every currency, the most conservative bound (L4).
import { ValidationError } from './errors.js';

export interface Currency {
  code: string; // upper-case ISO 4217, e.g. 'USD'
  exponent: number; // ISO 4217 minor-unit exponent: USD 2, JPY 0, KWD 3
  stripeZeroDecimal: boolean; // on Stripe's zero-decimal list
  stripeThreeDecimal: boolean; // Stripe three-decimal currencies (BHD, JOD, KWD, OMR, TND): amounts must end in 0
  stripeMinimumAmount: number | null; // Stripe's minimum charge in minor units, null when none is published
}

// ---- data table ------------------------------------------------------------------------------------------------

/** Stripe presentment currencies that are active in ISO 4217 ([S1] 2023 list + XCG + three-decimal; see the note). */
const STRIPE_CURRENCIES =
  'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BRL BSD BWP BYN BZD CAD CDF CHF CLP CNY ' +
  'COP CRC CVE CZK DJF DKK DOP DZD EGP ETB EUR FJD FKP GBP GEL GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR ' +
  'ISK JMD JOD JPY KES KGS KHR KMF KRW KWD KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MUR MVR MWK ' +
  'MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SEK SGD ' +
  'SHP SLE SOS SRD SZL THB TJS TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VND VUV WST XAF XCD XCG XOF XPF YER ' +
  'ZAR ZMW';

/** ISO 4217 exponents other than 2, for the currencies above [S2]. */
const ISO_EXPONENT_0 = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF';
const ISO_EXPONENT_3 = 'BHD JOD KWD OMR TND';

/** Stripe's zero-decimal and three-decimal lists [S1]. */
const STRIPE_ZERO_DECIMAL = 'BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF';
const STRIPE_THREE_DECIMAL = 'BHD JOD KWD OMR TND';

/**
 * Stripe's minimum charge per currency, in ISO minor units ([S1], 2025/2026 table). Examples: 0.50 USD -> 50;
 * 50 JPY -> 50; 175.00 HUF -> 17500; 10 THB -> 1000.
 */
const STRIPE_MINIMUMS: Readonly<Record<string, number>> = {
  USD: 50,
  AED: 200,
  ARS: 50,
  AUD: 50,
  BRL: 50,
  CAD: 50,
  CHF: 50,
  COP: 50,
  CZK: 1500,
  DKK: 250,
  EUR: 50,
  GBP: 30,
  HKD: 400,
  HUF: 17500,
  IDR: 50,
  ILS: 50,
  INR: 50,
  JPY: 50,
  KRW: 50,
  MXN: 1000,
  MYR: 200,
  NOK: 300,
  NZD: 50,
  PHP: 50,
  PLN: 200,
  RON: 200,
  RUB: 50,
  SEK: 300,
  SGD: 50,
  THB: 1000,
  ZAR: 50,
};

/**
 * Stripe's special cases [S1]. ISK and UGX changed to zero decimals, but the API still takes them as two-decimal
 * values ending in 00: 5 ISK is sent as 500.
 */
const STRIPE_TWO_DECIMAL_WIRE = new Set(['ISK', 'UGX']);

/** Stripe's largest `amount`: 8 digits (see the note on maximums). */
const STRIPE_MAX_WIRE_AMOUNT = 99_999_999;

// ---- table construction ----------------------------------------------------------------------------------------

const words = (list: string): Set<string> => new Set(list.split(' '));

const CURRENCIES: ReadonlyMap<string, Readonly<Currency>> = (() => {
  const zero = words(ISO_EXPONENT_0);
  const three = words(ISO_EXPONENT_3);
  const stripeZero = words(STRIPE_ZERO_DECIMAL);
  const stripeThree = words(STRIPE_THREE_DECIMAL);
  const map = new Map<string, Readonly<Currency>>();
  for (const code of words(STRIPE_CURRENCIES)) {
    map.set(
      code,
      Object.freeze({
        code,
        exponent: zero.has(code) ? 0 : three.has(code) ? 3 : 2,
        stripeZeroDecimal: stripeZero.has(code),
        stripeThreeDecimal: stripeThree.has(code),
        stripeMinimumAmount: STRIPE_MINIMUMS[code] ?? null,
      }),
    );
  }
  return map;
})();

const CURRENCY_LIST: readonly Currency[] = Object.freeze([...CURRENCIES.values()]);

// ---- currencies ------------------------------------------------------------------------------------------------

/** The currency with this ISO 4217 code (any case), or undefined when Settle does not support it. */
export function getCurrency(code: string): Currency | undefined {
  return typeof code === 'string' ? CURRENCIES.get(code.toUpperCase()) : undefined;
}

/** Every supported currency, sorted by code. */
export function listCurrencies(): readonly Currency[] {
  return CURRENCY_LIST;
}

/** Validates a request's currency field. Returns the upper-case code. */
export function parseCurrency(value: unknown, field: string): string {
  if (typeof value !== 'string') {
    throw new ValidationError(
      'invalid_currency',
      `'${field}' must be a three-letter ISO 4217 currency code given as a string, e.g. 'USD'.`,
      field,
    );
  }
  const currency = getCurrency(value);
  if (!currency) {
    const shown = value.length > 16 ? `${value.slice(0, 16)}...` : value;
    throw new ValidationError(
      'invalid_currency',
      `'${field}' must be a supported ISO 4217 currency code; '${shown}' is not one.`,
      field,
    );
  }
  return currency.code;
}

/** Currency lookup for amounts. Callers have already validated the code, so failing here is a programming error. */
function requireCurrency(code: string, param?: string): Currency {
  const currency = getCurrency(code);
  if (!currency) {
    throw new ValidationError('invalid_currency', `Unsupported currency '${String(code)}'.`, param);
  }
  return currency;
}

// ---- amounts ---------------------------------------------------------------------------------------------------

export type AmountSign = 'positive' | 'negative' | 'non_zero' | 'non_negative' | 'any';

const SIGN_RULES: Readonly<Record<AmountSign, { ok: (n: number) => boolean; text: string }>> = {
  positive: { ok: (n) => n > 0, text: 'greater than 0' },
  negative: { ok: (n) => n < 0, text: 'less than 0' },
  non_zero: { ok: (n) => n !== 0, text: 'non-zero' },
  non_negative: { ok: (n) => n >= 0, text: '0 or greater' },
  any: { ok: () => true, text: 'any integer' },
};

/**
 * Validates a request's amount field: a JSON number that is a safe integer of minor units with the required
 * sign. Strings ("10"), booleans, null, fractions, NaN and Infinity are rejected.
 */
export function parseAmount(value: unknown, field: string, sign: AmountSign): number {
  if (typeof value !== 'number') {
    throw new ValidationError(
      'invalid_amount',
      `'${field}' must be an integer number of minor units (e.g. 1050 for 10.50 USD), ` +
        `not a ${value === null ? 'null' : typeof value}.`,
      field,
    );
  }
  if (!Number.isFinite(value) || !Number.isInteger(value)) {
    throw new ValidationError(
      'invalid_amount',
      `'${field}' must be a whole number of minor units: ` +
        `fractions of a minor unit are not allowed (got ${String(value)}).`,
      field,
    );
  }
  if (!Number.isSafeInteger(value)) {
    throw new ValidationError(
      'amount_too_large',
      `'${field}' is too large: the limit is ${Number.MAX_SAFE_INTEGER} minor units in either direction.`,
      field,
    );
  }
  const amount = value === 0 ? 0 : value; // turns -0 into 0
  const rule = SIGN_RULES[sign];
  if (!rule.ok(amount)) {
    throw new ValidationError('invalid_amount', `'${field}' must be ${rule.text} (got ${amount}).`, field);
  }
  return amount;
}

function assertSafeInteger(minor: number, param?: string): void {
  if (typeof minor !== 'number' || !Number.isSafeInteger(minor)) {
    throw new ValidationError('invalid_amount', `Amount ${String(minor)} is not a safe integer of minor units.`, param);
  }
}

/**
 * Exact decimal text of an amount, using only string operations:
 * (1050, 'USD') -> '10.50 USD'; (-5, 'USD') -> '-0.05 USD'; (1000, 'JPY') -> '1000 JPY'; (1234, 'KWD') -> '1.234 KWD'.
 */
export function formatAmount(minor: number, currency: string): string {
  assertSafeInteger(minor);
  const { code, exponent } = requireCurrency(currency);
  const sign = minor < 0 ? '-' : '';
  const digits = String(Math.abs(minor)); // a safe integer always prints as plain digits
  if (exponent === 0) return `${sign}${digits} ${code}`;
  const padded = digits.padStart(exponent + 1, '0');
  const cut = padded.length - exponent;
  return `${sign}${padded.slice(0, cut)}.${padded.slice(cut)} ${code}`;
}

// ---- Stripe ----------------------------------------------------------------------------------------------------

const POW10 = [1, 10, 100, 1000] as const;

function pow10(n: number): number {
  const p = POW10[n];
  if (p === undefined) throw new Error(`pow10(${n}) is out of range`);
  return p;
}

/** Stripe's wire decimals minus the ISO exponent. +2 for ISK and UGX, -2 for MGA, 0 for all other codes. */
function wireShift(currency: Currency): number {
  const wireDecimals = STRIPE_TWO_DECIMAL_WIRE.has(currency.code)
    ? 2
    : currency.stripeZeroDecimal
      ? 0
      : currency.exponent;
  return wireDecimals - currency.exponent;
}

/**
 * The integer Stripe expects as `amount` for this currency [S1]. Usually this equals the ISO minor units.
 * Exceptions:
 * - ISK and UGX use two decimals on the wire ("decimal amount is always 00"), so 5 ISK (minor 5) -> 500.
 * - MGA is zero-decimal at Stripe but has ISO exponent 2, so the minor amount must be whole ariary:
 *   1500 -> 15.
 * - HUF and TWD are two-decimal for charges, the same as ISO. Their divisible-by-100 rule covers payouts only.
 */
export function toStripeWireAmount(minor: number, currency: string): number {
  assertSafeInteger(minor);
  const cur = requireCurrency(currency);
  const shift = wireShift(cur);
  if (shift === 0) return minor;
  if (shift > 0) {
    const wire = minor * pow10(shift);
    if (!Number.isSafeInteger(wire)) {
      throw new ValidationError('amount_too_large', `${formatAmount(minor, cur.code)} is too large to send to Stripe.`);
    }
    return wire;
  }
  const unit = pow10(-shift);
  if (minor % unit !== 0) {
    throw new ValidationError(
      'invalid_amount',
      `Stripe charges ${cur.code} in whole units: ${formatAmount(minor, cur.code)} has a fraction.`,
    );
  }
  return minor / unit; // exact: minor is a multiple of unit
}

/** Inverse of toStripeWireAmount: Stripe's `amount` back into ISO minor units. */
export function fromStripeWireAmount(wire: number, currency: string): number {
  assertSafeInteger(wire);
  const cur = requireCurrency(currency);
  const shift = wireShift(cur);
  if (shift === 0) return wire;
  if (shift > 0) {
    const unit = pow10(shift);
    if (wire % unit !== 0) {
      throw new ValidationError(
        'invalid_amount',
        `Stripe amount ${wire} for ${cur.code} should be a multiple of ${unit} (whole units only).`,
      );
    }
    return wire / unit; // exact: wire is a multiple of unit
  }
  const minor = wire * pow10(-shift);
  if (!Number.isSafeInteger(minor)) {
    throw new ValidationError('amount_too_large', `Stripe amount ${wire} ${cur.code} is too large for the ledger.`);
  }
  return minor;
}

/** The largest ledger amount whose wire value has at most 8 digits. */
function maxChargeMinor(cur: Currency): number {
  const shift = wireShift(cur);
  if (shift >= 0) {
    const unit = pow10(shift);
    return (STRIPE_MAX_WIRE_AMOUNT - (STRIPE_MAX_WIRE_AMOUNT % unit)) / unit; // exact integer division
  }
  return STRIPE_MAX_WIRE_AMOUNT * pow10(-shift);
}

/**
 * Stripe's own rules for a charge amount [S1]. It throws a ValidationError with Stripe's code [S4]:
 * - `invalid_amount`: the wire amount is not representable. A three-decimal currency must end in 0; MGA must
 *   be whole ariary.
 * - `amount_too_small`: below the currency's published minimum, or not positive.
 * - `amount_too_large`: more than 8 digits in Stripe's wire amount.
 */
export function checkStripeAmount(minor: number, currency: string, field: string): void {
  assertSafeInteger(minor, field);
  const cur = requireCurrency(currency, field);
  if (cur.stripeThreeDecimal && minor % 10 !== 0) {
    throw new ValidationError(
      'invalid_amount',
      `'${field}': Stripe needs ${cur.code} amounts whose last digit is 0 (a multiple of 0.010 ${cur.code}); ` +
        `got ${formatAmount(minor, cur.code)}.`,
      field,
    );
  }
  const shift = wireShift(cur);
  if (shift < 0 && minor % pow10(-shift) !== 0) {
    throw new ValidationError(
      'invalid_amount',
      `'${field}': Stripe charges ${cur.code} in whole units only; got ${formatAmount(minor, cur.code)}.`,
      field,
    );
  }
  // No published minimum: the amount must still be positive, and at least one whole wire unit (MGA: 100).
  const minimum = cur.stripeMinimumAmount ?? (shift < 0 ? pow10(-shift) : 1);
  if (minor < minimum) {
    throw new ValidationError(
      'amount_too_small',
      `'${field}' must be at least ${formatAmount(minimum, cur.code)} for a Stripe charge; ` +
        `got ${formatAmount(minor, cur.code)}.`,
      field,
    );
  }
  const maximum = maxChargeMinor(cur);
  if (minor > maximum) {
    throw new ValidationError(
      'amount_too_large',
      `'${field}' must be at most ${formatAmount(maximum, cur.code)} for a Stripe charge (8 digits); ` +
        `got ${formatAmount(minor, cur.code)}.`,
      field,
    );
  }
}
