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
// name. It does not know which days of a month Stripe released on. Responses are rendered at the pinned version
// except for one breaking change, PaymentIntent.charges (renderForVersion below; README: Approximations). A
// `; <beta>=<version>` suffix is not checked.
import { render } from './render.js';
import type { EmulatorState } from './state.js';
import type { Charge, StripeEvent } from './types.js';

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

/**
 * 2022-11-15 removed `charges` (a list of the PaymentIntent's charges) from the PaymentIntent in favour of
 * `latest_charge` (docs.stripe.com/changelog/2022-11-15/removes-charges-attribute-paymentintent, a breaking change
 * listed at docs.stripe.com/upgrades#2022-11-15).
 */
const PI_CHARGES_REMOVED = '2022-11-15';

type Json = Record<string, unknown>;

/**
 * The JSON `body` as Stripe renders it at `version` (a Stripe-Version header or a webhook endpoint's api_version;
 * absent or null: the pinned version). Only the PaymentIntent.charges change is rendered: before 2022-11-15 every
 * PaymentIntent in the body (top level, in lists and search results, expanded, or an error's `payment_intent`)
 * carries `charges`, the list of its charges newest first, and no `latest_charge`. Any other version: `body` as is.
 * Events are left alone: Stripe renders an event's data at the event's own api_version, "not according to your
 * current Stripe API version or Stripe-Version header" (the List events description in Stripe's OpenAPI); see
 * renderEventForVersion for webhook deliveries.
 */
export function renderForVersion(state: EmulatorState, version: string | null | undefined, body: string): string {
  if (!beforeChargesRemoved(version)) return body;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return body;
  }
  return JSON.stringify(withCharges(state, json));
}

/**
 * A webhook delivery's body (an event) at its endpoint's api_version (docs.stripe.com/webhooks/versioning): the
 * data object rendered as renderForVersion does, and `api_version` naming that version. Null or absent: as stored.
 */
export function renderEventForVersion(
  state: EmulatorState,
  version: string | null | undefined,
  event: StripeEvent,
): string {
  // A stored event is plain JSON that rendering never changes, so it is serialized as it is, without a copy (a deep
  // copy, a parse and a second serialization per delivery were a tenth of the emulator's CPU under load).
  if (version === null || version === undefined || version === '') return JSON.stringify(event);
  if (!beforeChargesRemoved(version)) return JSON.stringify({ ...event, api_version: version });
  const data = { ...event.data, object: withCharges(state, event.data.object) };
  return JSON.stringify({ ...event, api_version: version, data });
}

/** Whether `version` starts with a date before 2022-11-15 (anything else renders as the pinned version). */
function beforeChargesRemoved(version: string | null | undefined): boolean {
  const date = /^\s*(\d{4}-\d{2}-\d{2})/.exec(version ?? '')?.[1];
  return date !== undefined && date < PI_CHARGES_REMOVED;
}

function withCharges(state: EmulatorState, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => withCharges(state, v));
  if (value === null || typeof value !== 'object') return value;
  if ((value as Json).object === 'event') return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value as Json)) out[k] = withCharges(state, v);
  if (out.object !== 'payment_intent' || typeof out.id !== 'string') return out;
  const id = out.id;
  const charges = state
    .all<Charge>('charge')
    .filter((c) => c.payment_intent === id)
    .reverse();
  delete out.latest_charge;
  // The embedded list as pre-2022-11-15 responses carried it (PaymentIntent `charges`: a list object with its url).
  out.charges = {
    object: 'list',
    data: charges.map((c) => render(state, c)),
    has_more: false,
    total_count: charges.length,
    url: `/v1/charges?payment_intent=${id}`,
  };
  return out;
}
