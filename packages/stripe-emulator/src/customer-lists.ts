// Customer lists: GET /v1/customers, its search, and a customer's PaymentMethods (customers.ts has the rest).
import { requireCustomer } from './customers.js';
import { invalidRequest, resourceMissing } from './errors.js';
import type { FormObject } from './form.js';
import { checkKnown, limitParam, optString, reqString } from './params.js';
import { customerPaymentMethods } from './payment-methods.js';
import { rangeFilter } from './range-filter.js';
import { expansions, render } from './render.js';
import type { EmulatorState } from './state.js';
import type { Customer, PaymentMethod } from './types.js';

type Json = Record<string, unknown>;

/** GET /v1/customers: email (exact, case-sensitive: CustomerListParams.email), created; newest first. */
export function listCustomers(state: EmulatorState, params: FormObject): Customer[] {
  checkKnown(params, ['email', 'created', 'limit', 'starting_after', 'ending_before', 'expand', 'test_clock']);
  const email = optString(params, 'email');
  const created = rangeFilter(params, 'created');
  return state
    .all<Customer>('customer')
    .filter((c) => c.deleted !== true && (email === undefined || c.email === email) && created(c.created as number));
}

// Customer search (docs.stripe.com/search#query-fields-for-customers): the subset the PaymentIntent search has,
// `field:'value'` clauses joined by AND, on email, name, phone and metadata['key'].
const SEARCH_CLAUSE = /^(metadata\[(?:'([^']*)'|"([^"]*)")\]|[a-z_]+):(?:'([^']*)'|"([^"]*)")$/;
const SEARCHABLE = ['email', 'name', 'phone'] as const;

function customerClause(text: string): (c: Customer) => boolean {
  const m = SEARCH_CLAUSE.exec(text.trim());
  if (!m) throw invalidRequest(`Unsupported search clause: ${text.trim()}`, undefined, 'query');
  const metaKey = m[2] ?? m[3];
  const value = m[4] ?? m[5] ?? '';
  if (metaKey !== undefined) return (c) => (c.metadata as Record<string, string>)[metaKey] === value;
  const field = m[1] ?? '';
  if (!(SEARCHABLE as readonly string[]).includes(field))
    throw invalidRequest(`Field '${field}' is not searchable on the emulator.`, undefined, 'query');
  return (c) => c[field] === value;
}

/** GET /v1/customers/search: Stripe's search_result object; `page` takes the previous answer's next_page. */
export function searchCustomers(state: EmulatorState, params: FormObject): Json {
  checkKnown(params, ['query', 'limit', 'page', 'expand']);
  const query = reqString(params, 'query');
  if (/\sOR\s/.test(query)) throw invalidRequest('OR queries are not supported by the emulator.', undefined, 'query');
  const clauses = query.split(/\s+AND\s+/).map(customerClause);
  const limit = limitParam(params);
  const token = optString(params, 'page');
  const offset =
    token === undefined ? 0 : Number(/^o:(\d{1,9})$/.exec(Buffer.from(token, 'base64url').toString())?.[1]);
  if (!Number.isSafeInteger(offset)) throw invalidRequest('Invalid page token.', undefined, 'page');
  const hits = state
    .all<Customer>('customer')
    .filter((c) => c.deleted !== true && clauses.every((match) => match(c)))
    .reverse();
  const hasMore = hits.length > offset + limit;
  const expand = expansions(params).map((p) => p.replace(/^data\./, ''));
  return {
    object: 'search_result',
    data: hits.slice(offset, offset + limit).map((c) => render(state, c, expand)),
    has_more: hasMore,
    next_page: hasMore ? Buffer.from(`o:${offset + limit}`).toString('base64url') : null,
    url: '/v1/customers/search',
  };
}

/** GET /v1/customers/:id/payment_methods (type, allow_redisplay, pagination). */
export function listCustomerPaymentMethods(state: EmulatorState, id: string, params: FormObject): PaymentMethod[] {
  checkKnown(params, ['type', 'allow_redisplay', 'limit', 'starting_after', 'ending_before', 'expand']);
  requireCustomer(state, id, 'customer');
  return customerPaymentMethods(state, id, params);
}

/** GET /v1/customers/:id/payment_methods/:pm: 404 unless the PaymentMethod is this customer's. */
export function retrieveCustomerPaymentMethod(
  state: EmulatorState,
  customerId: string,
  pmId: string,
  params: FormObject,
): PaymentMethod {
  checkKnown(params, ['expand']);
  requireCustomer(state, customerId, 'customer');
  const pm = state.find<PaymentMethod>(pmId, 'payment_method');
  if (!pm || pm.customer !== customerId) throw resourceMissing('payment_method', pmId, 'payment_method');
  return pm;
}
