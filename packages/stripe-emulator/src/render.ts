// Turning stored objects into responses: deep copies, `expand` (docs.stripe.com/expand: dotted paths, up to
// four levels, `data.` prefix for lists), and cursor-paginated lists (newest first, `limit`, `starting_after`,
// `ending_before`, `has_more`).
import { invalidRequest } from './errors.js';
import { refreshStatus } from './balance.js';
import type { FormObject } from './form.js';
import { limitParam, optString, stringList } from './params.js';
import type { EmulatorState } from './state.js';
import type { AnyStripeObject, BalanceTransaction, Refund } from './types.js';

type Json = Record<string, unknown>;

function copy(state: EmulatorState, obj: AnyStripeObject): Json {
  if (obj.object === 'balance_transaction') refreshStatus(state, obj as BalanceTransaction);
  return structuredClone(obj) as Json;
}

function expandPath(state: EmulatorState, target: Json, path: readonly string[], full: string): void {
  const [field, ...rest] = path;
  if (field === undefined) return;
  if (field === 'data' && Array.isArray(target.data)) {
    for (const item of target.data as Json[]) expandPath(state, item, rest, full);
    return;
  }
  if (field === 'refunds' && target.object === 'charge' && !(field in target))
    target.refunds = chargeRefunds(state, target);
  if (!(field in target)) throw invalidRequest(`This property cannot be expanded (${full}).`, undefined, 'expand');
  let value = target[field];
  if (typeof value === 'string') {
    const obj = state.objects.get(value);
    if (!obj) throw invalidRequest(`This property cannot be expanded (${full}).`, undefined, 'expand');
    value = copy(state, obj);
    target[field] = value;
  }
  if (value === null) return;
  if (typeof value !== 'object')
    throw invalidRequest(`This property cannot be expanded (${full}).`, undefined, 'expand');
  if (rest.length > 0) expandPath(state, value as Json, rest, full);
}

/**
 * A charge's `refunds`: not in the object since API 2022-11-15, still expandable (Charges.d.ts `refunds?:
 * ApiList<Refund> | null`, "A list of refunds that have been applied to the charge"): the list of its refunds,
 * newest first, at most 10 (Stripe's default page) with has_more beyond.
 */
function chargeRefunds(state: EmulatorState, charge: Json): Json {
  const refunds = state
    .all<Refund>('refund')
    .filter((r) => r.charge === charge.id)
    .reverse();
  return {
    object: 'list',
    data: refunds.slice(0, 10).map((r) => copy(state, r)),
    has_more: refunds.length > 10,
    url: `/v1/charges/${String(charge.id)}/refunds`,
  };
}

export function expansions(params: FormObject): string[] {
  const list = stringList(params, 'expand');
  for (const p of list) {
    if (p.split('.').length > 4)
      throw invalidRequest(`You cannot expand more than 4 levels of a property (${p}).`, undefined, 'expand');
  }
  return list;
}

export function render(state: EmulatorState, obj: AnyStripeObject, expand: readonly string[] = []): Json {
  const out = copy(state, obj);
  for (const path of expand) expandPath(state, out, path.split('.'), path);
  return out;
}

/** A Stripe list object of `items` (oldest first in storage; lists are returned newest first). */
export function renderList(
  state: EmulatorState,
  items: readonly AnyStripeObject[],
  url: string,
  params: FormObject,
): Json {
  const limit = limitParam(params);
  const newestFirst = [...items].reverse();
  const after = optString(params, 'starting_after');
  const before = optString(params, 'ending_before');
  let page: AnyStripeObject[];
  let hasMore: boolean;
  const indexOf = (id: string, param: string): number => {
    const i = newestFirst.findIndex((o) => o.id === id);
    if (i < 0) throw invalidRequest(`No such object: '${id}'`, 'resource_missing', param, 404);
    return i;
  };
  if (after !== undefined) {
    const rest = newestFirst.slice(indexOf(after, 'starting_after') + 1);
    page = rest.slice(0, limit);
    hasMore = rest.length > limit;
  } else if (before !== undefined) {
    const head = newestFirst.slice(0, indexOf(before, 'ending_before'));
    page = head.slice(Math.max(0, head.length - limit));
    hasMore = head.length > limit;
  } else {
    page = newestFirst.slice(0, limit);
    hasMore = newestFirst.length > limit;
  }
  const list: Json = { object: 'list', data: page.map((o) => copy(state, o)), has_more: hasMore, url };
  for (const path of expansions(params)) expandPath(state, list, path.split('.'), path);
  return list;
}
