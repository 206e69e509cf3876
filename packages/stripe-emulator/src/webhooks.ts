// Webhook delivery, at least once (docs.stripe.com/webhooks): each recorded event is queued for every enabled endpoint
// whose enabled_events match, and POSTed (webhook-sender.ts). A non-2xx answer, a connection error or a
// timeout is retried after growing delays (default 1 s doubling to 512 s, about 17 minutes in all, then given up;
// Stripe itself retries for up to 3 days). Events still undelivered when the emulator starts (it was stopped or
// killed with deliveries queued: `pending_webhooks` > 0) are queued again, so a restart loses none. Deliveries go out in batches (everything queued when a batch starts), in order per endpoint
// unless `shuffle` is on. Test switches: `duplicateRate` (that share of deliveries is sent twice), `shuffle`
// (random order within a batch), `hold` (queue without sending until flush()). Queued and in-flight
// deliveries live in memory only; events themselves persist. Timers are unref'd and stopped by close().
import type { ClientRequest } from 'node:http';
import { renderEventForVersion } from './api-versions.js';
import type { EmulatorState } from './state.js';
import type { StripeEvent, WebhookEndpoint } from './types.js';
import { endpointWants } from './events.js';
import { endpointSecret } from './webhook-endpoints.js';
import { postWebhook, WebhookAgents } from './webhook-sender.js';

export interface WebhookSettings {
  duplicateRate: number;
  shuffle: boolean;
  hold: boolean;
  retryDelaysMs: number[];
  timeoutMs: number;
  /**
   * Deliveries in flight at once per endpoint. 1 (the default): one after another, in order. More: that many lanes
   * per endpoint, each in order, taken in turn, so the endpoint sees events as Stripe sends them under load: several
   * at once and in no guaranteed order (docs.stripe.com/webhooks#event-ordering).
   */
  concurrency: number;
}

export interface DeliveryLogEntry {
  eventId: string;
  type: string;
  endpointId: string;
  attempt: number;
  /** HTTP status, or null when the delivery failed without an answer (see error). */
  status: number | null;
  error: string | null;
  /** True for the extra copy sent because of duplicateRate. */
  duplicate: boolean;
  at: string; // wall-clock ISO time
}

interface Delivery {
  eventId: string;
  endpointId: string;
  attempt: number;
}

const MAX_LOG = 10_000;

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  duplicateRate: 0,
  shuffle: false,
  hold: false,
  retryDelaysMs: [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 512000],
  timeoutMs: 10_000,
  concurrency: 1,
};

export function checkSettings(s: Partial<WebhookSettings>): void {
  if (s.concurrency !== undefined && !(Number.isInteger(s.concurrency) && s.concurrency >= 1 && s.concurrency <= 64))
    throw new Error('concurrency must be an integer from 1 to 64');
  if (s.duplicateRate !== undefined && !(s.duplicateRate >= 0 && s.duplicateRate <= 1))
    throw new Error('duplicateRate must be between 0 and 1');
  if (
    s.retryDelaysMs !== undefined &&
    !(Array.isArray(s.retryDelaysMs) && s.retryDelaysMs.every((d) => Number.isFinite(d) && d >= 0))
  ) {
    throw new Error('retryDelaysMs must be a list of non-negative numbers');
  }
  if (s.timeoutMs !== undefined && !(Number.isFinite(s.timeoutMs) && s.timeoutMs > 0))
    throw new Error('timeoutMs must be positive');
}

export class WebhookDispatcher {
  readonly settings: WebhookSettings = {
    ...DEFAULT_WEBHOOK_SETTINGS,
    retryDelaysMs: [...DEFAULT_WEBHOOK_SETTINGS.retryDelaysMs],
  };
  readonly log: DeliveryLogEntry[] = [];
  private queue: Delivery[] = [];
  private inFlight = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly chains = new Map<string, Promise<void>>();
  /** Per endpoint, the lane the next delivery takes (settings.concurrency lanes). */
  private readonly nextLane = new Map<string, number>();
  private readonly requests = new Set<ClientRequest>();
  /** Connections kept alive between deliveries (webhook-sender.ts). */
  private readonly agents = new WebhookAgents();
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly state: EmulatorState,
    private readonly random: () => number = Math.random,
  ) {}

  configure(settings: Partial<WebhookSettings>): WebhookSettings {
    checkSettings(settings);
    Object.assign(this.settings, settings);
    if (settings.retryDelaysMs) this.settings.retryDelaysMs = [...settings.retryDelaysMs];
    if (!this.settings.hold) this.schedule();
    this.checkIdle();
    return { ...this.settings, retryDelaysMs: [...this.settings.retryDelaysMs] };
  }

  enqueue(event: StripeEvent): void {
    if (this.closed) return;
    for (const endpoint of this.state.all<WebhookEndpoint>('webhook_endpoint')) {
      if (endpointWants(this.state, endpoint, event))
        this.queue.push({ eventId: event.id, endpointId: endpoint.id, attempt: 1 });
    }
    this.schedule();
  }

  /** Queues again the events of the last 3 days (Stripe's retry window) not yet delivered to every endpoint. */
  requeueUndelivered(): number {
    const since = this.state.nowSeconds() - 3 * 24 * 3600;
    const events = this.state.all<StripeEvent>('event').filter((e) => e.pending_webhooks > 0 && e.created >= since);
    for (const event of events) this.enqueue(event);
    return events.length;
  }

  /** Sends everything queued now, even while `hold` is on. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.closed) return;
    const batch = this.queue.splice(0);
    if (this.settings.shuffle) {
      for (let i = batch.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1));
        [batch[i], batch[j]] = [batch[j] as Delivery, batch[i] as Delivery];
      }
    }
    for (const d of batch) {
      this.inFlight += 1;
      const laneNumber = this.nextLane.get(d.endpointId) ?? 0;
      this.nextLane.set(d.endpointId, (laneNumber + 1) % this.settings.concurrency);
      const lane = `${d.endpointId}#${laneNumber}`;
      const previous = this.chains.get(lane) ?? Promise.resolve();
      const next = previous
        .then(() => this.deliver(d))
        .finally(() => {
          this.inFlight -= 1;
          if (this.chains.get(lane) === next) this.chains.delete(lane);
          this.checkIdle();
        });
      this.chains.set(lane, next);
    }
    this.checkIdle();
  }

  /** Forgets queued deliveries and the delivery log (controls.reset: their events are forgotten too). */
  reset(): void {
    this.queue = [];
    this.log.length = 0;
    this.checkIdle();
  }

  /** Resolves once nothing is queued for sending (held deliveries excepted), in flight or waiting to retry. */
  settle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    for (const req of this.requests) req.destroy();
    this.agents.destroy();
    this.queue = [];
    for (const w of this.waiters.splice(0)) w();
  }

  private schedule(): void {
    if (this.closed || this.settings.hold || this.flushTimer || this.queue.length === 0) return;
    this.flushTimer = setTimeout(() => this.flush(), 0);
    this.flushTimer.unref();
  }

  private idle(): boolean {
    return (
      this.closed ||
      (this.flushTimer === null &&
        this.inFlight === 0 &&
        this.retryTimers.size === 0 &&
        (this.queue.length === 0 || this.settings.hold))
    );
  }

  private checkIdle(): void {
    if (this.idle()) for (const w of this.waiters.splice(0)) w();
  }

  private async deliver(d: Delivery): Promise<void> {
    const event = this.state.find<StripeEvent>(d.eventId, 'event');
    const endpoint = this.state.find<WebhookEndpoint>(d.endpointId, 'webhook_endpoint');
    const secret = endpointSecret(this.state, d.endpointId);
    // Forgotten (reset), deleted or disabled since it was queued: nothing to send.
    if (this.closed || !event || !endpoint || endpoint.status !== 'enabled' || secret === undefined) return;
    const ok = await this.send(event, endpoint, secret, d.attempt, false);
    if (this.random() < this.settings.duplicateRate) await this.send(event, endpoint, secret, d.attempt, true);
    if (ok) {
      event.pending_webhooks = Math.max(0, event.pending_webhooks - 1);
      this.state.scheduleSave();
      return;
    }
    const delay = this.settings.retryDelaysMs[d.attempt - 1];
    if (delay === undefined || this.closed) return; // given up; pending_webhooks keeps counting it
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.queue.push({ ...d, attempt: d.attempt + 1 });
      this.schedule();
      this.checkIdle();
    }, delay);
    timer.unref();
    this.retryTimers.add(timer);
  }

  private async send(
    event: StripeEvent,
    endpoint: WebhookEndpoint,
    secret: string,
    attempt: number,
    duplicate: boolean,
  ): Promise<boolean> {
    if (this.closed) return false;
    // At the endpoint's api_version when it has one (docs.stripe.com/webhooks/versioning), else the pinned one.
    const version = typeof endpoint.api_version === 'string' ? endpoint.api_version : undefined;
    const body = renderEventForVersion(this.state, version, event);
    const entry: DeliveryLogEntry = {
      eventId: event.id,
      type: event.type,
      endpointId: endpoint.id,
      attempt,
      status: null,
      error: null,
      duplicate,
      at: '',
    };
    try {
      entry.status = await postWebhook(endpoint.url, body, secret, this.settings.timeoutMs, this.requests, this.agents);
    } catch (err) {
      entry.error = err instanceof Error ? err.message : String(err);
    }
    entry.at = new Date().toISOString();
    this.log.push(entry);
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
    return entry.status !== null && entry.status >= 200 && entry.status < 300;
  }
}
