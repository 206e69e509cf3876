// Amounts are integer minor units from the API and stay integers here: formatting and parsing work on the digits
// (strings and BigInt), never on a floating-point value. The exponents are Stripe's: zero-decimal and
// three-decimal currencies (https://docs.stripe.com/currencies#zero-decimal); everything else has two.

const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

export function currencyExponent(currency: string): number {
  const code = currency.toLowerCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

/** 123456, 'usd' → "USD 1,234.56"; -5, 'eur' → "EUR -0.05". */
export function formatMoney(amount: number | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined) return '—';
  const code = (currency ?? '').toUpperCase();
  const exponent = currencyExponent(code);
  const negative = amount < 0;
  const digits = String(Math.abs(Math.trunc(amount))).padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = exponent === 0 ? '' : `.${digits.slice(digits.length - exponent)}`;
  return `${code} ${negative ? '-' : ''}${whole}${fraction}`.trim();
}

/**
 * "12.34" in USD → 1234. Undefined for anything that is not a plain non-negative decimal with at most the
 * currency's number of decimals (no signs, exponents or thousands separators).
 */
export function parseMoney(text: string, currency: string): number | undefined {
  const exponent = currencyExponent(currency);
  const match = /^(\d{1,15})(?:\.(\d*))?$/.exec(text.trim());
  if (!match) return undefined;
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) return undefined;
  const minor = BigInt(match[1] + fraction.padEnd(exponent, '0'));
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(minor);
}

/** The minor-unit amount written the way parseMoney reads it: 1234 USD → "12.34". */
export function toDecimalText(amount: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const digits = String(Math.abs(Math.trunc(amount))).padStart(exponent + 1, '0');
  return exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
