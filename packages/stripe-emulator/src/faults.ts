// Fault injection for tests. A fault matches by method (optional) and path (exact string or RegExp on the
// URL path without the query), applies to the next `times` matching requests (default 1), and then disappears.
// Kinds:
//   delay            wait delayMs, then handle the request normally (the idempotency key is held meanwhile)
//   server_error     500 api_error without doing anything; saved under the idempotency key like a real 500
//   rate_limit       429 without doing anything (not saved: rate limiting runs before idempotency)
//   connection_reset destroy the socket without doing anything
//   drop_response    do the operation, save its idempotent result, then destroy the socket without answering
export type FaultKind = 'delay' | 'server_error' | 'rate_limit' | 'connection_reset' | 'drop_response';

export interface FaultSpec {
  method?: string;
  path: string | RegExp;
  kind: FaultKind;
  delayMs?: number;
  times?: number;
}

interface ActiveFault {
  method: string | undefined;
  path: string | RegExp;
  kind: FaultKind;
  delayMs: number;
  remaining: number;
}

const KINDS: readonly FaultKind[] = ['delay', 'server_error', 'rate_limit', 'connection_reset', 'drop_response'];

export class FaultInjector {
  private faults: ActiveFault[] = [];

  add(spec: FaultSpec): void {
    if (!KINDS.includes(spec.kind)) throw new Error(`Unknown fault kind '${String(spec.kind)}'`);
    const times = spec.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new Error('times must be a positive integer');
    this.faults.push({
      method: spec.method?.toUpperCase(),
      path: spec.path,
      kind: spec.kind,
      delayMs: Math.max(0, spec.delayMs ?? 0),
      remaining: times,
    });
  }

  clear(): void {
    this.faults = [];
  }

  /** Takes (consumes one use of) the first fault matching this request. */
  take(method: string, path: string): { kind: FaultKind; delayMs: number } | undefined {
    const i = this.faults.findIndex(
      (f) =>
        (f.method === undefined || f.method === method) &&
        (typeof f.path === 'string' ? f.path === path : f.path.test(path)),
    );
    const fault = this.faults[i];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(i, 1);
    return { kind: fault.kind, delayMs: fault.delayMs };
  }
}

/** The HTTP control's JSON form: path is a string or { regex, flags? }. */
export function faultFromJson(body: unknown): FaultSpec {
  if (body === null || typeof body !== 'object') throw new Error('fault must be a JSON object');
  const b = body as Record<string, unknown>;
  let path: string | RegExp;
  if (typeof b.path === 'string') path = b.path;
  else if (b.path && typeof b.path === 'object' && typeof (b.path as { regex?: unknown }).regex === 'string') {
    const p = b.path as { regex: string; flags?: unknown };
    path = new RegExp(p.regex, typeof p.flags === 'string' ? p.flags : undefined);
  } else throw new Error('path must be a string or {"regex": "..."}');
  return {
    path,
    kind: b.kind as FaultKind,
    ...(typeof b.method === 'string' ? { method: b.method } : {}),
    ...(typeof b.delayMs === 'number' ? { delayMs: b.delayMs } : {}),
    ...(typeof b.times === 'number' ? { times: b.times } : {}),
  };
}
