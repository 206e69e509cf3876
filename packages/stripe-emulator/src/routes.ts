// The Stripe API surface the emulator serves. Each handler gets the decoded parameters (body for POST, query
// for GET) and the path id, and returns the JSON body or throws a StripeApiError.
import { resourceMissing } from './errors.js';
import type { FormObject } from './form.js';
import { checkKnown, limitParam, optString } from './params.js';
import { expansions, render, renderList } from './render.js';
import type { EmulatorState } from './state.js';
import type { BalanceTransaction, Charge, PaymentIntent, Refund } from './types.js';
import {
  cancelPaymentIntent,
  capturePaymentIntent,
  confirmPaymentIntent,
  createPaymentIntent,
  requirePaymentIntent,
} from './payment-intents.js';
import { createRefund, listRefunds } from './refunds.js';
import { listPaymentIntents, searchPaymentIntents } from './search.js';
import { CARD_ROUTES } from './routes-cards.js';
import type { StripeApiError } from './errors.js';
import { requirePayout } from './payouts.js';
import { rangeFilter } from './range-filter.js';
import { MORE_ROUTES } from './routes-more.js';
import { UPDATE_ROUTES } from './routes-updates.js';
import { CONNECT_ROUTES } from './routes-connect.js';

type Json = Record<string, unknown>;
export type Handler = (state: EmulatorState, params: FormObject, id: string) => Json;

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  handler: Handler;
}

const ID = '([A-Za-z0-9_]+)';

/** The PaymentIntent as returned by a confirming request: with automatic_async capture the charge's
 * balance_transaction is null in that response (docs.stripe.com/payments/paymentintents/lifecycle) and appears on
 * later reads. */
function renderPi(state: EmulatorState, pi: PaymentIntent, params: FormObject, confirming: boolean): Json {
  const out = render(state, pi, expansions(params));
  const charge = out.latest_charge;
  if (confirming && charge && typeof charge === 'object' && state.internal.get(pi.latest_charge ?? '')?.asyncCapture) {
    (charge as Json).balance_transaction = null;
  }
  return out;
}

function withPi(state: EmulatorState, id: string): PaymentIntent {
  return requirePaymentIntent(state, id);
}

function throwIf(error: StripeApiError | undefined): void {
  if (error) throw error;
}

const retrieveOnly = (params: FormObject, extra: readonly string[] = []): void =>
  checkKnown(params, ['expand', ...extra]);

export const ROUTES: readonly Route[] = [
  ...UPDATE_ROUTES,
  {
    method: 'POST',
    pattern: /^\/v1\/payment_intents$/,
    handler: (s, p) => {
      const { pi, error } = createPaymentIntent(s, p);
      throwIf(error);
      return renderPi(s, pi, p, true);
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/payment_intents$/,
    handler: (s, p) => renderList(s, listPaymentIntents(s, p), '/v1/payment_intents', p),
  },
  { method: 'GET', pattern: /^\/v1\/payment_intents\/search$/, handler: (s, p) => searchPaymentIntents(s, p) },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/payment_intents/${ID}$`),
    handler: (s, p, id) => {
      retrieveOnly(p, ['client_secret']);
      return renderPi(s, withPi(s, id), p, false);
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/payment_intents/${ID}/confirm$`),
    handler: (s, p, id) => {
      const pi = withPi(s, id);
      throwIf(confirmPaymentIntent(s, pi, p).error);
      return renderPi(s, pi, p, true);
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/payment_intents/${ID}/capture$`),
    handler: (s, p, id) => {
      const pi = withPi(s, id);
      capturePaymentIntent(s, pi, p);
      return renderPi(s, pi, p, false);
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/payment_intents/${ID}/cancel$`),
    handler: (s, p, id) => {
      const pi = withPi(s, id);
      cancelPaymentIntent(s, pi, p);
      return renderPi(s, pi, p, false);
    },
  },
  { method: 'POST', pattern: /^\/v1\/refunds$/, handler: (s, p) => render(s, createRefund(s, p), expansions(p)) },
  {
    method: 'GET',
    pattern: /^\/v1\/refunds$/,
    handler: (s, p) => {
      const refunds = listRefunds(s, p); // checks the parameters first
      const created = rangeFilter(p, 'created');
      return renderList(
        s,
        refunds.filter((r) => created(r.created)),
        '/v1/refunds',
        p,
      );
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/refunds/${ID}$`),
    handler: (s, p, id) => {
      retrieveOnly(p);
      const refund = s.find<Refund>(id, 'refund');
      if (!refund) throw resourceMissing('refund', id);
      return render(s, refund, expansions(p));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/charges$/,
    handler: (s, p) => {
      checkKnown(p, ['payment_intent', 'customer', 'limit', 'starting_after', 'ending_before', 'expand', 'created']);
      const pi = optString(p, 'payment_intent');
      const customer = optString(p, 'customer');
      const created = rangeFilter(p, 'created');
      const charges = s
        .all<Charge>('charge')
        .filter(
          (c) =>
            (pi === undefined || c.payment_intent === pi) &&
            (customer === undefined || c.customer === customer) &&
            created(c.created),
        );
      return renderList(s, charges, '/v1/charges', p);
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/charges/${ID}$`),
    handler: (s, p, id) => {
      retrieveOnly(p);
      const charge = s.find<Charge>(id, 'charge');
      if (!charge) throw resourceMissing('charge', id);
      return render(s, charge, expansions(p));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/balance_transactions$/,
    handler: (s, p) => {
      checkKnown(p, [
        'source',
        'type',
        'payout',
        'currency',
        'limit',
        'starting_after',
        'ending_before',
        'expand',
        'created',
      ]);
      // payout: what an automatic payout paid out, and the payout's own balance transaction (payouts.ts).
      const payout = optString(p, 'payout');
      if (payout !== undefined) requirePayout(s, payout, 'payout');
      const source = optString(p, 'source');
      const type = optString(p, 'type');
      const currency = optString(p, 'currency')?.toLowerCase();
      const created = rangeFilter(p, 'created');
      // A payout's own list when it has one (payouts.ts); scanning every balance transaction for every page made
      // listing a payout of 100,000 quadratic (1,000 pages of a 100,000-row scan).
      const members = payout === undefined ? undefined : s.internal.get(payout)?.members;
      if (
        members !== undefined &&
        source === undefined &&
        type === undefined &&
        currency === undefined &&
        p.created === undefined &&
        optString(p, 'ending_before') === undefined
      ) {
        // Paging through a payout by `starting_after` alone (what a reconciliation does): only the window that holds
        // the cursor and the next page is handed to renderList, which pages it exactly as it would the whole list.
        const limit = limitParam(p);
        const after = optString(p, 'starting_after');
        const end = after === undefined ? members.length : positionIn(members, after);
        if (end >= 0) {
          const window = members
            .slice(Math.max(0, end - limit - 1), after === undefined ? end : end + 1)
            .flatMap((id) => s.find<BalanceTransaction>(id, 'balance_transaction') ?? []);
          return renderList(s, window, '/v1/balance_transactions', p);
        }
      }
      const candidates =
        members === undefined
          ? s.all<BalanceTransaction>('balance_transaction')
          : members.flatMap((id) => s.find<BalanceTransaction>(id, 'balance_transaction') ?? []);
      const bts = candidates.filter(
        (b) =>
          (source === undefined || b.source === source) &&
          (type === undefined || b.type === type) &&
          (currency === undefined || b.currency === currency) &&
          created(b.created) &&
          (payout === undefined || s.internal.get(b.id)?.payout === payout),
      );
      return renderList(s, bts, '/v1/balance_transactions', p);
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/balance_transactions/${ID}$`),
    handler: (s, p, id) => {
      retrieveOnly(p);
      const bt = s.find<BalanceTransaction>(id, 'balance_transaction');
      if (!bt) throw resourceMissing('balance_transaction', id);
      return render(s, bt, expansions(p));
    },
  },
  ...CARD_ROUTES, // customers, PaymentMethods, SetupIntents (routes-cards.ts)
  ...MORE_ROUTES,
  ...CONNECT_ROUTES, // accounts, transfers, application fees (routes-connect.ts)
];

export function matchRoute(
  method: string,
  path: string,
): { route: Route; id: string } | 'method_not_allowed' | undefined {
  let pathMatched = false;
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (route.method === method) return { route, id: m[1] ?? '' };
  }
  return pathMatched ? 'method_not_allowed' : undefined;
}

/** Each payout member list's index of ids (built once per list; the lists never change once made). */
const positions = new WeakMap<readonly string[], Map<string, number>>();

/** Where `id` is in `members` (oldest first), or -1. */
function positionIn(members: readonly string[], id: string): number {
  let index = positions.get(members);
  if (index === undefined) {
    index = new Map(members.map((m, i) => [m, i]));
    positions.set(members, index);
  }
  return index.get(id) ?? -1;
}
