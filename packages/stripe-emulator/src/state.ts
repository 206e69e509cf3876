// The emulator's store: every Stripe object by id (insertion order = creation order, which lists rely on),
// idempotency records, and the clock. With a state file, the whole store is saved as JSON (written to a temp
// file and renamed, so a crash never leaves half a file) shortly after each mutating request, and on close().
// The file holds webhook endpoints' signing secrets: it is written 0600, and a directory made for it 0700.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AnyStripeObject, Internal, StripeEvent } from './types.js';

/** The API request an event comes from (Event.request); id null for what the emulator does by itself. */
export interface RequestContext {
  id: string | null;
  idempotency_key: string | null;
}

export const NO_REQUEST: RequestContext = Object.freeze({ id: null, idempotency_key: null });

export interface IdempotencyRecord {
  key: string;
  method: string;
  path: string;
  fingerprint: string; // canonical JSON of the decoded parameters
  createdMs: number; // emulator clock
  status: number;
  body: string;
  requestId: string;
}

interface Snapshot {
  version: 1;
  clockOffsetMs: number;
  objects: AnyStripeObject[];
  internal: Record<string, Internal>;
  idempotency: IdempotencyRecord[];
  /** Emulator time (ms) up to which clock-driven behaviour has run (timeline.ts); absent in older files. */
  timelineMs?: number;
  /** The account's settlement currency (fx.ts); absent in older files (usd). */
  settlementCurrency?: string;
}

/** Kinds that belong to the platform and are seen whatever the account: connected accounts, webhook endpoints. */
const UNSCOPED_KINDS: ReadonlySet<string> = new Set(['account', 'webhook_endpoint']);

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

export class EmulatorState {
  /** Every object by id; written only by put(), remove() and reset(), which keep the per-kind index in step. */
  readonly #objects = new Map<string, AnyStripeObject>();
  /** The same objects by kind, each in insertion order: all() reads one kind without walking the others. */
  readonly #byKind = new Map<string, Map<string, AnyStripeObject>>();
  readonly internal = new Map<string, Internal>();
  readonly idempotency = new Map<string, IdempotencyRecord>();
  clockOffsetMs = 0;
  /** Set while the timeline runs a due action, so that objects and events carry the action's own time. */
  frozenNowMs: number | null = null;
  /** Emulator time (ms) up to which clock-driven behaviour has run; null until the timeline first runs. */
  timelineMs: number | null = null;
  /** The API request being handled; events record it. Handlers are synchronous, so one at a time. */
  request: RequestContext = NO_REQUEST;
  /**
   * The account a request acts on (Connect, stripe-account.ts): null for the platform (no `Stripe-Account` header),
   * an `acct_` id for a connected account, undefined for the emulator's own work outside any account (controls,
   * webhook delivery, loading). Objects put while an account is set belong to it (Internal.account; the platform's
   * own objects record nothing); find() and all() see only the current account's objects, except accounts and
   * webhook endpoints, which are the platform's and always visible. Undefined sees everything.
   */
  account: string | null | undefined = undefined;
  /** The account's settlement currency: balance transactions convert into it (fx.ts). Kept by reset(). */
  settlementCurrency = 'usd';
  /** Called after each event is recorded (webhook delivery subscribes here). */
  onEvent: ((event: StripeEvent) => void) | null = null;
  private saveTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly baseNow: () => Date,
    private readonly stateFile: string | undefined,
    private readonly saveDelayMs = 25,
  ) {}

  now(): Date {
    if (this.frozenNowMs !== null) return new Date(this.frozenNowMs);
    return new Date(this.baseNow().getTime() + this.clockOffsetMs);
  }

  /** Moves the emulator clock so that now() is `ms` (used by the timeline). */
  setNow(ms: number): void {
    this.clockOffsetMs = ms - this.baseNow().getTime();
  }

  /** Runs `fn` with the request context of an API request (or none), restoring the previous one after. */
  withRequest<T>(request: RequestContext, fn: () => T): T {
    const previous = this.request;
    this.request = request;
    try {
      return fn();
    } finally {
      this.request = previous;
    }
  }

  /** Runs `fn` acting on `account` (null: the platform; undefined: no account, sees all), then restores. */
  asAccount<T>(account: string | null | undefined, fn: () => T): T {
    const previous = this.account;
    this.account = account;
    try {
      return fn();
    } finally {
      this.account = previous;
    }
  }

  /** The connected account owning an object, or null for the platform's. */
  ownerOf(id: string): string | null {
    return this.internal.get(id)?.account ?? null;
  }

  /** Whether the current account may see `obj` (see `account`). */
  visible(obj: AnyStripeObject): boolean {
    if (this.#seesAll() || UNSCOPED_KINDS.has(obj.object)) return true;
    return this.ownerOf(obj.id) === this.account;
  }

  /** No scoping to do: no account set, or the platform while no connected account exists (the common case). */
  #seesAll(): boolean {
    return this.account === undefined || (this.account === null && !this.#byKind.get('account')?.size);
  }

  /** Every account whose objects the timeline runs over: the platform (null), then each connected account. */
  accountScopes(): (string | null)[] {
    return [null, ...(this.#byKind.get('account')?.keys() ?? [])];
  }

  /** Stripe timestamps are Unix seconds. */
  nowSeconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }

  /** Ids look like Stripe's: a prefix and 24 base-62 characters, e.g. pi_3Qx... */
  get objects(): ReadonlyMap<string, AnyStripeObject> {
    return this.#objects;
  }

  newId(prefix: string): string {
    return `${prefix}_${randomToken(24)}`;
  }

  put<T extends AnyStripeObject>(obj: T): T {
    if (typeof this.account === 'string' && !this.#objects.has(obj.id) && !UNSCOPED_KINDS.has(obj.object))
      this.meta(obj.id).account = this.account;
    this.#objects.set(obj.id, obj);
    let ofKind = this.#byKind.get(obj.object);
    if (!ofKind) {
      ofKind = new Map();
      this.#byKind.set(obj.object, ofKind);
    }
    ofKind.set(obj.id, obj);
    return obj;
  }

  find<T extends AnyStripeObject>(id: string, objectName: T['object']): T | undefined {
    const obj = this.objects.get(id);
    return obj && obj.object === objectName && this.visible(obj) ? (obj as T) : undefined;
  }

  /** All objects of one kind, oldest first. */
  all<T extends AnyStripeObject>(objectName: T['object']): T[] {
    const ofKind = this.#byKind.get(objectName);
    if (!ofKind) return [];
    const objs = [...ofKind.values()] as T[];
    return this.#seesAll() || UNSCOPED_KINDS.has(objectName) ? objs : objs.filter((o) => this.visible(o));
  }

  /** Forgets one object (webhook endpoints are deleted; nothing else is). */
  remove(id: string): void {
    const obj = this.objects.get(id);
    if (!obj) return;
    this.#objects.delete(id);
    this.#byKind.get(obj.object)?.delete(id);
  }

  meta(id: string): Internal {
    let m = this.internal.get(id);
    if (!m) {
      m = {};
      this.internal.set(id, m);
    }
    return m;
  }

  reset(): void {
    this.#objects.clear();
    this.#byKind.clear();
    this.internal.clear();
    this.idempotency.clear();
    this.scheduleSave();
  }

  load(): void {
    if (!this.stateFile || !existsSync(this.stateFile)) return;
    const snap = JSON.parse(readFileSync(this.stateFile, 'utf8')) as Snapshot;
    if (snap.version !== 1) throw new Error(`Unsupported emulator state version in ${this.stateFile}`);
    this.clockOffsetMs = snap.clockOffsetMs;
    for (const obj of snap.objects) this.put(obj);
    for (const [id, m] of Object.entries(snap.internal)) this.internal.set(id, m);
    for (const rec of snap.idempotency) this.idempotency.set(rec.key, rec);
    this.timelineMs = snap.timelineMs ?? null;
    if (snap.settlementCurrency !== undefined) this.settlementCurrency = snap.settlementCurrency;
  }

  scheduleSave(): void {
    if (!this.stateFile || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.flush();
    }, this.saveDelayMs);
    this.saveTimer.unref();
  }

  flush(): void {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
    }
    const file = this.stateFile;
    if (!file) return;
    const snap: Snapshot = {
      version: 1,
      clockOffsetMs: this.clockOffsetMs,
      objects: [...this.objects.values()],
      internal: Object.fromEntries(this.internal),
      idempotency: [...this.idempotency.values()],
      ...(this.timelineMs === null ? {} : { timelineMs: this.timelineMs }),
      settlementCurrency: this.settlementCurrency,
    };
    // An existing directory is the operator's (`settle emulator --state`) and keeps its mode; under Settle's data
    // directory the walk of file-modes.ts makes it 0700.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.${randomToken(6)}.tmp`;
    // A new name, so created with this mode (less the umask); chmod makes it exact. The rename keeps it.
    writeFileSync(tmp, JSON.stringify(snap), { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  }
}
