// PaymentIntent list and search. Search supports the subset of Stripe's search query language Settle needs:
// clauses joined by AND (upper case), each `field:value` with field one of metadata['key'], status, customer,
// currency, amount. Values are quoted strings ('x' or "x") or, for amount, integers. Results come back as
// Stripe's search_result object { object, data, has_more, next_page, url }; pass `page` = next_page for the
// next page (docs.stripe.com/search). Unlike Stripe, new objects are searchable at once (Stripe's search can lag
// by about a minute, so Stripe advises lists for read-after-write).
import { invalidRequest } from './errors.js';
import type { FormObject } from './form.js';
import { checkKnown, limitParam, optString, reqString } from './params.js';
import { expansions, render } from './render.js';
import type { EmulatorState } from './state.js';
import type { PaymentIntent } from './types.js';

type Clause = (pi: PaymentIntent) => boolean;

const CLAUSE = /^(metadata\[(?:'([^']*)'|"([^"]*)")\]|[a-z_]+):(?:'([^']*)'|"([^"]*)"|(-?\d+))$/;

function parseClause(text: string): Clause {
  const m = CLAUSE.exec(text.trim());
  if (!m) throw invalidRequest(`Unsupported search clause: ${text.trim()}`, 'parameter_invalid_string', 'query');
  const field = m[1] ?? '';
  const metaKey = m[2] ?? m[3];
  const value = m[4] ?? m[5] ?? m[6] ?? '';
  if (metaKey !== undefined) return (pi) => pi.metadata[metaKey] === value;
  switch (field) {
    case 'status':
      return (pi) => pi.status === value;
    case 'customer':
      return (pi) => pi.customer === value;
    case 'currency':
      return (pi) => pi.currency === value.toLowerCase();
    case 'amount':
      return (pi) => String(pi.amount) === value;
    default:
      throw invalidRequest(`Field '${field}' is not searchable on the emulator.`, 'parameter_invalid_string', 'query');
  }
}

export function parseQuery(query: string): Clause[] {
  if (/\sOR\s/.test(query))
    throw invalidRequest('OR queries are not supported by the emulator.', 'parameter_invalid_string', 'query');
  return query.split(/\s+AND\s+/).map(parseClause);
}

export function searchPaymentIntents(state: EmulatorState, params: FormObject): Record<string, unknown> {
  checkKnown(params, ['query', 'limit', 'page', 'expand']);
  const clauses = parseQuery(reqString(params, 'query'));
  const limit = limitParam(params);
  const pageToken = optString(params, 'page');
  const offset =
    pageToken === undefined ? 0 : Number(Buffer.from(pageToken, 'base64url').toString('utf8').replace(/^o:/, ''));
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw invalidRequest('Invalid page token.', 'parameter_invalid_string', 'page');
  const hits = state
    .all<PaymentIntent>('payment_intent')
    .filter((pi) => clauses.every((c) => c(pi)))
    .reverse();
  const page = hits.slice(offset, offset + limit);
  const hasMore = hits.length > offset + limit;
  const expand = expansions(params).map((p) => p.replace(/^data\./, ''));
  return {
    object: 'search_result',
    data: page.map((pi) => render(state, pi, expand)),
    has_more: hasMore,
    next_page: hasMore ? Buffer.from(`o:${offset + limit}`).toString('base64url') : null,
    url: '/v1/payment_intents/search',
  };
}

export function listPaymentIntents(state: EmulatorState, params: FormObject): PaymentIntent[] {
  checkKnown(params, ['customer', 'limit', 'starting_after', 'ending_before', 'expand', 'created']);
  const customer = optString(params, 'customer');
  return state.all<PaymentIntent>('payment_intent').filter((pi) => customer === undefined || pi.customer === customer);
}
