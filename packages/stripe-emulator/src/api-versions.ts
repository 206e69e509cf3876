// The Stripe-Version request header (docs.stripe.com/api/versioning). Stripe refuses a version it does not know
// with 400 invalid_request_error "Invalid Stripe API version: <value>" and no code (the text quoted in
// stripe/stripe-java#682 and stripe/stripe-connect-rocketrides#22; the v23 error-code enum has no code for it).
//
// What the emulator knows is an approximation of Stripe's list, which it does not have: a version is either a
// date alone (the form of every version up to 2024-06-20) or, from 2024-09-30 on, a date and the name of the major
// release it belongs to (acacia 2024-09-30, basil 2025-03-31, clover 2025-09-30, dahlia 2026-03-25, endive, the
// pinned 2026-10-28.endive; docs.stripe.com/upgrades). It accepts a real calendar date between 2011-01-01 and the
// pinned version's date whose form (named or not) fits its date, and refuses everything else: a typo such as
// 2019-2-19, a date Stripe never shipped in the form given (2024-12-18 without `.acacia`), a future date, an unknown
// name. It does not know which days of a month Stripe released on, and it renders every response at the pinned
// version whatever the request names (README: Approximations). A `; <beta>=<version>` suffix is not checked.

export const PINNED_API_VERSION = '2026-10-28.endive';

const FIRST_NAMED = '2024-09-30';
const LAST_UNNAMED = '2024-06-20';
/** Major releases and their first day, oldest first; a named version belongs to the last one started by its date. */
const RELEASES: readonly (readonly [string, string])[] = [
  ['2024-09-30', 'acacia'],
  ['2025-03-31', 'basil'],
  ['2025-09-30', 'clover'],
  ['2026-03-25', 'dahlia'],
  ['2026-04-23', 'endive'], // after dahlia's last monthly version we know of (2026-04-22.dahlia)
];

function realDate(date: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return false;
  const d = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === date;
}

/** Whether Stripe (as far as the emulator can tell) knows this Stripe-Version value. */
export function knownApiVersion(value: string): boolean {
  const version = value.split(';')[0]?.trim() ?? '';
  const [date = '', name, ...rest] = version.split('.');
  if (rest.length > 0 || !realDate(date)) return false;
  if (date < '2011-01-01' || date > PINNED_API_VERSION.slice(0, 10)) return false;
  if (name === undefined) return date <= LAST_UNNAMED;
  if (date < FIRST_NAMED) return false;
  const release = [...RELEASES].reverse().find(([start]) => start <= date);
  return release?.[1] === name;
}
