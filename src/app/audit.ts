// The audit trail of configuration: every change to settings, gateways and API keys (later users and webhook
// endpoints) writes one audit event (aud_...) in the same database transaction as the change, so a change and
// its record commit or roll back together. An event holds who (`actor`: the API key id, `cli` or `system`), what
// (`action`, `object_type`, `object_id`) and the object's fields before and after, with secrets and key digests
// left out. A change that changes nothing records nothing. Reading the trail needs the admin scope.
import { canonicalJson } from '../domain/canonical-json.js';
import { insertAuditEvent, listAuditEventRows } from '../store/audit-events-repo.js';
import { allGateways } from '../store/gateway-records-repo.js';
import type { AuditEventRow, Db, GatewayRow, Tx } from '../store/schema.js';
import { iso } from './customers.js';
import { newId } from './ids.js';
import { cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';
import { parseInstant } from '../domain/fields.js';

export const AUDIT_ACTIONS = [
  'api_key.created',
  'api_key.revoked',
  'gateway.created',
  'gateway.updated',
  'settings.updated',
  'user.created',
  'user.updated',
  'user.password_reset',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Changes made by the `settle` command line. */
export const CLI_ACTOR = 'cli';
/** Changes Settle makes itself (at start: the default gateway). */
export const SYSTEM_ACTOR = 'system';

export interface AuditEntry {
  actor: string;
  action: AuditAction;
  object_type: string;
  object_id: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export interface AuditEventView {
  id: string;
  object: 'audit_event';
  actor: string;
  action: string;
  object_type: string;
  object_id: string;
  before: unknown;
  after: unknown;
  created_at: string;
}

/**
 * The actor an audit event names, from a request context's actor: the bare key id for an API key
 * ('api_key:key_...' becomes 'key_...'); anything else (cli, system) as it is.
 */
export function auditActor(actor: string): string {
  return actor.startsWith('api_key:') ? actor.slice('api_key:'.length) : actor;
}

/** Field names never stored in an audit event, at any depth: secrets, digests, passwords (not `*_env`, which are names). */
const SECRET_FIELD = /(^|_)(secret|digest|password|password_hash)$/;
/** Names the pattern above would drop that hold no secret: a console user's flag (X3). */
const NOT_SECRET = new Set(['must_change_password']);

/** A copy without secret fields. */
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    if (field === undefined || (SECRET_FIELD.test(key) && !NOT_SECRET.has(key))) continue;
    out[key] = withoutSecrets(field);
  }
  return out;
}

/**
 * Writes one audit event in the caller's transaction, stamped `at` (the deps clock). An update whose before and
 * after are equal (once secrets are removed) records nothing; returns the event's id, or null when nothing was
 * recorded.
 */
export async function recordAuditEvent(trx: Tx, entry: AuditEntry, at: Date): Promise<string | null> {
  const before = entry.before === null ? null : withoutSecrets(entry.before);
  const after = entry.after === null ? null : withoutSecrets(entry.after);
  if (before !== null && after !== null && canonicalJson(before) === canonicalJson(after)) return null;
  const id = newId('audit_event', at.getTime());
  await insertAuditEvent(trx, {
    id,
    actor: entry.actor,
    action: entry.action,
    object_type: entry.object_type,
    object_id: entry.object_id,
    before: before === null ? null : JSON.stringify(before),
    after: after === null ? null : JSON.stringify(after),
    created_at: at,
  });
  return id;
}

// ---- gateways: every record compared before and after a write ----------------------------------------------------

/** What an audit event shows of a gateway: its configuration (env var NAMES only; no version or timestamps). */
export type GatewaySnapshot = Record<string, unknown>;

function gatewaySnapshot(row: GatewayRow): GatewaySnapshot {
  const { version: _version, created_at: _created, updated_at: _updated, ...fields } = row;
  return fields;
}

/**
 * The gateways as they are now (call with the gateways' write lock held, before changing them). There are few
 * gateway records; comparing all of them also catches the default flag cleared on another one.
 */
export async function snapshotGateways(trx: Tx): Promise<Map<string, GatewaySnapshot>> {
  const rows = await allGateways(trx);
  return new Map(rows.map((row) => [row.id, gatewaySnapshot(row)]));
}

/** Records gateway.created / gateway.updated for every gateway that differs from `before` (same transaction, lock still held). */
export async function auditGatewayChanges(
  trx: Tx,
  actor: string,
  before: Map<string, GatewaySnapshot>,
  at: Date,
): Promise<void> {
  const after = await snapshotGateways(trx);
  for (const [id, now] of [...after.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const was = before.get(id) ?? null;
    await recordAuditEvent(
      trx,
      {
        actor,
        action: was === null ? 'gateway.created' : 'gateway.updated',
        object_type: 'gateway',
        object_id: id,
        before: was,
        after: now,
      },
      at,
    );
  }
}

// ---- reading ------------------------------------------------------------------------------------------------------

export interface ListAuditEventsQuery {
  actor?: string;
  action?: string;
  object_type?: string;
  object_id?: string;
  created_after?: string;
  created_before?: string;
  limit?: number;
  starting_after?: string;
}

export function presentAuditEvent(row: AuditEventRow): AuditEventView {
  return {
    id: row.id,
    object: 'audit_event',
    actor: row.actor,
    action: row.action,
    object_type: row.object_type,
    object_id: row.object_id,
    before: row.before ?? null,
    after: row.after ?? null,
    created_at: iso(row.created_at),
  };
}

/** GET /v1/audit-events: newest first, filtered by actor, action, object, creation time. */
export async function listAuditEvents(
  deps: { db: Db | Tx },
  query: ListAuditEventsQuery,
): Promise<Page<AuditEventView>> {
  const limit = parseLimit(query.limit);
  const createdAfter =
    query.created_after === undefined ? undefined : parseInstant(query.created_after, 'created_after');
  const createdBefore =
    query.created_before === undefined ? undefined : parseInstant(query.created_before, 'created_before');
  const after = cursorAfter(query.starting_after, 'audit_event');
  const rows = await listAuditEventRows(deps.db, {
    actor: query.actor,
    action: query.action,
    object_type: query.object_type,
    object_id: query.object_id,
    created_after: createdAfter,
    created_before: createdBefore,
    after,
    limit,
  });
  return pageOf(rows, limit, presentAuditEvent, (row) => row.id);
}
