// Runs the webhook processor inside `settle serve` (and, with the scheduler issue, in `settle worker`): it applies
// due events every `intervalMs`, at once when kicked (the intake kicks it after storing an event), and keeps going
// while full batches come back. One pass at a time per process; processes share the work through the claims.
import type { Deps } from '../deps.js';
import { processWebhookEvents } from './processor.js';

export interface WebhookWorkerOptions {
  intervalMs?: number;
  batch?: number;
  onError?: (error: unknown) => void;
}

export class WebhookWorker {
  readonly #deps: Deps;
  readonly #intervalMs: number;
  readonly #batch: number;
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = true;

  constructor(deps: Deps, options: WebhookWorkerOptions = {}) {
    this.#deps = deps;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#batch = options.batch ?? 200;
    this.#onError = options.onError ?? (() => {});
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Runs a pass soon (after the current one, if one is running). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) this.#again = true;
    else this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#running = this.#pass().finally(() => {
        this.#running = null;
        const again = this.#again;
        this.#again = false;
        this.#schedule(again ? 0 : this.#intervalMs);
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #pass(): Promise<void> {
    try {
      for (let round = 0; round < 50 && !this.#stopped; round += 1) {
        const summary = await processWebhookEvents(this.#deps, { limit: this.#batch });
        if (summary.picked < this.#batch) return;
      }
    } catch (error) {
      this.#onError(error);
    }
  }
}
