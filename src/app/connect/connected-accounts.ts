// Connected accounts (issue 18, M6): the gateway's Connect accounts Settle sends transfers to, makes payouts from and
// takes direct charges on, each a `cac_` record holding the gateway's own id (`acct_...`).
//
// The create contract (POST /v1/connected-accounts), one of:
// - `account: "acct_..."`: records an account that already exists at the gateway. Settle reads it first
//   (GET /v1/accounts/{id}; Accounts.d.ts `accounts.retrieve`), so an id the platform cannot reach is a 400
//   `account_not_found` and nothing is written. Stripe answers an unknown or foreign account with a permission error
//   (403), not a 404; the emulator does the same (packages/stripe-emulator/src/connect-accounts.ts).
// - no `account`: creates one at the gateway (POST /v1/accounts; AccountCreateParams: `type`, default `express`,
//   `country`, `email`, `metadata`), then records it. The gateway call carries an idempotency key derived from the
//   request's Idempotency-Key (the same key sends the same account request, which Stripe answers with the same
//   account), or from the new record's id without one; the record stamps `settle_connected_account_id` in the
//   account's metadata.
// Either way one gateway account is recorded once per gateway: the unique constraint answers a second record with 409
// connected_account_exists (store/constraint-errors.ts), also under concurrent requests. The gateway call happens
// outside any database transaction; the insert is one statement, and a request repeated with its Idempotency-Key
// replays the first answer.
import { createHash } from 'node:crypto';
import { NotFoundError, SettleError, ValidationError } from '../../domain/errors.js';
import { parseMetadata } from '../../domain/fields.js';
import {
  findConnectedAccount,
  insertConnectedAccount,
  listConnectedAccountRows,
} from '../../store/connected-accounts-repo.js';
import { findDefaultGateway } from '../../store/gateway-records-repo.js';
import type { ConnectedAccountRow, GatewayRow } from '../../store/schema.js';
import { iso } from '../customers.js';
import type { Deps, RequestContext } from '../deps.js';
import type { GatewayConnectedAccount, GatewayOutcome } from '../gateway-port.js';
import { requireGateway } from '../gateway-records.js';
import { newId } from '../ids.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from '../pagination.js';

export const CONNECTED_ACCOUNT_METADATA_KEY = 'settle_connected_account_id';
export const ACCOUNT_TYPES = ['custom', 'express', 'standard'] as const;
export type ConnectedAccountType = (typeof ACCOUNT_TYPES)[number];
const GATEWAY_ACCOUNT = /^acct_[A-Za-z0-9]{1,250}$/;

export interface ConnectedAccountView {
  id: string;
  object: 'connected_account';
  gateway_id: string;
  /** The gateway's id of the account (Stripe's acct_...). */
  account: string;
  type: string | null;
  country: string | null;
  email: string | null;
  default_currency: string | null;
  charges_enabled: boolean;
  payouts_enabled: boolean;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export function presentConnectedAccount(row: ConnectedAccountRow): ConnectedAccountView {
  return {
    id: row.id,
    object: 'connected_account',
    gateway_id: row.gateway_id,
    account: row.gateway_account,
    type: row.type,
    country: row.country,
    email: row.email,
    default_currency: row.default_currency,
    charges_enabled: row.charges_enabled,
    payouts_enabled: row.payouts_enabled,
    metadata: row.metadata,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export interface CreateConnectedAccountInput {
  gateway_id?: string;
  account?: string;
  type?: string;
  country?: string;
  email?: string;
  metadata?: Record<string, unknown>;
}

function parseInput(input: CreateConnectedAccountInput) {
  const account = input.account;
  if (account !== undefined && !GATEWAY_ACCOUNT.test(account)) {
    throw new ValidationError(
      'parameter_invalid_value',
      "account must be the gateway's connected account id (acct_...).",
      'account',
    );
  }
  if (account !== undefined) {
    for (const field of ['type', 'country', 'email'] as const) {
      if (input[field] !== undefined) {
        throw new ValidationError(
          'parameter_not_allowed',
          `${field} describes an account Settle creates; an existing account (account) is recorded as the gateway describes it.`,
          field,
        );
      }
    }
  }
  const type = input.type ?? 'express';
  if (!(ACCOUNT_TYPES as readonly string[]).includes(type)) {
    throw new ValidationError('parameter_invalid_value', `type must be one of: ${ACCOUNT_TYPES.join(', ')}.`, 'type');
  }
  const country = input.country ?? null;
  if (country !== null && !/^[A-Z]{2}$/.test(country)) {
    throw new ValidationError(
      'parameter_invalid_value',
      'country must be a two-letter upper-case ISO code (US).',
      'country',
    );
  }
  const email = input.email ?? null;
  if (email !== null && (email.length > 320 || !/^[^@\s]+@[^@\s]+$/.test(email))) {
    throw new ValidationError('parameter_invalid_value', 'email must be an email address.', 'email');
  }
  const metadata =
    input.metadata === undefined ? {} : (parseMetadata(input.metadata, 'metadata', false) as Record<string, string>);
  return { account, type: type as ConnectedAccountType, country, email, metadata };
}

async function gatewayOf(deps: Deps, gatewayId: string | undefined): Promise<GatewayRow> {
  if (gatewayId !== undefined) return requireGateway(deps, gatewayId);
  const row = await findDefaultGateway(deps.db);
  if (!row) throw new ValidationError('no_default_gateway', 'No default gateway: give gateway_id.', 'gateway_id');
  return row;
}

/** A gateway's answer, or the 4xx/503 that says why there is none (nothing written either way). */
function accountResult(outcome: GatewayOutcome<GatewayConnectedAccount>, account: string | undefined) {
  if (outcome.kind === 'succeeded') return outcome.result;
  const error = 'error' in outcome ? outcome.error : null;
  if (account !== undefined && (error?.http_status === 403 || error?.http_status === 404)) {
    throw new ValidationError(
      'account_not_found',
      `The gateway has no connected account ${account} that this platform can reach (${error.message}).`,
      'account',
    );
  }
  if (outcome.kind === 'invalid_request' || outcome.kind === 'declined') {
    throw new ValidationError('gateway_refused', `The gateway refused the account: ${error?.message ?? outcome.kind}.`);
  }
  throw new SettleError(
    'unavailable',
    'gateway_unavailable',
    `The gateway did not answer the account request (${error?.message ?? outcome.kind}); nothing was recorded. Try again later.`,
  );
}

/** The gateway idempotency key of a create: the same request key gives the same key (and so the same account). */
function accountIdempotencyKey(ctx: RequestContext, id: string): string {
  if (!ctx.idempotency) return `settle-${id}`;
  const { apiKeyId, key } = ctx.idempotency;
  return `settle-cac-${createHash('sha256').update(`${apiKeyId}\u0000${key}`).digest('hex').slice(0, 40)}`;
}

/** POST /v1/connected-accounts (through runKeyed: the route claims the Idempotency-Key first). */
export async function createConnectedAccount(deps: Deps, ctx: RequestContext, input: CreateConnectedAccountInput) {
  const parsed = parseInput(input);
  const gatewayRow = await gatewayOf(deps, input.gateway_id);
  const gateway = deps.gateways.forRecord(gatewayRow);
  if (!gateway.createConnectedAccount || !gateway.retrieveConnectedAccount) {
    throw new ValidationError(
      'gateway_not_supported',
      `Gateway ${gatewayRow.id} (${gatewayRow.provider}) has no connected accounts in this version of Settle.`,
      'gateway_id',
    );
  }
  const now = deps.clock.now();
  const id = newId('connected_account', now.getTime());
  const account =
    parsed.account === undefined
      ? accountResult(
          await gateway.createConnectedAccount({
            idempotencyKey: accountIdempotencyKey(ctx, id),
            type: parsed.type,
            country: parsed.country,
            email: parsed.email,
            metadata: { ...parsed.metadata, [CONNECTED_ACCOUNT_METADATA_KEY]: id },
          }),
          undefined,
        )
      : accountResult(await gateway.retrieveConnectedAccount(parsed.account), parsed.account);
  // The request's Idempotency-Key is claimed by the route (http/keyed-work.ts) before any of this runs: a replay, or
  // the key reused for another request, is answered from the key's record without calling the gateway again.
  return deps.commands.runSingleStatement<ConnectedAccountView>(undefined, async (db) => {
    const row = await insertConnectedAccount(db, {
      id,
      gateway_id: gatewayRow.id,
      gateway_account: account.id,
      type: account.type,
      country: account.country,
      email: account.email,
      default_currency: account.default_currency,
      charges_enabled: account.charges_enabled,
      payouts_enabled: account.payouts_enabled,
      metadata: JSON.stringify(parsed.metadata),
      created_at: now,
      updated_at: now,
    });
    return { status: 201, body: presentConnectedAccount(row) };
  });
}

export async function requireConnectedAccount(
  deps: Pick<Deps, 'db'>,
  id: string,
  param?: string,
): Promise<ConnectedAccountRow> {
  const row = await findConnectedAccount(deps.db, id);
  if (!row) throw new NotFoundError('connected_account', id, param);
  return row;
}

export async function getConnectedAccount(deps: Deps, id: string): Promise<ConnectedAccountView> {
  return presentConnectedAccount(await requireConnectedAccount(deps, id));
}

export interface ListConnectedAccountsQuery {
  gateway_id?: string;
  limit?: number;
  starting_after?: string;
}

export async function listConnectedAccounts(
  deps: Deps,
  query: ListConnectedAccountsQuery,
): Promise<Page<ConnectedAccountView>> {
  const limit = parseLimit(query.limit);
  const after = cursorAfter(query.starting_after, 'connected_account');
  const rows = await listConnectedAccountRows(deps.db, { gateway_id: query.gateway_id, after, limit });
  return pageOf(rows, limit, presentConnectedAccount, byId);
}
