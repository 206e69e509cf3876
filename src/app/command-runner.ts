// The one command runner: every write runs here, inside one database transaction, with its idempotency
// record (api.md: same key + same request = first response replayed; same key + other request = 409
// idempotency_key_reused; a duplicate while the first still runs = 409 idempotency_key_in_use).
//
// Exactly once: the key is claimed (committed) before the work; the work's transaction first locks the
// key's row and re-reads it, so whichever request gets the lock first does the work and stores its
// response in the same commit, and any other finds it done and replays it. A request that fails (any
// error: the transaction rolled back, so nothing was done) releases its claim, like Stripe, which stores
// no result for a request that failed validation.
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { canonicalJson } from '../domain/canonical-json.js';
import { ConflictError, ValidationError } from '../domain/errors.js';
import type { Database } from '../store/schema.js';

export interface CommandResult<T = unknown> {
  status: number;
  body: T;
}

export interface IdempotencyInput {
  apiKeyId: string;
  key: string;
  method: string;
  path: string;
  /** The parsed request body (hashed in canonical form). */
  body: unknown;
}

export type Work<T> = (trx: Transaction<Database>) => Promise<CommandResult<T>>;

/** Work that is a single atomic statement (or reads plus one) and so needs no database transaction. */
export type SingleStatementWork<T> = (db: Kysely<Database>) => Promise<CommandResult<T>>;

export interface RunOutcome<T> extends CommandResult<T> {
  replayed: boolean;
}

const LOCK_NOT_AVAILABLE = '55P03';

export function validateIdempotencyKey(key: string): void {
  if (key.length === 0 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new ValidationError(
      'invalid_idempotency_key',
      'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.',
      'Idempotency-Key',
    );
  }
}

function requestHash(input: IdempotencyInput): string {
  return createHash('sha256').update(`${input.method} ${input.path}\n${canonicalJson(input.body ?? null)}`).digest('hex');
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

export class CommandRunner {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /**
   * Like run(), but without an Idempotency-Key the work runs without BEGIN/COMMIT: for work whose only
   * write is one atomic statement, that saves two round trips. With a key it runs inside run()'s
   * transaction as usual.
   */
  async runSingleStatement<T>(idempotency: IdempotencyInput | undefined, work: SingleStatementWork<T>): Promise<RunOutcome<T>> {
    if (idempotency) return this.run(idempotency, work);
    return { ...(await work(this.#db)), replayed: false };
  }

  async run<T>(idempotency: IdempotencyInput | undefined, work: Work<T>): Promise<RunOutcome<T>> {
    if (!idempotency) {
      const result = await this.#db.transaction().execute(work);
      return { ...result, replayed: false };
    }
    validateIdempotencyKey(idempotency.key);
    const hash = requestHash(idempotency);
    const claimed = await this.#db
      .insertInto('idempotency_keys')
      .values({
        api_key_id: idempotency.apiKeyId,
        key: idempotency.key,
        request_method: idempotency.method,
        request_path: idempotency.path,
        request_hash: hash,
        state: 'in_progress',
        response_status: null,
        response_body: null,
      })
      .onConflict((oc) => oc.columns(['api_key_id', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();

    if (!claimed) {
      const replay = await this.#inspectExisting<T>(idempotency, hash);
      if (replay) return replay;
    }

    try {
      return await this.#db.transaction().execute(async (trx) => {
        const row = await keyRow(trx, idempotency).forUpdate().executeTakeFirst();
        if (row?.state === 'done') {
          if (row.request_hash !== hash) throw reusedError();
          return { status: row.response_status ?? 200, body: row.response_body as T, replayed: true };
        }
        const result = await work(trx);
        await trx
          .insertInto('idempotency_keys')
          .values({
            api_key_id: idempotency.apiKeyId,
            key: idempotency.key,
            request_method: idempotency.method,
            request_path: idempotency.path,
            request_hash: hash,
            state: 'done',
            response_status: result.status,
            response_body: JSON.stringify(result.body),
          })
          .onConflict((oc) =>
            oc.columns(['api_key_id', 'key']).doUpdateSet({
              state: 'done',
              response_status: result.status,
              response_body: JSON.stringify(result.body),
            }),
          )
          .execute();
        return { ...result, replayed: false };
      });
    } catch (error) {
      await this.#db
        .deleteFrom('idempotency_keys')
        .where('api_key_id', '=', idempotency.apiKeyId)
        .where('key', '=', idempotency.key)
        .where('state', '=', 'in_progress')
        .execute();
      throw error;
    }
  }

  /** For a key that was already claimed: replay, refuse, or (claim abandoned) let the caller run it. */
  async #inspectExisting<T>(idempotency: IdempotencyInput, hash: string): Promise<RunOutcome<T> | undefined> {
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const row = await keyRow(trx, idempotency).forUpdate().noWait().executeTakeFirst();
        if (!row) return undefined; // released after a failure: run it afresh
        if (row.request_hash !== hash) throw reusedError();
        if (row.state === 'done') {
          return { status: row.response_status ?? 200, body: row.response_body as T, replayed: true };
        }
        // in_progress and nobody holds its lock: its request died before finishing (nothing was committed).
        return undefined;
      });
    } catch (error) {
      if (errorCode(error) === LOCK_NOT_AVAILABLE) {
        const row = await keyRow(this.#db, idempotency).executeTakeFirst();
        if (row && row.request_hash !== hash) throw reusedError();
        throw new ConflictError(
          'idempotency_key_in_use',
          'A request with this Idempotency-Key is still being processed; retry after it has finished.',
        );
      }
      throw error;
    }
  }
}

function keyRow(db: Kysely<Database>, idempotency: IdempotencyInput) {
  return db
    .selectFrom('idempotency_keys')
    .select(['state', 'request_hash', 'response_status', 'response_body'])
    .where('api_key_id', '=', idempotency.apiKeyId)
    .where('key', '=', idempotency.key);
}

function reusedError(): ConflictError {
  return new ConflictError(
    'idempotency_key_reused',
    'This Idempotency-Key was already used with a different request; use a new key for a new request.',
  );
}
