// HTTP form of the test controls (no API key needed; the emulator is for local use):
//   POST   /_emulator/faults          {"path": "/v1/refunds" | {"regex": "^/v1/payment_intents"}, "kind": ..., ...}
//   DELETE /_emulator/faults
//   POST   /_emulator/clock/advance   {"ms": 86400000}
//   GET    /_emulator/clock           {"now": "<ISO time>"}
//   GET    /_emulator/requests        [{at, method, path, idempotencyKey, status}, ...]
//   POST   /_emulator/reset
import type { ServerResponse } from 'node:http';
import { createControls, faultFromJson } from './controls.js';
import type { ServerParts } from './server.js';

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function handleControl(parts: ServerParts, method: string, path: string, body: string, res: ServerResponse): void {
  const controls = createControls(parts);
  try {
    const json = (): unknown => (body.trim() === '' ? {} : JSON.parse(body));
    const route = `${method} ${path}`;
    switch (route) {
      case 'POST /_emulator/faults':
        controls.injectFault(faultFromJson(json()));
        return reply(res, 200, { ok: true });
      case 'DELETE /_emulator/faults':
        controls.clearFaults();
        return reply(res, 200, { ok: true });
      case 'POST /_emulator/clock/advance': {
        const ms = (json() as { ms?: unknown }).ms;
        if (typeof ms !== 'number') return reply(res, 400, { error: 'ms must be a number' });
        controls.advanceClock(ms);
        return reply(res, 200, { now: controls.now().toISOString() });
      }
      case 'GET /_emulator/clock':
        return reply(res, 200, { now: controls.now().toISOString() });
      case 'GET /_emulator/requests':
        return reply(res, 200, controls.requestLog());
      case 'POST /_emulator/reset':
        controls.reset();
        return reply(res, 200, { ok: true });
      default:
        return reply(res, 404, { error: `Unknown emulator control ${route}` });
    }
  } catch (err) {
    reply(res, 400, { error: err instanceof Error ? err.message : String(err) });
  }
}
