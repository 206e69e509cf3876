// Parents (R1): records a user names (an opportunity, a subscription, ...) that transactions belong to through
// their parent_id, each with its totals (R2, kept by the database: app/totals.ts). Creates take an Idempotency-Key
// like accounts; updates are compare-and-set on `version`, like accounts (app/customers.ts).
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { mergeMetadata, parseMetadata, parseText } from '../domain/fields.js';
import {
  compareAndSetParent,
  findParentRow,
  insertParent,
  listParentRows,
  type ParentChanges,
} from '../store/parents-repo.js';
import type { ParentRow } from '../store/schema.js';
import { createMetadata, iso, optional, requireChanges, retryOnRace } from './customers.js';
import type { Deps, RequestContext } from './deps.js';
import { newId } from './ids.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';
import { noTotalsYet, oneWithTotals, type TotalsEntryView, withTotals } from './totals.js';

/** The rule of the parents_type_check constraint (migration 0020), checked first for a clear 400. */
const TYPE_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
const TEXT_MAX = 200;

export interface ParentFields {
  id: string;
  object: 'parent';
  type: string;
  external_id: string | null;
  name: string | null;
  account_id: string | null;
  contact_id: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export type ParentView = ParentFields & { totals: TotalsEntryView[] };

function presentParent(row: ParentRow): ParentFields {
  const { id, type, external_id, name, account_id, contact_id, metadata } = row;
  return {
    id,
    object: 'parent',
    type,
    external_id,
    name,
    account_id,
    contact_id,
    metadata,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export function parseParentType(value: unknown, field = 'type'): string {
  if (typeof value !== 'string' || !TYPE_PATTERN.test(value)) {
    throw new ValidationError(
      'parameter_invalid_value',
      `${field} must be a lower-case word (letters, digits and underscores, starting with a letter, at most 40), e.g. opportunity or subscription.`,
      field,
    );
  }
  return value;
}

const text = (field: string) => (value: string) => parseText(value, field, TEXT_MAX);

export interface CreateParentInput {
  type: string;
  external_id?: string | null;
  name?: string | null;
  account_id?: string | null;
  contact_id?: string | null;
  metadata?: Record<string, unknown>;
}

export interface UpdateParentInput {
  external_id?: string | null;
  name?: string | null;
  account_id?: string | null;
  contact_id?: string | null;
  metadata?: Record<string, unknown>;
}

/**
 * A new parent. A missing account or contact is the foreign key's 404 (account_id, contact_id); a second parent of
 * the same type with the same external_id, however close together the two requests, is the unique constraint's 409
 * parent_exists (store/constraint-errors.ts).
 */
export async function createParent(deps: Deps, ctx: RequestContext, input: CreateParentInput) {
  const values = {
    type: parseParentType(input.type),
    external_id: optional(input.external_id, text('external_id')) ?? null,
    name: optional(input.name, text('name')) ?? null,
    account_id: input.account_id ?? null,
    contact_id: input.contact_id ?? null,
    metadata: createMetadata(input.metadata),
  };
  return deps.commands.run<ParentView>(ctx.idempotency, async (trx) => {
    const now = deps.clock.now();
    const row = await insertParent(trx, {
      id: newId('parent', now.getTime()),
      ...values,
      created_at: now,
      updated_at: now,
    });
    return { status: 201, body: noTotalsYet(presentParent(row)) };
  });
}

/** PATCH: the given fields (null clears one), metadata merged; compare-and-set on version, re-applied on a race. */
export async function updateParent(deps: Deps, ctx: RequestContext, id: string, input: UpdateParentInput) {
  requireChanges(input);
  const fields: ParentChanges = {
    external_id: optional(input.external_id, text('external_id')),
    name: optional(input.name, text('name')),
    account_id: input.account_id,
    contact_id: input.contact_id,
  };
  const metadataUpdate = input.metadata === undefined ? undefined : parseMetadata(input.metadata, 'metadata', true);
  return deps.commands.run<ParentView>(ctx.idempotency, async (trx) => {
    const after = await retryOnRace('parent', async () => {
      const current = await findParentRow(trx, id);
      if (!current) throw new NotFoundError('parent', id);
      const changes = { ...fields };
      if (metadataUpdate) changes.metadata = JSON.stringify(mergeMetadata(current.metadata, metadataUpdate));
      return compareAndSetParent(trx, current, changes, deps.clock.now());
    });
    return { status: 200, body: await oneWithTotals(trx, presentParent(after)) };
  });
}

export async function getParent(deps: Deps, id: string): Promise<ParentView> {
  const row = await findParentRow(deps.db, id);
  if (!row) throw new NotFoundError('parent', id);
  return oneWithTotals(deps.db, presentParent(row));
}

export interface ListParentsQuery {
  type?: string;
  external_id?: string;
  account_id?: string;
  limit?: number;
  starting_after?: string;
}

/** Newest first, filtered by type, external_id and account_id; the page's totals in one query. */
export async function listParents(deps: Deps, query: ListParentsQuery): Promise<Page<ParentView>> {
  const limit = parseLimit(query.limit);
  const after = cursorAfter(query.starting_after, 'parent');
  const type = query.type === undefined ? undefined : parseParentType(query.type);
  const rows = await listParentRows(deps.db, {
    type,
    external_id: query.external_id,
    account_id: query.account_id,
    after,
    limit,
  });
  const page = pageOf(rows, limit, presentParent, byId);
  return { ...page, data: await withTotals(deps.db, page.data) };
}
