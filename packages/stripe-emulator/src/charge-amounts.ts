// Stripe's rules for a charge's `amount` and `currency`, applied to the integer Stripe receives (the "wire" amount,
// in the currency's smallest unit as Stripe counts it). The emulator keeps its own copy of these rules, taken from
// Stripe's documentation, so that it can disagree with the code it is used to test.
//
// Sources:
// - "Supported currencies", https://docs.stripe.com/currencies: the presentment currencies, the zero-decimal list
//   (#zero-decimal), the special cases (#special-cases: ISK and UGX are sent as two-decimal values whose last two
//   digits are 0), and the minimum charge per settlement currency (#minimum-and-maximum-charge-amounts). The
//   three-decimal section (BHD, JOD, KWD, OMR, TND: the last digit must be 0, so 5.124 KWD is charged as 5.120,
//   i.e. 5120) is in the archived copy https://web.archive.org/web/20221231002856/https://stripe.com/docs/currencies.
// - The API reference for PaymentIntent `amount`
// (https://docs.stripe.com/api/payment_intents/create#create_payment_intent-amount,
//   also the doc comment of PaymentIntentCreateParams.amount in stripe-node 23): "a positive integer", minimum
//   0.50 USD or the equivalent, "up to eight digits (e.g., a value of 99999999 for a USD charge of $999,999.99)".
// - Error codes from https://docs.stripe.com/error-codes: `amount_too_small`, `amount_too_large`, and
//   `invalid_charge_amount` ("the charge amount must be a positive integer in the smallest currency unit").
//
// The emulator's choices where Stripe's documents stop:
// - Minimums are published per settlement currency and Stripe converts before comparing; the emulator converts only
//   balance transactions (fx.ts, with a rate table of five currencies) and compares a charge with the minimum of its
//   own currency. A currency with no published minimum only has to be at least one unit (ISK and UGX: 100, one
//   whole unit).
// - The code Stripe sends for a three-decimal amount not ending in 0, or an ISK/UGX amount not ending in 00, has not
//   been observed; the emulator answers `invalid_charge_amount`, the documented code for an amount Stripe cannot
//   charge. Amount 0 or negative answers `amount_too_small` (Stripe's answer is unverified).
// - The 8-digit maximum is applied to every currency, as the API reference states it. The currencies page now
//   allows more digits for some card payments; the emulator keeps the stricter rule.
// - Messages are the emulator's own wording (clients must rely on `code`).
import { invalidRequest } from './errors.js';

/** Stripe presentment currencies (lower case, as the API takes them). */
const CURRENCIES = new Set(
  (
    'aed afn all amd aoa ars aud awg azn bam bbd bdt bhd bif bmd bnd bob brl bsd bwp byn bzd cad cdf chf clp cny ' +
    'cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr ' +
    'isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk ' +
    'mxn myr mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd ' +
    'shp sle sos srd szl thb tjs tnd top try ttd twd tzs uah ugx usd uyu uzs vnd vuv wst xaf xcd xcg xof xpf yer ' +
    'zar zmw'
  ).split(' '),
);

/** Zero-decimal currencies: `amount` counts whole units (100 is ¥100). */
export const ZERO_DECIMAL: ReadonlySet<string> = new Set(
  'bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf'.split(' '),
);

/** Three-decimal currencies: `amount` counts thousandths, and its last digit must be 0. */
export const THREE_DECIMAL: ReadonlySet<string> = new Set('bhd jod kwd omr tnd'.split(' '));

/** Special cases: zero-decimal in practice, but sent as two-decimal values ending in 00 (5 ISK is 500). */
export const TWO_DECIMAL_WIRE: ReadonlySet<string> = new Set(['isk', 'ugx']);

/** Minimum charge per currency, in the smallest unit (0.50 USD is 50, ¥50 is 50, 175.00 HUF is 17500). */
export const MINIMUM_CHARGE: Readonly<Record<string, number>> = {
  usd: 50,
  aed: 200,
  ars: 50,
  aud: 50,
  brl: 50,
  cad: 50,
  chf: 50,
  cop: 50,
  czk: 1500,
  dkk: 250,
  eur: 50,
  gbp: 30,
  hkd: 400,
  huf: 17500,
  idr: 50,
  ils: 50,
  inr: 50,
  jpy: 50,
  krw: 50,
  mxn: 1000,
  myr: 200,
  nok: 300,
  nzd: 50,
  php: 50,
  pln: 200,
  ron: 200,
  rub: 50,
  sek: 300,
  sgd: 50,
  thb: 1000,
  zar: 50,
};

/** The largest `amount`: eight digits. */
export const MAXIMUM_AMOUNT = 99_999_999;

export function isCurrency(code: string): boolean {
  return CURRENCIES.has(code);
}

/** Decimal places `amount` carries for this currency: 0, 2 or 3 (ISK and UGX: 2, by the special case). */
export function wireDecimals(currency: string): number {
  if (TWO_DECIMAL_WIRE.has(currency)) return 2;
  if (ZERO_DECIMAL.has(currency)) return 0;
  return THREE_DECIMAL.has(currency) ? 3 : 2;
}

/** The smallest `amount` the currency can be charged: its published minimum, else one unit. */
export function minimumCharge(currency: string): number {
  return MINIMUM_CHARGE[currency] ?? (TWO_DECIMAL_WIRE.has(currency) ? 100 : 1);
}

/** `amount` as decimal text with the currency: (50, 'usd') -> '0.50 usd'; (50, 'jpy') -> '50 jpy'. */
export function describeAmount(amount: number, currency: string): string {
  const decimals = wireDecimals(currency);
  const digits = String(Math.abs(amount)).padStart(decimals + 1, '0');
  const sign = amount < 0 ? '-' : '';
  if (decimals === 0) return `${sign}${digits} ${currency}`;
  return `${sign}${digits.slice(0, -decimals)}.${digits.slice(-decimals)} ${currency}`;
}

/** Refuses a currency Stripe does not present (400 `parameter_invalid_string`, as the emulator always did). */
export function checkCurrency(currency: string, param = 'currency'): void {
  if (!isCurrency(currency)) throw invalidRequest(`Invalid currency: ${currency}.`, 'parameter_invalid_string', param);
}

/** Refuses an `amount` Stripe would not charge in this (known, lower-case) currency, with Stripe's codes. */
export function checkChargeAmount(amount: number, currency: string, param: string): void {
  if (THREE_DECIMAL.has(currency) && amount % 10 !== 0) {
    throw invalidRequest(
      `Amounts in ${currency} must end in 0 (a multiple of 0.010 ${currency}); ${amount} does not.`,
      'invalid_charge_amount',
      param,
    );
  }
  if (TWO_DECIMAL_WIRE.has(currency) && amount % 100 !== 0) {
    throw invalidRequest(
      `Amounts in ${currency} are whole units sent with two decimals, so they must end in 00; ${amount} does not.`,
      'invalid_charge_amount',
      param,
    );
  }
  const minimum = minimumCharge(currency);
  if (amount < minimum) {
    throw invalidRequest(`Amount must be at least ${describeAmount(minimum, currency)}.`, 'amount_too_small', param);
  }
  if (amount > MAXIMUM_AMOUNT) {
    throw invalidRequest(
      `Amount must be no more than ${describeAmount(MAXIMUM_AMOUNT, currency)} (eight digits).`,
      'amount_too_large',
      param,
    );
  }
}
