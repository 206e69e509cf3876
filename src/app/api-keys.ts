// API keys (X3): long random secrets, stored as SHA-256 digests (they are not passwords, and the check
// must stay cheap on every request). The bootstrap admin key comes from SETTLE_API_KEY or is generated
// once into the data directory, readable only by its owner; it is not stored in the database and is listed
// as key_bootstrap.
//
// Keys are managed while Settle runs (POST/GET /v1/api-keys, POST /v1/api-keys/{id}/revoke, admin scope) or by
// `settle keys` (PostgreSQL, or PGlite while no server holds it). A new key's secret is shown once: the
// idempotency store keeps the response with `secret: null` (secret-once.ts). Creating and revoking a key each
// record an audit event in the same transaction. Revoking is idempotent (a second revoke answers the key as it
// is, revoked, and records nothing); revocation reaches every process within its verifier's cache lifetime
// (SETTLE_KEY_CACHE_SECONDS), and the process that revoked it at once.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import {
  allApiKeys,
  type ApiKeyRecord,
  findApiKey,
  findKeyByDigest,
  insertApiKey,
  listApiKeyRows,
  loadApiKey,
  lockApiKey,
  markRevoked,
  touchLastUsed,
} from '../store/api-keys-repo.js';
import type { Db, Tx } from '../store/schema.js';
import { auditActor, recordAuditEvent } from './audit.js';
import { type Clock, systemClock } from './clock.js';
import type { RunOutcome } from './command-runner.js';
import type { Deps, RequestContext } from './deps.js';
import { newId } from './ids.js';
import { cursorAfter, type Page, parseLimit } from './pagination.js';
import { runWithSecretOnce } from './secret-once.js';

export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  /** The API key's id; for a console session, the user's id (usr_...): the actor, idempotency and rate-limit owner. */
  keyId: string;
  scopes: readonly Scope[];
  /** How the caller signed in: an API key, or a console session (app/sessions.ts). */
  via: 'key' | 'session';
  /** A console session's user (usr_...) and session (ses_...). */
  userId?: string;
  sessionId?: string;
}

export const BOOTSTRAP_KEY_ID = 'key_bootstrap';

/** last_used_at is written at most this often per key (by each process; the UPDATE itself also checks it). */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** admin includes write, write includes read. */
export function hasScope(granted: readonly Scope[], needed: Scope): boolean {
  const rank: Record<Scope, number> = { read: 1, write: 2, admin: 3 };
  return granted.some((scope) => rank[scope] >= rank[needed]);
}

export function generateApiKeySecret(): string {
  return `settle_${randomBytes(32).toString('base64url')}`;
}

export function digestApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A list of scopes (each read, write or admin; duplicates dropped); at least one. */
export function parseScopeList(input: readonly unknown[]): Scope[] {
  if (input.length === 0)
    throw new ValidationError('invalid_scopes', `Give at least one scope: ${SCOPES.join(', ')}.`, 'scopes');
  for (const scope of input) {
    if (typeof scope !== 'string' || !(SCOPES as readonly string[]).includes(scope)) {
      throw new ValidationError('invalid_scopes', `Unknown scope; scopes are ${SCOPES.join(', ')}.`, 'scopes');
    }
  }
  return [...new Set(input as Scope[])];
}

/** Scopes written as a comma list (the CLI's --scopes). */
export function parseScopes(input: string): Scope[] {
  return parseScopeList(
    input
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
}

function parseKeyName(input: unknown): string {
  const name = typeof input === 'string' ? input.trim() : '';
  if (name === '' || name.length > 200) {
    throw new ValidationError('invalid_name', 'A key name of 1 to 200 characters is required.', 'name');
  }
  return name;
}

// ---- what is shown of a key ---------------------------------------------------------------------------------------

/** A key as the API shows it: never its secret nor its digest. */
export interface ApiKeyView {
  id: string;
  object: 'api_key';
  name: string;
  scopes: Scope[];
  /** null for the bootstrap key (it is not stored). */
  created_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  /** The bootstrap admin key (SETTLE_API_KEY or the generated data/admin-api-key): listed, never revocable here. */
  bootstrap: boolean;
}

/** The answer to a create: the secret once; null in a replay (and in the stored response). */
export interface ApiKeyCreated extends ApiKeyView {
  secret: string | null;
}

/** Where the bootstrap key comes from (for its listing and the message refusing to revoke it). */
export type BootstrapKeySource = { kind: 'env' } | { kind: 'file'; file: string };

export function bootstrapKeyName(source: BootstrapKeySource | undefined): string {
  if (!source) return 'bootstrap';
  return source.kind === 'env' ? 'bootstrap (SETTLE_API_KEY)' : `bootstrap (${source.file})`;
}

function bootstrapView(source: BootstrapKeySource | undefined): ApiKeyView {
  return {
    id: BOOTSTRAP_KEY_ID,
    object: 'api_key',
    name: bootstrapKeyName(source),
    scopes: ['admin'],
    created_at: null,
    last_used_at: null,
    revoked_at: null,
    bootstrap: true,
  };
}

function howToRotate(source: BootstrapKeySource | undefined): string {
  if (source?.kind === 'env') return 'To rotate it, set SETTLE_API_KEY to a new value and restart Settle.';
  const file = source?.kind === 'file' ? source.file : 'data/admin-api-key';
  return `To rotate it, set SETTLE_API_KEY to a new value and restart Settle, or (without SETTLE_API_KEY) delete ${file} and restart: a new key is generated and printed once.`;
}

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

function presentKey(row: ApiKeyRecord): ApiKeyView {
  return {
    id: row.id,
    object: 'api_key',
    name: row.name,
    scopes: row.scopes as Scope[],
    created_at: iso(row.created_at),
    last_used_at: iso(row.last_used_at),
    revoked_at: iso(row.revoked_at),
    bootstrap: false,
  };
}

/** What an audit event records of a key (no last_used_at: using a key is not a change of configuration). */
function auditView(view: ApiKeyView): Record<string, unknown> {
  const { last_used_at: _used, object: _object, bootstrap: _bootstrap, ...fields } = view;
  return fields;
}

// ---- use cases ------------------------------------------------------------------------------------------------------

export interface CreateApiKeyInput {
  name: string;
  scopes: readonly unknown[];
}

/**
 * POST /v1/api-keys (admin) and `settle keys create`: a new key. The fresh answer carries the secret, once; the
 * stored response (replayed for the same Idempotency-Key) has `secret: null`. Records api_key.created.
 */
export async function createApiKey(
  deps: Pick<Deps, 'commands' | 'clock'>,
  ctx: RequestContext,
  input: CreateApiKeyInput,
): Promise<RunOutcome<ApiKeyCreated>> {
  const name = parseKeyName(input.name);
  const scopes = parseScopeList(input.scopes);
  return runWithSecretOnce<ApiKeyCreated>(deps.commands, ctx.idempotency, async (trx, reveal) => {
    const now = deps.clock.now();
    const secret = generateApiKeySecret();
    const id = newId('api_key', now.getTime());
    const row = await insertApiKey(trx, {
      id,
      name,
      digest: digestApiKey(secret),
      scopes: JSON.stringify(scopes),
      created_at: now,
    });
    const view = presentKey(row);
    await recordAuditEvent(
      trx,
      {
        actor: auditActor(ctx.actor),
        action: 'api_key.created',
        object_type: 'api_key',
        object_id: id,
        before: null,
        after: auditView(view),
      },
      now,
    );
    reveal(secret);
    return { status: 201, body: { ...view, secret: null } };
  });
}

async function revokeInTransaction(
  trx: Tx,
  id: string,
  now: Date,
  actor: string,
  bootstrap: BootstrapKeySource | undefined,
): Promise<ApiKeyView> {
  if (id === BOOTSTRAP_KEY_ID) {
    const where =
      bootstrap === undefined
        ? ''
        : bootstrap.kind === 'env'
          ? ' (from SETTLE_API_KEY)'
          : ` (kept in ${bootstrap.file})`;
    throw new ConflictError(
      'bootstrap_key_not_revocable',
      `key_bootstrap is the bootstrap admin key${where}: it is not stored in the database and cannot be revoked. ${howToRotate(bootstrap)}`,
    );
  }
  const row = await lockApiKey(trx, id);
  if (!row) throw new NotFoundError('API key', id, 'id');
  if (row.revoked_at !== null) return presentKey(row); // already revoked: the same answer, nothing recorded
  const revoked = await markRevoked(trx, id, now);
  const before = presentKey(row);
  const after = presentKey(revoked);
  await recordAuditEvent(
    trx,
    {
      actor,
      action: 'api_key.revoked',
      object_type: 'api_key',
      object_id: id,
      before: auditView(before),
      after: auditView(after),
    },
    now,
  );
  return after;
}

/**
 * POST /v1/api-keys/{id}/revoke (admin). Idempotent: revoking a revoked key answers it as it is (200) and records
 * nothing. Unknown key 404; the bootstrap key 409 bootstrap_key_not_revocable (how to rotate it is in the message).
 */
export async function revokeApiKeyCommand(
  deps: Pick<Deps, 'commands' | 'clock'>,
  ctx: RequestContext,
  id: string,
  bootstrap?: BootstrapKeySource,
): Promise<RunOutcome<ApiKeyView>> {
  return deps.commands.run<ApiKeyView>(ctx.idempotency, async (trx) => ({
    status: 200,
    body: await revokeInTransaction(trx, id, deps.clock.now(), auditActor(ctx.actor), bootstrap),
  }));
}

export interface ApiKeySummary {
  id: string;
  name: string;
  scopes: Scope[];
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** Every key stored in the database, oldest first (the CLI's list; the bootstrap key is not stored there). */
export async function listApiKeys(db: Db | Tx): Promise<ApiKeySummary[]> {
  const rows = await allApiKeys(db);
  return rows.map((row) => ({ ...row, scopes: row.scopes as Scope[] }));
}

/**
 * Revokes a key outside the API (`settle keys revoke`; actor `cli` unless given), with its audit event. Processes
 * that verified it in the last few seconds may still accept it until their cache entry expires.
 */
export async function revokeApiKey(
  db: Db,
  id: string,
  now: Date,
  actor = 'cli',
  bootstrap?: BootstrapKeySource,
): Promise<ApiKeySummary> {
  const view = await db.transaction().execute((trx) => revokeInTransaction(trx, id, now, actor, bootstrap));
  const stored = await loadApiKey(db, view.id);
  return { ...stored, scopes: stored.scopes as Scope[] };
}

export interface ListApiKeysQuery {
  limit?: number;
  starting_after?: string;
}

/**
 * GET /v1/api-keys (admin): newest first by id, the bootstrap key first of all (key_bootstrap sorts after every
 * generated id), paginated like every list.
 */
export async function listApiKeysPage(
  deps: Pick<Deps, 'db'>,
  query: ListApiKeysQuery,
  bootstrap?: BootstrapKeySource,
): Promise<Page<ApiKeyView>> {
  const limit = parseLimit(query.limit);
  const after = query.starting_after;
  // key_bootstrap is a cursor too (the last of a page of one).
  if (after !== undefined && after !== BOOTSTRAP_KEY_ID) cursorAfter(after, 'api_key');
  const rows = (await listApiKeyRows(deps.db, { after, limit })).map(presentKey);
  const all = after === undefined || BOOTSTRAP_KEY_ID < after ? [bootstrapView(bootstrap), ...rows] : rows;
  const data = all.slice(0, limit);
  const last = data[data.length - 1];
  const hasMore = all.length > limit && last !== undefined;
  return { object: 'list', data, has_more: hasMore, next_cursor: hasMore ? last.id : null };
}

/** GET /v1/api-keys/{id} (admin): never the secret nor the digest. */
export async function getApiKey(
  deps: Pick<Deps, 'db'>,
  id: string,
  bootstrap?: BootstrapKeySource,
): Promise<ApiKeyView> {
  if (id === BOOTSTRAP_KEY_ID) return bootstrapView(bootstrap);
  const row = await findApiKey(deps.db, id);
  if (!row) throw new NotFoundError('API key', id, 'id');
  return presentKey(row);
}

// ---- the bootstrap key ----------------------------------------------------------------------------------------------

/** The generated bootstrap key's file in a data directory. */
export const bootstrapKeyFile = (dataDir: string): string => path.join(dataDir, 'admin-api-key');

/** Reads SETTLE_API_KEY's value, or the generated key file, creating it (mode 0600) on first start. */
export function ensureBootstrapKey(
  dataDir: string,
  fromEnv: string | undefined,
): { secret: string; generated: boolean; source: BootstrapKeySource } {
  if (fromEnv) return { secret: fromEnv, generated: false, source: { kind: 'env' } };
  const file = bootstrapKeyFile(dataDir);
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length >= 24) return { secret, generated: false, source: { kind: 'file', file } };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = generateApiKeySecret();
  // Written to a new file (created exclusively, owner-only) and renamed over the old one, so the secret is never
  // written into a file that another user could already read.
  const temporary = `${file}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
  return { secret, generated: true, source: { kind: 'file', file } };
}

// ---- checking a key on each request ---------------------------------------------------------------------------------

/**
 * Checks bearer secrets. Database keys that verified are remembered for `cacheMs` so that a request does
 * not pay a query for its key; a revoked key therefore stops working within that time (at once in the process
 * that revoked it: forget()). Times come from `clock` (the deps clock).
 *
 * Each use of a database key may record last_used_at, at most once a minute per key: only when this process's
 * memory says a minute has passed, by a conditional UPDATE (which also keeps other processes from moving it within
 * the minute), fired without the request waiting for it; a failure is ignored (the next minute tries again).
 */
export class ApiKeyVerifier {
  #db: Db;
  #bootstrapDigest: Buffer | undefined;
  #cache = new Map<string, { principal: Principal; at: number }>();
  #cacheMs: number;
  #clock: Clock;
  /** Per key id: when this process last wrote (or saw) its last_used_at. */
  #lastUse = new Map<string, number>();
  #pending = new Set<Promise<void>>();

  constructor(db: Db, bootstrapSecret: string | undefined, cacheMs = 5000, clock: Clock = systemClock) {
    this.#db = db;
    this.#bootstrapDigest = bootstrapSecret ? Buffer.from(digestApiKey(bootstrapSecret), 'hex') : undefined;
    this.#cacheMs = cacheMs;
    this.#clock = clock;
  }

  async verify(secret: string): Promise<Principal | null> {
    const digest = digestApiKey(secret);
    if (this.#bootstrapDigest && timingSafeEqual(Buffer.from(digest, 'hex'), this.#bootstrapDigest)) {
      return { keyId: BOOTSTRAP_KEY_ID, scopes: ['admin'], via: 'key' };
    }
    const now = this.#clock.now().getTime();
    const cached = this.#cache.get(digest);
    if (cached && now - cached.at >= 0 && now - cached.at < this.#cacheMs) {
      this.#noteUse(cached.principal.keyId, now);
      return cached.principal;
    }
    // The digest is the lookup key: comparing it in SQL leaks nothing useful about the secret.
    const row = await findKeyByDigest(this.#db, digest);
    if (!row || row.revoked_at !== null) {
      this.#cache.delete(digest);
      return null;
    }
    const principal: Principal = { keyId: row.id, scopes: row.scopes as Scope[], via: 'key' };
    if (this.#cacheMs > 0) {
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(digest, { principal, at: now });
    }
    if (row.last_used_at !== null) this.#remember(row.id, new Date(row.last_used_at).getTime());
    this.#noteUse(row.id, now);
    return principal;
  }

  /** Drops a key from the cache (it was revoked through this process). */
  forget(keyId: string): void {
    for (const [digest, entry] of this.#cache) {
      if (entry.principal.keyId === keyId) this.#cache.delete(digest);
    }
  }

  /** Resolves once every last_used_at write started so far has finished (tests; closing the app). */
  async whenIdle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #remember(keyId: string, at: number): void {
    const known = this.#lastUse.get(keyId);
    if (known === undefined || at > known) {
      if (this.#lastUse.size > 10_000) this.#lastUse.clear();
      this.#lastUse.set(keyId, at);
    }
  }

  #noteUse(keyId: string, now: number): void {
    const last = this.#lastUse.get(keyId);
    if (last !== undefined && now - last < LAST_USED_RESOLUTION_MS) return;
    this.#remember(keyId, now);
    const at = new Date(now);
    const write = touchLastUsed(this.#db, keyId, at, new Date(now - LAST_USED_RESOLUTION_MS)).then(
      () => undefined,
      () => undefined, // not the request's business: the next minute tries again
    );
    this.#pending.add(write);
    void write.finally(() => this.#pending.delete(write));
  }
}
