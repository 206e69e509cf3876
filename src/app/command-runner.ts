// The one command runner: every write runs here, inside one database transaction, with its idempotency record
// (README, "API overview": same key + same request = first response replayed; same key + other request = 409
// idempotency_key_reused; a duplicate while the first still runs = 409 idempotency_key_in_use).
//
// Exactly once: the key is claimed (committed) before the work; the work's transaction first locks the
// key's row and re-reads it, so whichever request gets the lock first does the work and stores its
// response in the same commit, and any other finds it done and replays it. A request that fails (any
// error: the transaction rolled back, so nothing was done) releases its claim, like Stripe, which stores
// no result for a request that failed validation.
//
// It stays in app/ as orchestration: it decides what a record's state means for a request (replay, refuse, take
// over, release) and which errors it answers with; the statements on the records are store/idempotency-repo.ts.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json.js';
import { ConflictError, ValidationError } from '../domain/errors.js';
import { translateDatabaseError } from '../store/constraint-errors.js';
import { hasUnresolvedAttemptForRequest } from '../store/gateway-attempts-repo.js';
import {
  claimIdempotencyRecord,
  deleteIdempotencyRecord,
  deleteRunningRecord,
  findIdempotencyRecord,
  lockIdempotencyRecord,
  markIdempotencyRunning,
  saveIdempotencyResponse,
  storeRunningResponse,
} from '../store/idempotency-repo.js';
import type { Db, Tx } from '../store/schema.js';

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

export type Work<T> = (trx: Tx) => Promise<CommandResult<T>>;

/** Work that is a single atomic statement (or reads plus one) and so needs no database transaction. */
export type SingleStatementWork<T> = (db: Db) => Promise<CommandResult<T>>;

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
  return createHash('sha256')
    .update(`${input.method} ${input.path}\n${canonicalJson(input.body ?? null)}`)
    .digest('hex');
}

/**
 * A constraint violation leaves the runner as the domain error it means, chosen by the constraint's name
 * (store/constraint-errors.ts): an unrelated unique violation is not reported as a duplicate, and a CHECK that
 * guards a request's field is a 400, not a 500.
 */
async function violationsTranslated<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw translateDatabaseError(error);
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

export class CommandRunner {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Like run(), but without an Idempotency-Key the work runs without BEGIN/COMMIT: for work whose only
   * write is one atomic statement, that saves two round trips. With a key it runs inside run()'s
   * transaction as usual.
   */
  async runSingleStatement<T>(
    idempotency: IdempotencyInput | undefined,
    work: SingleStatementWork<T>,
  ): Promise<RunOutcome<T>> {
    if (idempotency) return this.run(idempotency, work);
    return { ...(await violationsTranslated(work(this.#db))), replayed: false };
  }

  async run<T>(idempotency: IdempotencyInput | undefined, work: Work<T>): Promise<RunOutcome<T>> {
    if (!idempotency) {
      const result = await violationsTranslated(this.#db.transaction().execute(work));
      return { ...result, replayed: false };
    }
    validateIdempotencyKey(idempotency.key);
    const hash = requestHash(idempotency);
    const replay = await this.#claim<T>(idempotency, hash);
    if (replay) return replay;

    try {
      return await this.#db.transaction().execute(async (trx) => {
        const row = await lockIdempotencyRecord(trx, idempotency);
        if (row?.state === 'done') {
          if (row.request_hash !== hash) throw reusedError();
          return { status: row.response_status ?? 200, body: row.response_body as T, replayed: true };
        }
        const result = await work(trx);
        await saveKey(trx, idempotency, hash, result);
        return { ...result, replayed: false };
      });
    } catch (error) {
      await this.#release(idempotency, ['in_progress']);
      throw translateDatabaseError(error);
    }
  }

  /**
   * Work in two stages with a gateway call between them (P12): `begin` runs in tx1 under the key's lock and either
   * finishes (its result is stored like run()'s) or hands over a continuation; the key is then left `running`, so a
   * duplicate request is refused as in use while the call is under way. `finish` makes the call and runs tx2, in
   * which it must call `store` (given when the request has a key) with its result so that the response is stored atomically with the outcome. Any
   * error releases the key (nothing was done, or what was done was undone), like a validation error. A process that
   * dies in between leaves the key `running`; recovery stores the response with storeActionResponse().
   */
  async runAction<T, C>(
    idempotency: IdempotencyInput | undefined,
    begin: (trx: Tx, key: ActionKey | undefined) => Promise<Begun<T, C>>,
    finish: (continuation: C, store: StoreResponse<T> | undefined) => Promise<CommandResult<T>>,
  ): Promise<RunOutcome<T>> {
    if (!idempotency) {
      const begun = await violationsTranslated(this.#db.transaction().execute((trx) => begin(trx, undefined)));
      if ('done' in begun) return { ...begun.done, replayed: false };
      return { ...(await violationsTranslated(finish(begun.continuation, undefined))), replayed: false };
    }
    validateIdempotencyKey(idempotency.key);
    const hash = requestHash(idempotency);
    const key: ActionKey = { apiKeyId: idempotency.apiKeyId, key: idempotency.key };
    const replay = await this.#claim<T>(idempotency, hash);
    if (replay) return replay;
    // Only the request that got past the check below owns the key: a duplicate refused as in use must not
    // release the key of the request that is running (it would let a later retry run the action again).
    let owned = false;
    try {
      type Stage = { replay: RunOutcome<T> } | { result: CommandResult<T> } | { continuation: C };
      const begun = await this.#db.transaction().execute(async (trx): Promise<Stage> => {
        const row = await lockIdempotencyRecord(trx, idempotency);
        if (row?.state === 'done') {
          if (row.request_hash !== hash) throw reusedError();
          return { replay: { status: row.response_status ?? 200, body: row.response_body as T, replayed: true } };
        }
        if (row?.state === 'running' && !(await abandoned(trx, idempotency, row.created_at))) throw inUseError();
        owned = true;
        const started = await begin(trx, key);
        if ('done' in started) {
          await saveKey(trx, idempotency, hash, started.done);
          return { result: started.done };
        }
        // An upsert: the claim may have been released meanwhile by a request that failed.
        await markIdempotencyRunning(trx, recordOf(idempotency, hash));
        return { continuation: started.continuation };
      });
      if ('replay' in begun) return begun.replay;
      if ('result' in begun) return { ...begun.result, replayed: false };
      const store: StoreResponse<T> = (trx, result) => storeActionResponse(trx, key, result);
      return { ...(await finish(begun.continuation, store)), replayed: false };
    } catch (error) {
      if (owned) await this.#release(idempotency, ['in_progress', 'running']);
      throw translateDatabaseError(error);
    }
  }

  /** Releases a claim that did nothing (a stored response is never released). */
  async #release(idempotency: IdempotencyInput, states: ('in_progress' | 'running')[]): Promise<void> {
    await deleteIdempotencyRecord(this.#db, idempotency, states);
  }

  /** Claims the key; a replay (or a refusal) when it was claimed before. */
  async #claim<T>(idempotency: IdempotencyInput, hash: string): Promise<RunOutcome<T> | undefined> {
    const claimed = await claimIdempotencyRecord(this.#db, { ...recordOf(idempotency, hash), state: 'in_progress' });
    return claimed ? undefined : this.#inspectExisting<T>(idempotency, hash);
  }

  /** For a key that was already claimed: replay, refuse, or (claim abandoned) let the caller run it. */
  async #inspectExisting<T>(idempotency: IdempotencyInput, hash: string): Promise<RunOutcome<T> | undefined> {
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const row = await lockIdempotencyRecord(trx, idempotency, { noWait: true });
        if (!row) return undefined; // released after a failure: run it afresh
        if (row.request_hash !== hash) throw reusedError();
        if (row.state === 'done') {
          return { status: row.response_status ?? 200, body: row.response_body as T, replayed: true };
        }
        if (row.state === 'running' && !(await abandoned(trx, idempotency, row.created_at))) throw inUseError();
        // in_progress (or running, abandoned) and nobody holds its lock: its request died before finishing (nothing was committed).
        return undefined;
      });
    } catch (error) {
      if (errorCode(error) === LOCK_NOT_AVAILABLE) {
        const row = await findIdempotencyRecord(this.#db, idempotency);
        if (row && row.request_hash !== hash) throw reusedError();
        throw inUseError();
      }
      throw error;
    }
  }
}

/** The record of the request (its state and response are given by the store function that writes it). */
function recordOf(idempotency: IdempotencyInput, hash: string) {
  return {
    apiKeyId: idempotency.apiKeyId,
    key: idempotency.key,
    method: idempotency.method,
    path: idempotency.path,
    hash,
  };
}

/** A `running` key is abandoned when no gateway attempt waits to answer it and it is older than this. */
export const RUNNING_KEY_ABANDONED_MS = 15 * 60 * 1000;

/**
 * A single action's `running` key always has its unresolved gateway attempt (they change in the same commits), and
 * recovery answers it. A key without one belongs to work without attempts of its own (a batch) whose process died:
 * after a while it may run again (its parts are exactly-once by themselves).
 */
async function abandoned(trx: Tx, idempotency: IdempotencyInput, createdAt: Date): Promise<boolean> {
  if (Date.now() - new Date(createdAt).getTime() < RUNNING_KEY_ABANDONED_MS) return false;
  return !(await hasUnresolvedAttemptForRequest(trx, idempotency));
}

function inUseError(): ConflictError {
  return new ConflictError(
    'idempotency_key_in_use',
    'A request with this Idempotency-Key is still being processed; retry after it has finished.',
  );
}

function saveKey(trx: Tx, idempotency: IdempotencyInput, hash: string, result: CommandResult<unknown>): Promise<void> {
  return saveIdempotencyResponse(trx, recordOf(idempotency, hash), result);
}

/** The API request's key, recorded with a gateway attempt so that recovery can answer it. */
export interface ActionKey {
  apiKeyId: string;
  key: string;
}

export type Begun<T, C> = { done: CommandResult<T> } | { continuation: C };
export type StoreResponse<T> = (trx: Tx, result: CommandResult<T>) => Promise<void>;

/** Stores the response of a `running` action's request (tx2, or recovery after a crash). */
export async function storeActionResponse(trx: Tx, key: ActionKey, result: CommandResult<unknown>): Promise<void> {
  await storeRunningResponse(trx, key, result);
}

/** Releases a `running` action's key when recovery proved that nothing happened: a retry may run it afresh. */
export async function releaseActionKey(trx: Tx, key: ActionKey): Promise<void> {
  await deleteRunningRecord(trx, key);
}

function reusedError(): ConflictError {
  return new ConflictError(
    'idempotency_key_reused',
    'This Idempotency-Key was already used with a different request; use a new key for a new request.',
  );
}
