// Webhook intake (W1): verify, store once, acknowledge. Processing happens later (processor.ts), never here.
//
// A notification is checked in this order, and nothing is stored unless every check passes: the gateway exists
// (404), it has a signing secret (503 naming what to set), its provider's verifier accepts the signature over
// the raw bytes within the time tolerance and the body is an event (400 with a code per failure). Then the event
// is stored once per (gateway, event id): a first delivery inserts a `pending` row due after
// `webhook_delay_seconds`; a duplicate only counts a delivery (`deliveries`, `last_received_at`), its payload left
// as first stored. The answer comes after the commit, so a 200 means "on disk".
//
// Group commit, as store/transaction-inserter.ts does for transactions: events arriving together share one
// INSERT ... ON CONFLICT statement (all rows in one JSON parameter, so the statement text never changes and runs
// prepared on PostgreSQL) and its commit. A batch is whatever queued while earlier statements ran (no timer).
// Deliveries of one event within a batch are merged into one row first (a statement may not update a row twice),
// and rows go in (gateway, event id) order so that concurrent batches lock in the same order. A failed batch is
// retried event by event, so a bad row fails only its own request.
import { performance } from 'node:perf_hooks';
import { NotFoundError, SettleError, ValidationError } from '../../domain/errors.js';
import { GroupCommit } from '../../store/group-commit.js';
import { findGateway } from '../../store/gateway-records-repo.js';
import type { Db, GatewayRow } from '../../store/schema.js';
import { type IntakeEventRow, insertWebhookEvents } from '../../store/webhook-events-repo.js';
import type { Deps } from '../deps.js';
import type { GatewayHostRules } from '../../domain/host-policy.js';
import { credentialOwner, secretFromEnv } from '../gateway-records.js';
import { newId } from '../ids.js';
import type { WebhookSecrets } from './secrets.js';

/** What the intake stores of an event besides its payload. */
export interface ParsedEvent {
  event_id: string;
  type: string;
  object_type: string | null;
  object_id: string | null;
  api_version: string | null;
  livemode: boolean;
  created: Date;
  /** Connect (M6): the connected account (acct_...) the event is about; null or absent for the platform's own. */
  account?: string | null;
  /** The body as received, as UTF-8 text (valid JSON: the verifier parsed it). */
  text: string;
}

export type WebhookHeaders = Record<string, string | string[] | undefined>;

/** A provider's check of a notification (gateway-adapters/stripe/webhook-signature.ts); throws a SettleError (400). */
export interface WebhookVerifier {
  verify(rawBody: Buffer, headers: WebhookHeaders, secret: string, nowMs: number): ParsedEvent;
}

export interface IntakeAnswer {
  received: true;
  id: string;
  duplicate: boolean;
}

export interface IntakeOptions {
  secrets: WebhookSecrets;
  /** One verifier per provider that sends webhooks. */
  verifiers: Readonly<Record<string, WebhookVerifier>>;
  /** How long a gateway record is reused between lookups (default 1000 ms; a changed record is seen after that). */
  gatewayCacheMs?: number;
  maxBatch?: number;
  maxInFlight?: number;
  /** Called after an event was stored for the first time (the processor is kicked to apply it). */
  onStored?: () => void;
}

export class WebhookIntake {
  readonly #deps: Pick<Deps, 'db' | 'clock' | 'settings'> & Partial<Pick<Deps, 'gatewayHosts'>>;
  readonly #options: IntakeOptions;
  readonly #gateways = new Map<string, { row: GatewayRow; at: number }>();
  readonly #cacheMs: number;
  readonly #writer: WebhookEventWriter;

  constructor(
    deps: Pick<Deps, 'db' | 'clock' | 'settings'> & Partial<Pick<Deps, 'gatewayHosts'>>,
    options: IntakeOptions,
  ) {
    this.#deps = deps;
    this.#options = options;
    this.#cacheMs = options.gatewayCacheMs ?? 1000;
    this.#writer = new WebhookEventWriter(deps, options);
  }

  async receive(gatewayId: string, rawBody: Buffer, headers: WebhookHeaders): Promise<IntakeAnswer> {
    const gateway = await this.#gateway(gatewayId);
    const verifier = this.#options.verifiers[gateway.provider];
    if (!verifier) {
      throw new ValidationError(
        'gateway_not_supported',
        `Gateway ${gateway.id} uses provider '${gateway.provider}', whose webhooks this version of Settle cannot verify.`,
        'gateway_id',
      );
    }
    const now = this.#deps.clock.now();
    const event = this.#verify(gateway, verifier, rawBody, headers, now.getTime());
    const answer = await this.#writer.write(gateway.id, event, now);
    if (!answer.duplicate) this.#options.onStored?.();
    return answer;
  }

  /**
   * Connect (M6): a gateway has up to two signing secrets, its platform endpoint's and its Connect endpoint's
   * (`connect_webhook_secret_env`). Stripe delivers a connected account's events, which carry `account`, only to a
   * Connect endpoint, signed with that endpoint's secret (docs.stripe.com/connect/webhooks). The body is checked
   * against each configured secret in turn (the platform's first); the secret that verifies it must be the one for
   * its kind: a Connect event signed with the platform secret, or a platform event with the Connect secret, is
   * refused (400 webhook_secret_mismatch) and nothing is stored. Without either secret: 503 as before.
   */
  #verify(
    gateway: GatewayRow,
    verifier: WebhookVerifier,
    rawBody: Buffer,
    headers: WebhookHeaders,
    nowMs: number,
  ): ParsedEvent {
    const platform = this.#options.secrets.resolve(gateway, this.#deps.gatewayHosts);
    const connect = connectSecret(gateway, this.#deps.gatewayHosts);
    if ('missing' in platform && connect === undefined)
      throw new SettleError('unavailable', 'webhook_secret_not_configured', platform.missing);
    const candidates: { secret: string; connect: boolean }[] = [];
    if ('secret' in platform) candidates.push({ secret: platform.secret, connect: false });
    if (connect !== undefined) candidates.push({ secret: connect, connect: true });
    let failure: unknown;
    for (const candidate of candidates) {
      let event: ParsedEvent;
      try {
        event = verifier.verify(rawBody, headers, candidate.secret, nowMs);
      } catch (error) {
        // Only a signature that matches nothing is worth another secret; a stale timestamp or a bad body is final.
        if (!(error instanceof SettleError) || error.code !== 'signature_mismatch') throw error;
        failure ??= error;
        continue;
      }
      const isConnectEvent = typeof event.account === 'string';
      if (isConnectEvent !== candidate.connect) {
        throw new ValidationError(
          'webhook_secret_mismatch',
          isConnectEvent
            ? `The event is about connected account ${event.account ?? ''} but is signed with the platform endpoint's secret; connected accounts' events are accepted only from the Connect endpoint, signed with the secret named by connect_webhook_secret_env.`
            : "The event is the platform's own (no account) but is signed with the Connect endpoint's secret; it is accepted only signed with the platform endpoint's secret (webhook_secret_env).",
          'Stripe-Signature',
        );
      }
      return event;
    }
    throw failure;
  }

  async #gateway(id: string): Promise<GatewayRow> {
    const cached = this.#gateways.get(id);
    if (cached && performance.now() - cached.at < this.#cacheMs) return cached.row;
    const row = id.length > 64 ? undefined : await findGateway(this.#deps.db, id);
    if (!row) throw new NotFoundError('gateway', id, 'gateway_id');
    if (this.#gateways.size > 1000) this.#gateways.clear();
    this.#gateways.set(id, { row, at: performance.now() });
    return row;
  }
}

/** The Connect endpoint's secret of `gateway` (connect_webhook_secret_env), under the same naming rules. */
function connectSecret(gateway: GatewayRow, hosts: GatewayHostRules | undefined): string | undefined {
  return secretFromEnv(gateway.connect_webhook_secret_env, credentialOwner(gateway, hosts));
}

// ---- the group-committed writer ----------------------------------------------------------------------------

interface Pending {
  gatewayId: string;
  event: ParsedEvent;
  receivedAt: Date;
  id: string;
  resolve: (answer: IntakeAnswer) => void;
  reject: (error: unknown) => void;
}

/** The deliveries of one event within a batch: one row. */
type Group = Pending[];

const keyOf = (p: Pending): string => `${p.gatewayId}\u0000${p.event.event_id}`;

/** A PostgreSQL data exception (class 22), e.g. a \u0000 escape that jsonb cannot hold: the event's own fault. */
const isDataError = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as { code?: unknown }).code === 'string' &&
  (error as { code: string }).code.startsWith('22');

class WebhookEventWriter {
  readonly #db: Db;
  readonly #settings: Pick<Deps, 'settings'>['settings'];
  readonly #batches: GroupCommit<Pending>;

  constructor(deps: Pick<Deps, 'db' | 'settings'>, options: Pick<IntakeOptions, 'maxBatch' | 'maxInFlight'>) {
    this.#db = deps.db;
    this.#settings = deps.settings;
    this.#batches = new GroupCommit((batch) => this.#write(groupByEvent(batch)), options);
  }

  write(gatewayId: string, event: ParsedEvent, receivedAt: Date): Promise<IntakeAnswer> {
    return new Promise<IntakeAnswer>((resolve, reject) => {
      const id = newId('webhook_event', receivedAt.getTime());
      this.#batches.push({ gatewayId, event, receivedAt, id, resolve, reject });
    });
  }

  async #write(groups: Group[]): Promise<void> {
    try {
      const ids = await this.#statement(groups);
      for (const group of groups) {
        const storedId = ids.get(keyOf(group[0] as Pending));
        if (storedId === undefined) throw new Error('the webhook event insert returned no row for an event');
        const inserted = storedId === group[0]?.id;
        group.forEach((pending, i) => pending.resolve({ received: true, id: storedId, duplicate: !inserted || i > 0 }));
      }
    } catch (error) {
      if (groups.length > 1) {
        // Nothing of the batch was written; give each event its own statement and its own outcome.
        await Promise.all(groups.map((group) => this.#write([group])));
        return;
      }
      const failure = isDataError(error)
        ? new ValidationError(
            'invalid_event',
            `The event cannot be stored: ${error instanceof Error ? error.message : String(error)}.`,
          )
        : error;
      for (const pending of groups[0] ?? []) pending.reject(failure);
    }
  }

  /** One INSERT ... ON CONFLICT for the batch; returns the stored row's id per (gateway, event id). */
  async #statement(groups: Group[]): Promise<Map<string, string>> {
    const { webhook_delay_seconds: delaySeconds } = await this.#settings.get();
    const stored = await insertWebhookEvents(
      this.#db,
      groups.map((group) => eventRow(group, delaySeconds)),
    );
    return new Map(stored.map((row) => [`${row.gateway_id}\u0000${row.event_id}`, row.id]));
  }
}

function groupByEvent(batch: Pending[]): Group[] {
  const groups = new Map<string, Group>();
  for (const pending of batch) {
    const key = keyOf(pending);
    const group = groups.get(key);
    if (group) group.push(pending);
    else groups.set(key, [pending]);
  }
  return [...groups.values()];
}

/** The row of a group; the payload is the received text itself (already valid JSON), not re-serialised. */
function eventRow(group: Group, delaySeconds: number): IntakeEventRow {
  const first = group[0] as Pending;
  const lastReceived = Math.max(...group.map((p) => p.receivedAt.getTime()));
  const { event } = first;
  const columns = {
    id: first.id,
    gateway_id: first.gatewayId,
    event_id: event.event_id,
    type: event.type,
    object_type: event.object_type,
    object_id: event.object_id,
    api_version: event.api_version,
    livemode: event.livemode,
    event_created_at: event.created.toISOString(),
    status: 'pending',
    attempts: 0,
    deliveries: group.length,
    received_at: first.receivedAt.toISOString(),
    last_received_at: new Date(lastReceived).toISOString(),
    process_after: new Date(first.receivedAt.getTime() + delaySeconds * 1000).toISOString(),
    updated_at: first.receivedAt.toISOString(),
  } as const;
  return { columns, payloadText: event.text };
}
