// The emulator's arrival front (arrival-front.ts): requests are dated when they arrive, even while the emulator's
// own thread is busy, and the front is invisible otherwise (answers, headers, replays and dropped connections).
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/index.js';
import { failure, sdk } from './helpers.js';

const params = {
  amount: 2000,
  currency: 'usd',
  payment_method: 'pm_card_visa',
  confirm: true,
  automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
  capture_method: 'manual' as const,
};

/**
 * Sends one GET from another thread when asked. The thread counts in `written` (shared memory) once the request's
 * bytes are handed to the socket, and reports when it sent it. The test's own thread (which is also the
 * emulator's) can then be kept busy, without its event loop, until the request has arrived.
 */
function remoteSender(port: number): {
  written: Int32Array;
  send(path: string): Promise<{ sentAt: number; status: number }>;
  close(): Promise<number>;
} {
  const written = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const http = require('node:http');
    parentPort.on('message', (path) => {
      const sentAt = Date.now();
      const req = http.request({ host: '127.0.0.1', port: workerData.port, path, method: 'GET', headers: { authorization: 'Bearer sk_test_front' } }, (res) => {
        res.resume();
        res.on('end', () => parentPort.postMessage({ sentAt, status: res.statusCode }));
      });
      req.on('finish', () => Atomics.add(workerData.written, 0, 1));
      req.end();
    });`,
    { eval: true, workerData: { port, written } },
  );
  return {
    written,
    send: (path) =>
      new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage(path);
      }),
    close: () => worker.terminate(),
  };
}

/**
 * Keeps this thread (and so the emulator's handlers) busy until `done()` holds, then for 20 ms more; returns when
 * it ended. No wall-clock bound decides the outcome: the wait ends on an event another thread signals. The
 * 60-second guard only turns a broken signal into a clear failure instead of a hung test.
 */
function busyUntil(done: () => boolean): number {
  const guard = Date.now() + 60_000;
  while (!done()) {
    if (Date.now() > guard) throw new Error('the other thread never signalled');
  }
  const end = Date.now() + 20;
  while (Date.now() < end) {
    // spin
  }
  return Date.now();
}

async function dateOneRequestDuringABusyThread(
  emulator: Emulator,
  behindFront: boolean,
): Promise<{ sentAt: number; busyUntil: number; loggedAt: number }> {
  const sender = remoteSender(emulator.port);
  try {
    const datedBefore = emulator.arrivalsDated();
    const answered = sender.send('/v1/balance');
    // The other thread sends; this thread stays busy until the request was written (and, behind the arrival front,
    // until the front has dated it), so the emulator's handler runs after.
    const ended = busyUntil(
      () => Atomics.load(sender.written, 0) > 0 && (!behindFront || emulator.arrivalsDated() > datedBefore),
    );
    const { sentAt, status } = await answered;
    expect(status).toBe(200);
    const entry = emulator.controls.requestLog().find((e) => e.path === '/v1/balance');
    if (!entry) throw new Error('the request is not in the log');
    return { sentAt, busyUntil: ended, loggedAt: entry.at };
  } finally {
    await sender.close();
  }
}

describe('the emulator dates requests', () => {
  it('by default when its handler runs: a request that arrived while the thread was busy is logged after', async () => {
    const emulator = await startEmulator();
    try {
      const { sentAt, busyUntil, loggedAt } = await dateOneRequestDuringABusyThread(emulator, false);
      expect(sentAt).toBeLessThan(busyUntil);
      expect(loggedAt).toBeGreaterThanOrEqual(busyUntil);
    } finally {
      await emulator.close();
    }
  });

  it('with arrivalThread when it arrives, however busy the emulator is', async () => {
    const emulator = await startEmulator({ arrivalThread: true });
    try {
      expect(emulator.arrivalsDated()).toBe(0);
      const { sentAt, busyUntil, loggedAt } = await dateOneRequestDuringABusyThread(emulator, true);
      expect(emulator.arrivalsDated()).toBe(1);
      expect(sentAt).toBeLessThan(busyUntil);
      expect(loggedAt).toBeGreaterThanOrEqual(sentAt);
      expect(loggedAt).toBeLessThan(busyUntil);
    } finally {
      await emulator.close();
    }
  });

  // Linux only, and only where this process may raise a priority (root or CAP_SYS_NICE; CI runs as root).
  const mayRaise = process.platform === 'linux' && process.getuid?.() === 0;
  it.skipIf(!mayRaise)(
    'with arrivalThread in a thread of higher CPU priority than the rest of the process (nice -10)',
    async () => {
      const niceOfThreads = () =>
        readdirSync('/proc/self/task').map((tid) =>
          Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]),
        );
      const before = niceOfThreads();
      const emulator = await startEmulator({ arrivalThread: true });
      try {
        const during = niceOfThreads();
        expect(before.filter((nice) => nice === -10)).toEqual([]);
        expect(during.filter((nice) => nice === -10)).toHaveLength(1);
      } finally {
        await emulator.close();
      }
    },
  );
});

describe('behind the arrival front the emulator answers as it does without it', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ arrivalThread: true });
  });
  afterAll(() => emulator.close());

  it('answers, headers and idempotent replays pass through', async () => {
    const stripe = sdk(emulator);
    const created = await stripe.paymentIntents.create(params, { idempotencyKey: 'front-1' });
    expect(created.status).toBe('requires_capture');
    const replay = await stripe.paymentIntents.create(params, { idempotencyKey: 'front-1' });
    expect(replay.id).toBe(created.id);
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(replay.lastResponse.requestId).toMatch(/^req_/);
    const err = await failure(stripe.paymentIntents.retrieve('pi_missing'));
    expect(err).toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 404, code: 'resource_missing' });
  });

  it('a dropped connection reaches the client as a closed connection, and a client-sent arrival header is overwritten', async () => {
    emulator.controls.injectFault({ path: '/v1/payment_intents', kind: 'connection_reset', times: 2 });
    const before = Date.now();
    const err = await failure(
      sdk(emulator).paymentIntents.create(params, {
        idempotencyKey: 'front-reset',
        headers: { 'x-emulator-arrived-at': '1' },
      } as never),
    );
    expect(err).toMatchObject({ type: 'StripeConnectionError' });
    const attempts = emulator.controls.requestLog().filter((e) => e.idempotencyKey === 'front-reset');
    expect(attempts.map((e) => e.status)).toEqual([0, 0]);
    for (const attempt of attempts) expect(attempt.at).toBeGreaterThanOrEqual(before);
  });

  it('drop_response: the operation happened, the client saw no answer, and the same key replays it', async () => {
    emulator.controls.injectFault({ method: 'POST', path: '/v1/payment_intents', kind: 'drop_response', times: 2 });
    const err = await failure(sdk(emulator).paymentIntents.create(params, { idempotencyKey: 'front-drop' }));
    expect(err).toMatchObject({ type: 'StripeConnectionError' });
    const replay = await sdk(emulator).paymentIntents.create(params, { idempotencyKey: 'front-drop' });
    expect(replay.status).toBe('requires_capture');
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
  });
});
