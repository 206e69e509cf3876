// The API surface added with events: events, webhook endpoints, balance, disputes and payouts.
import { retrieveBalance } from './balance-available.js';
import { closeDispute, listDisputes, renderDispute, requireDispute, updateDispute } from './disputes.js';
import { listEvents, retrieveEvent } from './events.js';
import { checkKnown } from './params.js';
import { listPayouts, requirePayout } from './payouts.js';
import { expansions, render } from './render.js';
import type { Route } from './routes.js';
import { createEndpoint, deleteEndpoint, listEndpoints, requireEndpoint, updateEndpoint } from './webhook-endpoints.js';

const ID = '([A-Za-z0-9_]+)';
const path = (p: string): RegExp => new RegExp(`^${p.replace(':id', ID)}$`);

export const MORE_ROUTES: readonly Route[] = [
  { method: 'GET', pattern: path('/v1/events'), handler: (s, p) => listEvents(s, p) },
  { method: 'GET', pattern: path('/v1/events/:id'), handler: (s, p, id) => retrieveEvent(s, p, id) },

  { method: 'POST', pattern: path('/v1/webhook_endpoints'), handler: (s, p) => createEndpoint(s, p) },
  { method: 'GET', pattern: path('/v1/webhook_endpoints'), handler: (s, p) => listEndpoints(s, p) },
  {
    method: 'GET',
    pattern: path('/v1/webhook_endpoints/:id'),
    handler: (s, p, id) => {
      checkKnown(p, ['expand']);
      return render(s, requireEndpoint(s, id), expansions(p));
    },
  },
  { method: 'POST', pattern: path('/v1/webhook_endpoints/:id'), handler: (s, p, id) => updateEndpoint(s, id, p) },
  {
    method: 'DELETE',
    pattern: path('/v1/webhook_endpoints/:id'),
    handler: (s, p, id) => {
      checkKnown(p, []);
      return deleteEndpoint(s, id);
    },
  },

  { method: 'GET', pattern: path('/v1/balance'), handler: (s, p) => retrieveBalance(s, p) },

  { method: 'GET', pattern: path('/v1/disputes'), handler: (s, p) => listDisputes(s, p) },
  {
    method: 'GET',
    pattern: path('/v1/disputes/:id'),
    handler: (s, p, id) => {
      checkKnown(p, ['expand']);
      return renderDispute(s, requireDispute(s, id), p);
    },
  },
  {
    method: 'POST',
    pattern: path('/v1/disputes/:id'),
    handler: (s, p, id) => renderDispute(s, updateDispute(s, id, p), p),
  },
  {
    method: 'POST',
    pattern: path('/v1/disputes/:id/close'),
    handler: (s, p, id) => {
      checkKnown(p, ['expand']);
      return renderDispute(s, closeDispute(s, id, 'lost', true), p);
    },
  },

  { method: 'GET', pattern: path('/v1/payouts'), handler: (s, p) => listPayouts(s, p) },
  {
    method: 'GET',
    pattern: path('/v1/payouts/:id'),
    handler: (s, p, id) => {
      checkKnown(p, ['expand']);
      return render(s, requirePayout(s, id), expansions(p));
    },
  },
];
