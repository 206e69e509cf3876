// Payment methods (R5): gateway tokens, never card numbers (X3). A method may be the default of its account
// and/or contact (is_default); making it so rolls it down onto their open transactions.
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { mergeMetadata, parseEmail, parseMetadata, parseText } from '../domain/fields.js';
import { isPaymentMethodUsable } from '../domain/to-fix.js';
import { findDefaultGateway } from '../store/gateway-records-repo.js';
import {
  clearDefaultPaymentMethod,
  compareAndSetPaymentMethod,
  findPaymentMethodWithDefault,
  insertPaymentMethod,
  listPaymentMethodsPage,
  type NewPaymentMethodRow,
  type PaymentMethodFilters,
  type PaymentMethodWithDefault,
} from '../store/payment-methods-repo.js';
import type { Db, GatewayRow, Tx } from '../store/schema.js';
import {
  ensureCustomer,
  gatewayRefusal,
  type Owner,
  ownerOf,
  refreshSetup,
  sendSetup,
  setupAwaiting,
  setupVerdict,
} from './saved-cards.js';
import { iso, optional, requireChanges, retryOnRace, rollDownDefault, setCustomerDefault } from './customers.js';
import { type Deps, type RequestContext, requireAccount, requireContact, today } from './deps.js';
import { newId } from './ids.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';

export const PAYMENT_METHOD_TYPES = ['card', 'us_bank_account'] as const;
export const PAYMENT_METHOD_STATUSES = [
  'valid',
  'invalid',
  'expired',
  'one_time',
  'new',
  'pending',
  'verified',
  'verification_failed',
  'errored',
  'deleted_from_gateway',
] as const;
type PaymentMethodType = (typeof PAYMENT_METHOD_TYPES)[number];
type PaymentMethodStatus = (typeof PAYMENT_METHOD_STATUSES)[number];
const isPaymentMethodStatus = (value: string): value is PaymentMethodStatus =>
  (PAYMENT_METHOD_STATUSES as readonly string[]).includes(value);

export interface PaymentMethodView {
  id: string;
  object: 'payment_method';
  gateway_token: string;
  type: PaymentMethodType;
  status: string;
  usable: boolean;
  brand: string | null;
  last4: string | null;
  exp_month: number | null;
  exp_year: number | null;
  funding: string | null;
  fingerprint: string | null;
  account_id: string | null;
  contact_id: string | null;
  billing_email: string | null;
  is_default: boolean;
  gateway_id: string | null;
  gateway_customer: string | null;
  setup_intent: string | null;
  setup_status: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
}

type Row = PaymentMethodWithDefault;

function present(row: Row, day: string): PaymentMethodView {
  const { version: _version, created_at, updated_at, ...fields } = row;
  return {
    ...fields,
    object: 'payment_method',
    usable: isPaymentMethodUsable(row, day),
    created_at: iso(created_at),
    updated_at: iso(updated_at),
  };
}

async function findRow(db: Db, id: string): Promise<Row> {
  const row = await findPaymentMethodWithDefault(db, id);
  if (!row) throw new NotFoundError('payment method', id);
  return row;
}

/** X3: Settle never stores a card number; a token that is 12-19 digits (spaces, dashes) is refused. */
export function parseGatewayToken(value: unknown): string {
  const token = parseText(value, 'gateway_token', 255);
  const digits = token.replace(/[\s-]/g, '');
  if (/^\d{12,19}$/.test(digits)) {
    throw new ValidationError(
      'card_number_not_accepted',
      'gateway_token looks like a card number. Settle never stores card numbers: send the token your gateway returned (e.g. pm_card_visa).',
      'gateway_token',
    );
  }
  if (/\s/.test(token))
    throw new ValidationError(
      'invalid_gateway_token',
      "gateway_token is the gateway's token, without spaces.",
      'gateway_token',
    );
  return token;
}

function check<T>(ok: (value: T) => boolean, code: string, field: string, rule: string) {
  return (value: T): T => {
    if (!ok(value)) throw new ValidationError(code, `${field} must be ${rule}.`, field);
    return value;
  };
}

const isInt = (min: number, max: number) => (v: number) => Number.isInteger(v) && v >= min && v <= max;
const last4 = check<string>((v) => /^\d{4}$/.test(v), 'invalid_last4', 'last4', 'exactly 4 digits');
const expMonth = check<number>(isInt(1, 12), 'invalid_exp_month', 'exp_month', 'a month number from 1 to 12');
const expYear = check<number>(isInt(1900, 9999), 'invalid_exp_year', 'exp_year', 'a 4-digit year');
const text = (field: string, max: number) => (v: string) => parseText(v, field, max);

interface DetailsInput {
  status?: string;
  brand?: string | null;
  last4?: string | null;
  exp_month?: number | null;
  exp_year?: number | null;
  funding?: string | null;
  billing_email?: string | null;
  is_default?: boolean;
}
export interface CreatePaymentMethodInput extends DetailsInput {
  gateway_token: string;
  type: PaymentMethodType;
  fingerprint?: string | null;
  account_id?: string | null;
  contact_id?: string | null;
  metadata?: Record<string, unknown>;
}
export interface UpdatePaymentMethodInput extends DetailsInput {
  gateway_token?: unknown;
  type?: unknown;
  metadata?: Record<string, unknown>;
}

/** The editable details, parsed (undefined = not given, null = clear). */
function parseDetails(input: DetailsInput) {
  const { status } = input;
  if (status !== undefined && !isPaymentMethodStatus(status)) {
    throw new ValidationError(
      'invalid_status',
      `status must be one of ${PAYMENT_METHOD_STATUSES.join(', ')}.`,
      'status',
    );
  }
  return {
    status,
    brand: optional(input.brand, text('brand', 50)),
    last4: optional(input.last4, last4),
    exp_month: optional(input.exp_month, expMonth),
    exp_year: optional(input.exp_year, expYear),
    funding: optional(input.funding, text('funding', 50)),
    billing_email: optional(input.billing_email, (v) => parseEmail(v, 'billing_email')),
  };
}

/** Expiry is for cards only, and is given whole (month and year) or not at all. */
function checkExpiry(
  type: string,
  row: { exp_month: number | null; exp_year: number | null },
  given: DetailsInput,
): void {
  const field = given.exp_month !== undefined ? 'exp_month' : 'exp_year';
  if (type !== 'card' && (row.exp_month !== null || row.exp_year !== null)) {
    throw new ValidationError(
      'expiry_not_allowed',
      'exp_month and exp_year apply to cards only, not to bank accounts.',
      field,
    );
  }
  if ((row.exp_month === null) !== (row.exp_year === null)) {
    throw new ValidationError(
      'incomplete_expiry',
      'Give exp_month and exp_year together.',
      row.exp_month === null ? 'exp_month' : 'exp_year',
    );
  }
}

/** is_default true: make it the default of its account and contact, rolling it down; false: unset it. */
async function applyIsDefault(trx: Tx, ctx: RequestContext, pm: Row, isDefault: boolean, rollDown: boolean, now: Date) {
  const owners = [
    ['account', pm.account_id],
    ['contact', pm.contact_id],
  ] as const;
  if (!isDefault) {
    await clearDefaultPaymentMethod(trx, pm.id, now);
    return;
  }
  if (pm.account_id === null && pm.contact_id === null) {
    throw new ValidationError(
      'no_customer',
      'is_default needs the payment method to belong to an account or a contact.',
      'is_default',
    );
  }
  for (const [kind, customerId] of owners) {
    if (customerId === null) continue;
    const changed = await setCustomerDefault(trx, kind, customerId, pm.id, now);
    if (changed && rollDown) await rollDownDefault(trx, ctx, kind, customerId, pm.id, now);
  }
}

/** A contact given with an account must belong to it; a contact alone brings its account. */
async function resolveOwners(trx: Tx, accountId: string | null, contactId: string | null) {
  if (accountId !== null) await requireAccount(trx, accountId);
  if (contactId === null) return { account_id: accountId, contact_id: null };
  const contact = await requireContact(trx, contactId);
  if (accountId !== null && contact.account_id !== accountId) {
    throw new ValidationError(
      'contact_account_mismatch',
      `Contact ${contactId} does not belong to account ${accountId}.`,
      'contact_id',
    );
  }
  return { account_id: contact.account_id, contact_id: contactId };
}

/** What the call after tx1 needs to save a card (saved-cards.ts): Settle's id for it, its row, its owner, the gateway. */
interface SaveCard {
  id: string;
  row: NewPaymentMethodRow;
  owner: Owner;
  gateway: GatewayRow;
  rollDown: boolean;
}

/**
 * R5. A card with an owner is saved at the default gateway (saved-cards.ts): tx1 checks the input and the owners and
 * holds the request's Idempotency-Key; outside any transaction the owner's Customer is ensured and a SetupIntent
 * created and confirmed (key settle_setup_<pm id>); tx2 inserts the method as the gateway saved it (the pm_... it
 * answered, the Customer, the SetupIntent, the card's details) and stores the response. A declined or refused setup
 * is an error and inserts nothing; an unknown outcome inserts the method `pending` (setup_status unknown), which a
 * later read completes by sending the same request again (answered 202). Without a default gateway, for a bank
 * account or a method without an owner (one-time), the method is stored as given.
 */
export async function createPaymentMethod(deps: Deps, ctx: RequestContext, input: CreatePaymentMethodInput) {
  const gatewayToken = parseGatewayToken(input.gateway_token);
  const type = input.type;
  const details = parseDetails(input);
  const values = {
    gateway_token: gatewayToken,
    type,
    status: details.status ?? (type === 'card' ? 'valid' : 'new'),
    brand: details.brand ?? null,
    last4: details.last4 ?? null,
    exp_month: details.exp_month ?? null,
    exp_year: details.exp_year ?? null,
    funding: details.funding ?? null,
    fingerprint: optional(input.fingerprint, text('fingerprint', 255)) ?? null,
    billing_email: details.billing_email ?? null,
    metadata: JSON.stringify(input.metadata === undefined ? {} : parseMetadata(input.metadata, 'metadata', false)),
  };
  checkExpiry(type, values, input);
  const settings = await deps.settings.get();
  const day = await today(deps);
  const rollDown = settings.payment_method_rolldown_enabled;
  const insert = async (trx: Tx, row: NewPaymentMethodRow, status: number) => {
    await insertPaymentMethod(trx, row);
    if (input.is_default === true) await applyIsDefault(trx, ctx, await findRow(trx, row.id), true, rollDown, now());
    return { status, body: present(await findRow(trx, row.id), day) };
  };
  const now = () => deps.clock.now();
  return deps.commands.runAction<PaymentMethodView, SaveCard>(
    ctx.idempotency,
    async (trx) => {
      const owners = await resolveOwners(trx, input.account_id ?? null, input.contact_id ?? null);
      const at = now();
      const id = newId('payment_method', at.getTime());
      const row: NewPaymentMethodRow = { id, ...values, ...owners, created_at: at, updated_at: at };
      const owner = ownerOf(owners);
      const gateway = type === 'card' && owner !== null ? await findDefaultGateway(trx) : undefined;
      if (owner === null || gateway === undefined) return { done: await insert(trx, row, 201) };
      return { continuation: { id, row, owner, gateway, rollDown } };
    },
    async (save, store) => {
      const customer = await ensureCustomer(deps, save.gateway, save.owner);
      const outcome = await sendSetup(deps, save.gateway, { id: save.id, gateway_token: gatewayToken }, customer);
      const verdict = setupVerdict(outcome);
      if (verdict.kind !== 'saved') throw gatewayRefusal(outcome, 'saving the card');
      const saved = { ...save.row, ...verdict.changes, gateway_id: save.gateway.id, gateway_customer: customer };
      return deps.db.transaction().execute(async (trx) => {
        const result = await insert(trx, { ...saved, updated_at: now() }, outcome.kind === 'unknown' ? 202 : 201);
        if (store) await store(trx, result);
        return result;
      });
    },
  );
}

export async function updatePaymentMethod(
  deps: Deps,
  ctx: RequestContext,
  id: string,
  input: UpdatePaymentMethodInput,
) {
  requireChanges(input);
  for (const field of ['gateway_token', 'type'] as const) {
    if (input[field] !== undefined) {
      throw new ValidationError(
        'immutable_field',
        `${field} cannot be changed; create a new payment method instead.`,
        field,
      );
    }
  }
  const details = parseDetails(input);
  const metadataUpdate = input.metadata === undefined ? undefined : parseMetadata(input.metadata, 'metadata', true);
  const settings = await deps.settings.get();
  const day = await today(deps);
  return deps.commands.run<PaymentMethodView>(ctx.idempotency, async (trx) => {
    const pm = await findRow(trx, id);
    const { is_default: isDefault, ...rest } = input;
    if (Object.keys(rest).length > 0) {
      await retryOnRace('payment method', async () => {
        const current = await findRow(trx, id);
        const changes: Record<string, unknown> = { ...details };
        if (metadataUpdate) changes.metadata = JSON.stringify(mergeMetadata(current.metadata, metadataUpdate));
        const merged = {
          ...current,
          ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)),
        };
        checkExpiry(current.type, merged, input);
        const updated = await compareAndSetPaymentMethod(trx, id, current.version, changes, deps.clock.now());
        return updated ? true : undefined;
      });
    }
    if (isDefault !== undefined)
      await applyIsDefault(trx, ctx, pm, isDefault, settings.payment_method_rolldown_enabled, deps.clock.now());
    return { status: 200, body: present(await findRow(trx, id), day) };
  });
}

/**
 * A card whose save is still open (its holder has not authenticated yet, or the gateway's answer was lost) is
 * completed from the gateway first (saved-cards.ts refreshSetup); a gateway that cannot answer leaves it as it is.
 */
export async function getPaymentMethod(deps: Deps, id: string): Promise<PaymentMethodView> {
  const row = await findRow(deps.db, id);
  if (setupAwaiting(row)) {
    try {
      await refreshSetup(deps, id);
    } catch {
      // the read answers with what Settle holds; the next read, charge or webhook completes it
    }
  }
  return present(await findRow(deps.db, id), await today(deps));
}

export interface ListPaymentMethodsQuery {
  account_id?: string;
  contact_id?: string;
  type?: string;
  status?: string;
  limit?: number;
  starting_after?: string;
}

export async function listPaymentMethods(deps: Deps, query: ListPaymentMethodsQuery): Promise<Page<PaymentMethodView>> {
  const limit = parseLimit(query.limit);
  const day = await today(deps);
  const filters: PaymentMethodFilters = {};
  for (const field of ['account_id', 'contact_id', 'type', 'status'] as const) {
    const value = query[field];
    if (value !== undefined) filters[field] = value;
  }
  const after = cursorAfter(query.starting_after, 'payment_method');
  if (after !== undefined) filters.idBefore = after;
  const rows = await listPaymentMethodsPage(deps.db, filters, limit);
  return pageOf(rows, limit, (row) => present(row, day), byId);
}
