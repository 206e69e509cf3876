// Currency conversion into the account's settlement currency. Stripe converts a charge whose currency differs from
// the settlement currency (docs.stripe.com/currencies, "If the charge currency differs from your settlement currency,
// Stripe converts the charge to your settlement currency"), and the balance transaction then carries the converted
// amount, the settlement currency and the rate (BalanceTransactions.d.ts `exchange_rate`: "If money converts from
// currency A to currency B, then the amount in currency A, multiplied by the exchange_rate, equals the amount in
// currency B", e.g. 10.00 EUR settling as 12.34 USD has exchange_rate 1.234).
//
// Stripe's rates move through the day; the emulator's are FIXED, so that tests can pin figures. The table below is
// the emulator's own (round test figures, not market data), kept as exact decimal text and computed with BigInt:
//   into USD:   EUR 1.10, GBP 1.27, JPY 0.0067, CAD 0.74 (USD per one unit of the currency)
//   out of USD: EUR 0.9091, GBP 0.7874, JPY 149.25, CAD 1.3514 (one USD in the currency: 1/x, rounded)
// A pair of two non-USD currencies of the table goes through USD: the product of the two rates, which is an exact
// decimal again (EUR -> GBP = 1.10 x 0.7874 = 0.86614). A currency outside the table (AUD, KWD, ...) has no rate: its
// funds stay in a balance of their own currency (exchange_rate null), as they did before the emulator converted
// anything; that is how an account that settles in several currencies looks
// (docs.stripe.com/payouts/multicurrency-settlement).
//
// Rounding: the converted amount is the exact product rounded half up (away from zero on the magnitude) to the
// settlement currency's minor unit. Amounts count minor units as Stripe's API does (charge-amounts.ts
// wireDecimals): 10.00 EUR (1000) at 1.10 is 11.00 USD (1100); ¥500 (500, zero-decimal) at 0.0067 is 3.35 USD (335).
import { wireDecimals } from './charge-amounts.js';
import type { EmulatorState } from './state.js';

/** Units of USD per one unit of the currency (into USD). */
const TO_USD: Readonly<Record<string, string>> = { eur: '1.10', gbp: '1.27', jpy: '0.0067', cad: '0.74' };
/** Units of the currency per one USD (out of USD, for an account that settles in it). */
const FROM_USD: Readonly<Record<string, string>> = { eur: '0.9091', gbp: '0.7874', jpy: '149.25', cad: '1.3514' };

/** The currencies an account can settle in: USD and those of the table. */
export const SETTLEMENT_CURRENCIES: readonly string[] = ['usd', ...Object.keys(TO_USD)];

/** An exact decimal: units / 10^scale. */
interface Decimal {
  units: bigint;
  scale: number;
}

function parseDecimal(text: string): Decimal {
  const [whole = '0', fraction = ''] = text.split('.');
  return { units: BigInt(whole + fraction), scale: fraction.length };
}

function multiply(a: Decimal, b: Decimal): Decimal {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

/** Exact decimal text without trailing zeros: {110, 2} -> '1.1', {86614, 5} -> '0.86614'. */
function decimalText(d: Decimal): string {
  const digits = d.units.toString().padStart(d.scale + 1, '0');
  if (d.scale === 0) return digits;
  const text = `${digits.slice(0, -d.scale)}.${digits.slice(-d.scale)}`.replace(/0+$/, '');
  return text.endsWith('.') ? text.slice(0, -1) : text;
}

/** The fixed rate from one currency into another (lower-case codes), or undefined when the table has none. */
function rateDecimal(from: string, to: string): Decimal | undefined {
  if (from === to) return undefined;
  const into = from === 'usd' ? '1' : TO_USD[from];
  const out = to === 'usd' ? '1' : FROM_USD[to];
  if (into === undefined || out === undefined) return undefined;
  return multiply(parseDecimal(into), parseDecimal(out));
}

/** The rate as exact decimal text ('1.1', '0.0067'), or null when `from` is not converted into `to`. */
export function exchangeRateText(from: string, to: string): string | null {
  const rate = rateDecimal(from, to);
  return rate ? decimalText(rate) : null;
}

/**
 * The currency the current request's balance transactions settle in: the account's (state.settlementCurrency). The
 * one place to ask, so that connected accounts (Connect, stripe-account.ts) could settle in their own
 * `default_currency` later; today every balance transaction, theirs included, uses the platform's setting.
 */
export function settlementCurrencyOf(state: EmulatorState): string {
  return state.settlementCurrency;
}

/** Whether `settlementCurrency` is one an account can settle in. */
export function isSettlementCurrency(currency: string): boolean {
  return SETTLEMENT_CURRENCIES.includes(currency);
}

export interface Settled {
  /** In the settlement currency's minor units (or unchanged when not converted). */
  amount: number;
  currency: string;
  /** As Stripe renders it, a JSON number (1.1), or null when nothing was converted. */
  exchange_rate: number | null;
}

/**
 * `amount` (minor units of `currency`, any sign) as it settles on an account whose settlement currency is
 * `settlement`: converted at the fixed rate, rounded half up on its magnitude, or unchanged (exchange_rate null)
 * when the currencies are the same or the table has no rate for the pair.
 */
export function convert(amount: number, currency: string, settlement: string): Settled {
  const rate = rateDecimal(currency, settlement);
  if (!rate) return { amount, currency, exchange_rate: null };
  // |amount| x rate x 10^(settlement decimals) / 10^(presentment decimals), exactly, then half up.
  const num = BigInt(Math.abs(amount)) * rate.units * 10n ** BigInt(wireDecimals(settlement));
  const den = 10n ** BigInt(rate.scale + wireDecimals(currency));
  const magnitude = Number((2n * num + den) / (2n * den));
  return {
    amount: amount < 0 ? -magnitude : magnitude,
    currency: settlement,
    exchange_rate: Number(decimalText(rate)),
  };
}

/** The account settings a test can change (controls.configureAccount, startEmulator's settlementCurrency). */
export interface AccountSettings {
  /** Lower-case ISO code: `usd` (default), `eur`, `gbp`, `jpy` or `cad`. */
  settlementCurrency: string;
}

/**
 * Applies account settings and returns them. The settlement currency must be one of SETTLEMENT_CURRENCIES, and it
 * cannot change once the account has balance transactions (their amounts were settled in the old one; reset()
 * first): both refusals throw and change nothing. Setting the current value again is allowed.
 */
export function configureAccount(
  state: EmulatorState,
  settings: Partial<AccountSettings> | Record<string, unknown> = {},
): AccountSettings {
  const unknown = Object.keys(settings).filter((k) => k !== 'settlementCurrency');
  if (unknown.length > 0) throw new Error(`Unknown account setting: ${unknown.join(', ')}`);
  const wanted: unknown = settings.settlementCurrency;
  if (wanted !== undefined) {
    const currency = typeof wanted === 'string' ? wanted.toLowerCase() : '';
    if (!isSettlementCurrency(currency))
      throw new Error(`settlementCurrency must be one of ${SETTLEMENT_CURRENCIES.join(', ')}; got ${String(wanted)}`);
    if (currency !== state.settlementCurrency && state.all('balance_transaction').length > 0) {
      throw new Error(
        `The settlement currency cannot change from ${state.settlementCurrency} to ${currency} once the account has ` +
          'balance transactions; reset the emulator first',
      );
    }
    state.settlementCurrency = currency;
  }
  return { settlementCurrency: state.settlementCurrency };
}
