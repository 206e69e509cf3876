// PaymentIntent list, and search over PaymentIntents and Charges in Stripe's search query language
// (docs.stripe.com/search#search-query-language):
//   - a clause is `field` `operator` `value`: `:` exact match (case insensitive), `~` substring (at least 3
//     characters), and for numeric fields `>`, `<`, `=`, `>=`, `<=`; a `-` before the field negates the clause;
//   - string values are quoted ('x' or "x", `\` escapes a quote); numbers and `null` may be bare; `field:null`
//     matches a missing value, so `-metadata['k']:null` finds objects that have the key;
//   - up to 10 clauses, joined by AND or OR (any case) or a space (AND); AND and OR cannot be mixed, and there are
//     no parentheses;
//   - query fields: PaymentIntents amount, created, currency, customer, metadata, status; Charges amount,
//     billing_details.address.postal_code, created, currency, customer, disputed, metadata, payment_method_details
//     .card.{brand, exp_month, exp_year, fingerprint, last4}, refunded, status (docs.stripe.com/search#query-fields).
// Results are Stripe's search_result { object, data, has_more, next_page, url } and, with expand[]=total_count,
// total_count; pass `page` = next_page for the next page. A query Stripe cannot run (an unknown field, bad syntax)
// is a 400 invalid_request_error with no code and no param, as Stripe answers an unsupported field (aat-stripe,
// plans/search/payment-intents-and-charges.yaml, badField and chargeBadField). Unlike Stripe, new objects are
// searchable at once: Stripe's index lags (under a minute normally; aat-stripe saw over two minutes), so Stripe
// advises lists for read-after-write.
import { invalidRequest } from './errors.js';
import type { FormObject } from './form.js';
import { checkKnown, limitParam, optString, reqString } from './params.js';
import { rangeFilter } from './range-filter.js';
import { expansions, render } from './render.js';
import type { EmulatorState } from './state.js';
import type { AnyStripeObject, Charge, PaymentIntent } from './types.js';

export type Kind = 'string' | 'number' | 'boolean';
type Predicate = (obj: AnyStripeObject) => boolean;

const MAX_CLAUSES = 10;

const path =
  (...keys: string[]) =>
  (obj: AnyStripeObject): unknown => {
    let v: unknown = obj;
    for (const k of keys) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    return v;
  };

/** A resource's query fields: each with its kind and how to read it from an object. */
export type Fields = Record<string, { kind: Kind; get: (obj: AnyStripeObject) => unknown }>;

const COMMON: Fields = {
  amount: { kind: 'number', get: path('amount') },
  created: { kind: 'number', get: path('created') },
  currency: { kind: 'string', get: path('currency') },
  customer: { kind: 'string', get: path('customer') },
  status: { kind: 'string', get: path('status') },
};

const PAYMENT_INTENT_FIELDS: Fields = COMMON;

const card = (k: string) => path('payment_method_details', 'card', k);
const CHARGE_FIELDS: Fields = {
  ...COMMON,
  'billing_details.address.postal_code': {
    kind: 'string',
    get: path('billing_details', 'address', 'postal_code'),
  },
  disputed: { kind: 'boolean', get: path('disputed') },
  refunded: { kind: 'boolean', get: path('refunded') },
  'payment_method_details.card.brand': { kind: 'string', get: card('brand') },
  'payment_method_details.card.exp_month': { kind: 'number', get: card('exp_month') },
  'payment_method_details.card.exp_year': { kind: 'number', get: card('exp_year') },
  'payment_method_details.card.fingerprint': { kind: 'string', get: card('fingerprint') },
  'payment_method_details.card.last4': { kind: 'string', get: card('last4') },
};

/** Stripe's answer to a query it cannot run: 400 invalid_request_error, no code, no param. */
function badQuery(message: string): ReturnType<typeof invalidRequest> {
  return invalidRequest(message);
}

/** Splits the query into clause texts and the AND / OR words between them, keeping quoted values whole. */
function tokenize(query: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < query.length) {
    if (/\s/.test(query[i] ?? '')) {
      i += 1;
      continue;
    }
    let token = '';
    let quote: string | null = null;
    while (i < query.length) {
      const ch = query[i] ?? '';
      if (quote === null && /\s/.test(ch)) break;
      if (quote !== null && ch === '\\' && i + 1 < query.length) {
        token += ch + (query[i + 1] ?? '');
        i += 2;
        continue;
      }
      if (ch === "'" || ch === '"') quote = quote === null ? ch : quote === ch ? null : quote;
      token += ch;
      i += 1;
    }
    if (quote !== null) throw badQuery(`The search query has an unterminated string: ${token}`);
    tokens.push(token);
  }
  return tokens;
}

const CLAUSE =
  /^(-?)(metadata\[(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\]|[a-z_][a-z0-9_.]*)(>=|<=|:|~|>|<|=)(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([^\s'"]+))$/;

const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');

function parseClause(text: string, fields: Fields, resource: string): Predicate {
  const m = CLAUSE.exec(text);
  if (!m) throw badQuery(`The search query is not valid: ${text}`);
  const negated = m[1] === '-';
  const field = m[2] ?? '';
  const metaKey = m[3] ?? m[4];
  const op = m[5] ?? ':';
  const quoted = m[6] ?? m[7];
  const raw = quoted !== undefined ? unescape(quoted) : (m[8] ?? '');
  const isNull = quoted === undefined && raw === 'null';
  let get: (obj: AnyStripeObject) => unknown;
  let kind: Kind;
  if (metaKey !== undefined) {
    const key = unescape(metaKey);
    get = (obj) => (obj.metadata as Record<string, string> | undefined)?.[key];
    kind = 'string';
  } else {
    const spec = fields[field];
    if (!spec) throw badQuery(`Field '${field}' is not a supported search field for ${resource}.`);
    ({ get, kind } = spec);
  }
  const base = matcher(text, kind, op, raw, isNull, quoted !== undefined, get);
  return negated ? (obj) => !base(obj) : base;
}

function matcher(
  text: string,
  kind: Kind,
  op: string,
  raw: string,
  isNull: boolean,
  quoted: boolean,
  get: (obj: AnyStripeObject) => unknown,
): Predicate {
  if (isNull) {
    if (op !== ':') throw badQuery(`null can only be matched with ':' (${text}).`);
    return (obj) => get(obj) === null || get(obj) === undefined;
  }
  if (op === '~') {
    if (kind !== 'string') throw badQuery(`'~' applies to string fields only (${text}).`);
    if (raw.length < 3) throw badQuery(`A substring search needs at least 3 characters (${text}).`);
    const needle = raw.toLowerCase();
    return (obj) => {
      const v = get(obj);
      return typeof v === 'string' && v.toLowerCase().includes(needle);
    };
  }
  if (kind === 'number') {
    if (!/^-?\d+$/.test(raw)) throw badQuery(`Expected a number in ${text}.`);
    const n = Number(raw);
    const cmp: Record<string, (v: number) => boolean> = {
      ':': (v) => v === n,
      '=': (v) => v === n,
      '>': (v) => v > n,
      '<': (v) => v < n,
      '>=': (v) => v >= n,
      '<=': (v) => v <= n,
    };
    const test = cmp[op];
    if (!test) throw badQuery(`Unsupported operator in ${text}.`);
    return (obj) => {
      const v = get(obj);
      return typeof v === 'number' && test(v);
    };
  }
  if (op !== ':') throw badQuery(`Numeric comparisons apply to numeric fields only (${text}).`);
  if (kind === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw badQuery(`Expected true or false in ${text}.`);
    return (obj) => get(obj) === (raw === 'true');
  }
  if (!quoted) throw badQuery(`String values must be quoted (${text}).`);
  const want = raw.toLowerCase();
  return (obj) => {
    const v = get(obj);
    return typeof v === 'string' && v.toLowerCase() === want;
  };
}

export function parseQuery(query: string, fields: Fields, resource: string): Predicate {
  const tokens = tokenize(query);
  const clauses: Predicate[] = [];
  let joiner: 'AND' | 'OR' | undefined;
  let expectClause = true;
  for (const token of tokens) {
    const word = token.toUpperCase();
    if (word === 'AND' || word === 'OR') {
      if (expectClause) throw badQuery(`The search query is not valid near ${token}.`);
      if (joiner !== undefined && joiner !== word) throw badQuery('AND and OR cannot be combined in one search query.');
      joiner = word;
      expectClause = true;
      continue;
    }
    if (!expectClause && joiner === 'OR') throw badQuery('AND and OR cannot be combined in one search query.');
    if (!expectClause) joiner ??= 'AND'; // clauses separated by a space are joined by AND
    clauses.push(parseClause(token, fields, resource));
    expectClause = false;
  }
  if (clauses.length === 0 || expectClause) throw badQuery('The search query is not valid.');
  if (clauses.length > MAX_CLAUSES) throw badQuery(`A search query can have at most ${MAX_CLAUSES} clauses.`);
  return joiner === 'OR' ? (obj) => clauses.some((c) => c(obj)) : (obj) => clauses.every((c) => c(obj));
}

/** GET /v1/<resource>/search over `items` (oldest first) with this resource's query fields. */
export function searchObjects(
  state: EmulatorState,
  params: FormObject,
  items: readonly AnyStripeObject[],
  fields: Fields,
  resource: string,
  url: string,
): Record<string, unknown> {
  checkKnown(params, ['query', 'limit', 'page', 'expand']);
  const matches = parseQuery(reqString(params, 'query'), fields, resource);
  const limit = limitParam(params);
  const pageToken = optString(params, 'page');
  const offset =
    pageToken === undefined ? 0 : Number(Buffer.from(pageToken, 'base64url').toString('utf8').replace(/^o:/, ''));
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw invalidRequest('Invalid page token.', 'parameter_invalid_string', 'page');
  const hits = items.filter(matches).reverse();
  const page = hits.slice(offset, offset + limit);
  const hasMore = hits.length > offset + limit;
  const all = expansions(params);
  // expand[]=total_count adds the number of matches to the result (SearchResult's total_count in the SDK types).
  const withTotal = all.includes('total_count');
  const expand = all.filter((p) => p !== 'total_count').map((p) => p.replace(/^data\./, ''));
  return {
    object: 'search_result',
    data: page.map((obj) => render(state, obj, expand)),
    has_more: hasMore,
    next_page: hasMore ? Buffer.from(`o:${offset + limit}`).toString('base64url') : null,
    ...(withTotal ? { total_count: hits.length } : {}),
    url,
  };
}

export function searchPaymentIntents(state: EmulatorState, params: FormObject): Record<string, unknown> {
  const items = state.all<PaymentIntent>('payment_intent');
  return searchObjects(state, params, items, PAYMENT_INTENT_FIELDS, 'payment_intents', '/v1/payment_intents/search');
}

export function searchCharges(state: EmulatorState, params: FormObject): Record<string, unknown> {
  return searchObjects(state, params, state.all<Charge>('charge'), CHARGE_FIELDS, 'charges', '/v1/charges/search');
}

export function listPaymentIntents(state: EmulatorState, params: FormObject): PaymentIntent[] {
  checkKnown(params, ['customer', 'limit', 'starting_after', 'ending_before', 'expand', 'created']);
  const customer = optString(params, 'customer');
  const created = rangeFilter(params, 'created');
  return state
    .all<PaymentIntent>('payment_intent')
    .filter((pi) => (customer === undefined || pi.customer === customer) && created(pi.created));
}
