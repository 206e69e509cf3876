// The saved-card API surface: customers (and their PaymentMethods), PaymentMethods and SetupIntents. Stripe's paths
// (docs.stripe.com/api); `/v1/customers/search` comes before `/v1/customers/:id`, or "search" would be taken for an id.
import {
  listCustomerPaymentMethods,
  listCustomers,
  retrieveCustomerPaymentMethod,
  searchCustomers,
} from './customer-lists.js';
import {
  attachPaymentMethod,
  createCustomer,
  deleteCustomer,
  resolvePaymentMethod,
  retrieveCustomer,
  updateCustomer,
} from './customers.js';
import type { StripeApiError } from './errors.js';
import { checkKnown } from './params.js';
import { createPaymentMethod } from './payment-method-create.js';
import { detachPaymentMethod, listPaymentMethods, updatePaymentMethod } from './payment-methods.js';
import { expansions, render, renderList } from './render.js';
import type { Route } from './routes.js';
import { cancelSetupIntent, listSetupIntents, updateSetupIntent } from './setup-intent-updates.js';
import { confirmSetupIntent, createSetupIntent, requireSetupIntent } from './setup-intents.js';

const ID = '([A-Za-z0-9_]+)';
const path = (p: string): RegExp => new RegExp(`^${p.replace(':id', ID)}$`);

function throwIf(error: StripeApiError | undefined): void {
  if (error) throw error;
}

export const CARD_ROUTES: readonly Route[] = [
  { method: 'POST', pattern: path('/v1/customers'), handler: (s, p) => render(s, createCustomer(s, p), expansions(p)) },
  {
    method: 'GET',
    pattern: path('/v1/customers'),
    handler: (s, p) => renderList(s, listCustomers(s, p), '/v1/customers', p),
  },
  { method: 'GET', pattern: path('/v1/customers/search'), handler: (s, p) => searchCustomers(s, p) },
  { method: 'GET', pattern: path('/v1/customers/:id'), handler: (s, p, id) => retrieveCustomer(s, id, p) },
  {
    method: 'POST',
    pattern: path('/v1/customers/:id'),
    handler: (s, p, id) => render(s, updateCustomer(s, id, p), expansions(p)),
  },
  { method: 'DELETE', pattern: path('/v1/customers/:id'), handler: (s, p, id) => deleteCustomer(s, id, p) },
  {
    method: 'GET',
    pattern: path('/v1/customers/:id/payment_methods'),
    handler: (s, p, id) =>
      renderList(s, listCustomerPaymentMethods(s, id, p), `/v1/customers/${id}/payment_methods`, p),
  },
  {
    // Two ids: the route captures "cus_x/payment_methods/pm_y" as one and splits it here.
    method: 'GET',
    pattern: /^\/v1\/customers\/([A-Za-z0-9_]+\/payment_methods\/[A-Za-z0-9_]+)$/,
    handler: (s, p, ids) => {
      const [customer = '', , pm = ''] = ids.split('/');
      return render(s, retrieveCustomerPaymentMethod(s, customer, pm, p), expansions(p));
    },
  },

  {
    method: 'POST',
    pattern: path('/v1/payment_methods'),
    handler: (s, p) => render(s, createPaymentMethod(s, p), expansions(p)),
  },
  {
    method: 'GET',
    pattern: path('/v1/payment_methods'),
    handler: (s, p) => renderList(s, listPaymentMethods(s, p), '/v1/payment_methods', p),
  },
  {
    method: 'GET',
    pattern: path('/v1/payment_methods/:id'),
    handler: (s, p, id) => {
      checkKnown(p, ['expand']);
      return render(s, resolvePaymentMethod(s, id, 'id'), expansions(p));
    },
  },
  {
    method: 'POST',
    pattern: path('/v1/payment_methods/:id'),
    handler: (s, p, id) => render(s, updatePaymentMethod(s, id, p), expansions(p)),
  },
  {
    method: 'POST',
    pattern: path('/v1/payment_methods/:id/attach'),
    handler: (s, p, id) => render(s, attachPaymentMethod(s, id, p), expansions(p)),
  },
  {
    method: 'POST',
    pattern: path('/v1/payment_methods/:id/detach'),
    handler: (s, p, id) => render(s, detachPaymentMethod(s, id, p), expansions(p)),
  },

  {
    method: 'POST',
    pattern: path('/v1/setup_intents'),
    handler: (s, p) => {
      const { si, error } = createSetupIntent(s, p);
      throwIf(error);
      return render(s, si, expansions(p));
    },
  },
  {
    method: 'GET',
    pattern: path('/v1/setup_intents'),
    handler: (s, p) => renderList(s, listSetupIntents(s, p), '/v1/setup_intents', p),
  },
  {
    method: 'GET',
    pattern: path('/v1/setup_intents/:id'),
    handler: (s, p, id) => {
      checkKnown(p, ['expand', 'client_secret']);
      return render(s, requireSetupIntent(s, id), expansions(p));
    },
  },
  {
    method: 'POST',
    pattern: path('/v1/setup_intents/:id'),
    handler: (s, p, id) => render(s, updateSetupIntent(s, id, p), expansions(p)),
  },
  {
    method: 'POST',
    pattern: path('/v1/setup_intents/:id/confirm'),
    handler: (s, p, id) => {
      const { si, error } = confirmSetupIntent(s, id, p);
      throwIf(error);
      return render(s, si, expansions(p));
    },
  },
  {
    method: 'POST',
    pattern: path('/v1/setup_intents/:id/cancel'),
    handler: (s, p, id) => render(s, cancelSetupIntent(s, id, p), expansions(p)),
  },
];
