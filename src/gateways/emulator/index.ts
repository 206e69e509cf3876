// A stateful Stripe emulator (feature G3): an HTTP server that speaks the part of Stripe's API Settle uses, with
// Stripe's semantics, so the real `stripe` SDK can be pointed at it:
//   new Stripe('sk_test_x', { host: '127.0.0.1', port: emulator.port, protocol: 'http' })
// What it covers and what it does not: see the comments in each module and docs (payment-intents.ts,
// refunds.ts, balance.ts, idempotency.ts, faults.ts).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createControls, type EmulatorControls } from './controls.js';
import { FaultInjector } from './faults.js';
import { IdempotencyLayer } from './idempotency.js';
import { createHandler, type RequestLogEntry, type ServerParts } from './server.js';
import { EmulatorState } from './state.js';

export type { EmulatorControls } from './controls.js';
export type { FaultKind, FaultSpec } from './faults.js';
export type { RequestLogEntry } from './server.js';
export { stripeFee } from './balance.js';
export { TEST_CARDS } from './test-cards.js';

export interface EmulatorOptions {
  port?: number; // 0 (default) = a free port
  host?: string; // default 127.0.0.1
  stateFile?: string; // JSON persistence; undefined = memory only
  now?: () => Date; // the clock source the emulator's clock offsets from
}

export interface Emulator {
  url: string;
  port: number;
  controls: EmulatorControls;
  /** Stops the server and writes the state file. */
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const state = new EmulatorState(options.now ?? (() => new Date()), options.stateFile);
  state.load();
  const log: RequestLogEntry[] = [];
  const parts: ServerParts = { state, faults: new FaultInjector(), idempotency: new IdempotencyLayer(state), log };
  const server = createServer({ keepAliveTimeout: 5_000 }, createHandler(parts));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closed = false;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    controls: createControls(parts),
    close: async () => {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      state.flush();
    },
  };
}
