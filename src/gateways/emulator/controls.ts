// In-process test controls; controls-http.ts exposes the same operations under /_emulator/.
import { faultFromJson, type FaultSpec } from './faults.js';
import type { RequestLogEntry, ServerParts } from './server.js';

export interface EmulatorControls {
  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  /** Moves the emulator's clock (object timestamps, capture_before, idempotency expiry) forward. */
  advanceClock(ms: number): void;
  now(): Date;
  requestLog(): RequestLogEntry[];
  /** Forgets all objects and idempotency records (faults, the clock and the request log are kept). */
  reset(): void;
}

export function createControls(parts: ServerParts): EmulatorControls {
  const { state, faults, log } = parts;
  return {
    injectFault: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    advanceClock: (ms) => {
      if (!Number.isFinite(ms) || ms < 0) throw new Error('advanceClock needs a non-negative number of milliseconds');
      state.clockOffsetMs += ms;
      parts.idempotency.prune();
      state.scheduleSave();
    },
    now: () => state.now(),
    requestLog: () => log.map((e) => ({ ...e })),
    reset: () => state.reset(),
  };
}

export { faultFromJson };
