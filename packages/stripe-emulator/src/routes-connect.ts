// The Connect API surface (docs.stripe.com/api/accounts, /api/transfers, /api/transfer_reversals,
// /api/application_fees, /api/fee_refunds): connected accounts, transfers and their reversals, application fees and
// their refunds. Which account a request acts on comes from the Stripe-Account header (stripe-account.ts).
import {
  createFeeRefund,
  listApplicationFees,
  listFeeRefunds,
  requireApplicationFee,
  requireFeeRefund,
} from './application-fees.js';
import { createAccount, listAccounts, retrieveAccount } from './connect-accounts.js';
import type { FormObject } from './form.js';
import { checkKnown } from './params.js';
import { expansions, render } from './render.js';
import type { Route } from './routes.js';
import type { EmulatorState } from './state.js';
import {
  createReversal,
  createTransfer,
  listReversals,
  listTransfers,
  requireReversal,
  requireTransfer,
  updateTransfer,
} from './transfers.js';
import type { AnyStripeObject } from './types.js';

const ID = '([A-Za-z0-9_]+)';
const path = (p: string): RegExp => new RegExp(`^${p.replace(':id', ID)}$`);
/** A path with two ids, captured as one ("tr_x/reversals/trr_y") and split by the handler. */
const nested = (parent: string, child: string): RegExp =>
  new RegExp(`^/v1/${parent}/([A-Za-z0-9_]+/${child}/[A-Za-z0-9_]+)$`);
const out = (s: EmulatorState, obj: AnyStripeObject, p: FormObject): Record<string, unknown> =>
  render(s, obj, expansions(p));
const retrieve = (p: FormObject): void => checkKnown(p, ['expand']);
const split = (ids: string): [string, string] => {
  const parts = ids.split('/');
  return [parts[0] ?? '', parts[2] ?? ''];
};

export const CONNECT_ROUTES: readonly Route[] = [
  { method: 'POST', pattern: path('/v1/accounts'), handler: (s, p) => out(s, createAccount(s, p), p) },
  { method: 'GET', pattern: path('/v1/accounts'), handler: (s, p) => listAccounts(s, p) },
  { method: 'GET', pattern: path('/v1/accounts/:id'), handler: (s, p, id) => retrieveAccount(s, id, p) },

  { method: 'POST', pattern: path('/v1/transfers'), handler: (s, p) => out(s, createTransfer(s, p), p) },
  { method: 'GET', pattern: path('/v1/transfers'), handler: (s, p) => listTransfers(s, p) },
  {
    method: 'GET',
    pattern: path('/v1/transfers/:id'),
    handler: (s, p, id) => {
      retrieve(p);
      return out(s, requireTransfer(s, id), p);
    },
  },
  { method: 'POST', pattern: path('/v1/transfers/:id'), handler: (s, p, id) => out(s, updateTransfer(s, id, p), p) },
  {
    method: 'POST',
    pattern: path('/v1/transfers/:id/reversals'),
    handler: (s, p, id) => out(s, createReversal(s, id, p), p),
  },
  { method: 'GET', pattern: path('/v1/transfers/:id/reversals'), handler: (s, p, id) => listReversals(s, id, p) },
  {
    method: 'GET',
    pattern: nested('transfers', 'reversals'),
    handler: (s, p, ids) => {
      retrieve(p);
      const [transfer, reversal] = split(ids);
      return out(s, requireReversal(s, transfer, reversal), p);
    },
  },

  { method: 'GET', pattern: path('/v1/application_fees'), handler: (s, p) => listApplicationFees(s, p) },
  {
    method: 'GET',
    pattern: path('/v1/application_fees/:id'),
    handler: (s, p, id) => {
      retrieve(p);
      return out(s, requireApplicationFee(s, id), p);
    },
  },
  {
    method: 'POST',
    pattern: path('/v1/application_fees/:id/refunds'),
    handler: (s, p, id) => out(s, createFeeRefund(s, id, p), p),
  },
  {
    method: 'GET',
    pattern: path('/v1/application_fees/:id/refunds'),
    handler: (s, p, id) => listFeeRefunds(s, id, p),
  },
  {
    method: 'GET',
    pattern: nested('application_fees', 'refunds'),
    handler: (s, p, ids) => {
      retrieve(p);
      const [fee, refund] = split(ids);
      return out(s, requireFeeRefund(s, fee, refund), p);
    },
  },
];
