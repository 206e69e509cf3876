// API keys (X3): long random secrets, stored as SHA-256 digests (they are not passwords, and the check
// must stay cheap on every request). The bootstrap admin key comes from SETTLE_API_KEY or is generated
// once into the data directory, readable only by its owner.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import type { Database } from '../store/schema.js';
import { newId } from './ids.js';

export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  keyId: string;
  scopes: readonly Scope[];
}

export const BOOTSTRAP_KEY_ID = 'key_bootstrap';

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

export function parseScopes(input: string): Scope[] {
  const scopes = input
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (scopes.length === 0) throw new ValidationError('invalid_scopes', `Give at least one scope: ${SCOPES.join(', ')}.`, 'scopes');
  for (const scope of scopes) {
    if (!(SCOPES as readonly string[]).includes(scope)) {
      throw new ValidationError('invalid_scopes', `Unknown scope '${scope}'; scopes are ${SCOPES.join(', ')}.`, 'scopes');
    }
  }
  return [...new Set(scopes)] as Scope[];
}

export async function createApiKey(
  db: Kysely<Database>,
  input: { name: string; scopes: Scope[] },
): Promise<{ id: string; secret: string; name: string; scopes: Scope[] }> {
  const name = input.name.trim();
  if (name === '' || name.length > 200) {
    throw new ValidationError('invalid_name', 'A key name of 1 to 200 characters is required.', 'name');
  }
  const secret = generateApiKeySecret();
  const id = newId('api_key');
  await db
    .insertInto('api_keys')
    .values({ id, name, digest: digestApiKey(secret), scopes: JSON.stringify(input.scopes) })
    .execute();
  return { id, secret, name, scopes: input.scopes };
}

export interface ApiKeySummary {
  id: string;
  name: string;
  scopes: Scope[];
  created_at: Date;
  revoked_at: Date | null;
}

/** Every stored key (never a secret: only digests are stored). */
export async function listApiKeys(db: Kysely<Database>): Promise<ApiKeySummary[]> {
  const rows = await db.selectFrom('api_keys').select(['id', 'name', 'scopes', 'created_at', 'revoked_at']).orderBy('created_at').execute();
  return rows.map((row) => ({ ...row, scopes: row.scopes as Scope[] }));
}

/**
 * Revokes a key. Processes that verified it in the last few seconds may still accept it until their cache
 * entry expires (ApiKeyVerifier's cacheMs, 5 seconds).
 */
export async function revokeApiKey(db: Kysely<Database>, id: string, now: Date): Promise<ApiKeySummary> {
  const row = await db.selectFrom('api_keys').select(['id', 'revoked_at']).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('API key', id, 'id');
  if (row.revoked_at === null) {
    await db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }
  const keys = await listApiKeys(db);
  const revoked = keys.find((key) => key.id === id);
  if (!revoked) throw new NotFoundError('API key', id, 'id');
  return revoked;
}

/** Reads SETTLE_API_KEY's value, or the generated key file, creating it (mode 0600) on first start. */
export function ensureBootstrapKey(dataDir: string, fromEnv: string | undefined): { secret: string; generated: boolean } {
  if (fromEnv) return { secret: fromEnv, generated: false };
  const file = path.join(dataDir, 'admin-api-key');
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length >= 24) return { secret, generated: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = generateApiKeySecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { secret, generated: true };
}

/**
 * Checks bearer secrets. Database keys that verified are remembered for `cacheMs` so that a request does
 * not pay a query for its key; a revoked key therefore stops working within that time.
 */
export class ApiKeyVerifier {
  #db: Kysely<Database>;
  #bootstrapDigest: Buffer | undefined;
  #cache = new Map<string, { principal: Principal; at: number }>();
  #cacheMs: number;

  constructor(db: Kysely<Database>, bootstrapSecret: string | undefined, cacheMs = 5000) {
    this.#db = db;
    this.#bootstrapDigest = bootstrapSecret ? Buffer.from(digestApiKey(bootstrapSecret), 'hex') : undefined;
    this.#cacheMs = cacheMs;
  }

  async verify(secret: string): Promise<Principal | null> {
    const digest = digestApiKey(secret);
    if (this.#bootstrapDigest && timingSafeEqual(Buffer.from(digest, 'hex'), this.#bootstrapDigest)) {
      return { keyId: BOOTSTRAP_KEY_ID, scopes: ['admin'] };
    }
    const cached = this.#cache.get(digest);
    const now = Date.now();
    if (cached && now - cached.at < this.#cacheMs) return cached.principal;
    // The digest is the lookup key: comparing it in SQL leaks nothing useful about the secret.
    const row = await this.#db
      .selectFrom('api_keys')
      .select(['id', 'scopes', 'revoked_at'])
      .where('digest', '=', digest)
      .executeTakeFirst();
    if (!row || row.revoked_at !== null) {
      this.#cache.delete(digest);
      return null;
    }
    const principal: Principal = { keyId: row.id, scopes: row.scopes as Scope[] };
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(digest, { principal, at: now });
    return principal;
  }
}
