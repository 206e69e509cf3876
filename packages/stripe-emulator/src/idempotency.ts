// Stripe's idempotency layer (docs.stripe.com/api/idempotent_requests):
// - POST only. The first request's status and body are saved under its Idempotency-Key and replayed for the
//   same key with the same endpoint and parameters (header Idempotent-Replayed: true), including 500s.
// - Same key, different endpoint or parameters: 400 idempotency_error.
// - Keys are pruned once 24 hours old on the emulator clock; after that the key starts a new request.
// - Not saved: 4xx validation failures (400, 404), 401, 409 and 429 (rate limiting runs before this layer), so
//   those can be retried with the same key. Saved: 2xx, 402 card declines (the operation ran) and 5xx.
// - A duplicate arriving while the first is still running: 409 idempotency_key_in_use (not saved).
import { canonical } from './canonical.js';
import { invalidRequest, StripeApiError } from './errors.js';
import type { FormObject } from './form.js';
import type { EmulatorState, IdempotencyRecord } from './state.js';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export type IdempotencyDecision =
  | { kind: 'replay'; record: IdempotencyRecord }
  | { kind: 'proceed'; finish: (status: number, body: string, requestId: string) => void; release: () => void };

export class IdempotencyLayer {
  private readonly running = new Set<string>();
  private calls = 0;

  constructor(private readonly state: EmulatorState) {}

  begin(key: string, method: string, path: string, params: FormObject): IdempotencyDecision {
    if (++this.calls % 1000 === 0) this.prune();
    if (key.length > 255)
      throw invalidRequest('Idempotency-Key must be at most 255 characters.', 'idempotency_key_too_long');
    const nowMs = this.state.now().getTime();
    const existing = this.state.idempotency.get(key);
    if (existing && nowMs - existing.createdMs >= IDEMPOTENCY_TTL_MS) {
      this.state.idempotency.delete(key);
      this.state.scheduleSave();
    } else if (existing) {
      const fingerprint = canonical(params);
      if (existing.method !== method || existing.path !== path || existing.fingerprint !== fingerprint) {
        throw new StripeApiError(400, {
          type: 'idempotency_error',
          message:
            `Idempotency key '${key}' was first used with a different endpoint or different parameters; ` +
            'use a new key for a different request.',
        });
      }
      return { kind: 'replay', record: existing };
    }
    if (this.running.has(key)) {
      throw invalidRequest(
        `A request with idempotency key '${key}' is still being processed; retry once it has finished.`,
        'idempotency_key_in_use',
        undefined,
        409,
      );
    }
    this.running.add(key);
    let done = false;
    const release = (): void => {
      if (done) return;
      done = true;
      this.running.delete(key);
    };
    return {
      kind: 'proceed',
      release,
      finish: (status, body, requestId) => {
        release();
        if (!shouldSave(status)) return;
        this.state.idempotency.set(key, {
          key,
          method,
          path,
          fingerprint: canonical(params),
          createdMs: nowMs,
          status,
          body,
          requestId,
        });
        this.state.scheduleSave();
      },
    };
  }

  /** Drops expired records (called now and then so long-running emulators do not grow forever). */
  prune(): void {
    const nowMs = this.state.now().getTime();
    for (const [key, rec] of this.state.idempotency) {
      if (nowMs - rec.createdMs >= IDEMPOTENCY_TTL_MS) this.state.idempotency.delete(key);
    }
  }
}

function shouldSave(status: number): boolean {
  return (status >= 200 && status < 300) || status === 402 || status >= 500;
}
