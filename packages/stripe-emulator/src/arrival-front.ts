// An optional front for the emulator that dates each request the moment it arrives, in a thread of its own.
//
// Why: the emulator logs a request's time (GET /_emulator/requests) when its handler runs on the main thread. That
// thread holds every object the emulator stores, so after a few thousand payments its garbage collection pauses
// for tens of milliseconds (measured: up to 44 ms pauses and 86 ms event-loop delays with 10,000 charges stored, on a
// busy 2-vCPU machine), and every request that arrived during a pause is logged at its end: the log bunches
// requests that arrived evenly. Stripe counts a request when it reaches its API, not when a busy server gets to
// it, so a rate-limit measurement needs arrival times. This front is a small HTTP proxy in a worker thread (its own
// heap, nearly empty, so its pauses are short): it stamps `x-emulator-arrived-at` on each request and passes it to
// the emulator's server, which logs that time; answers and dropped connections come back unchanged.
//
// Its thread runs at a higher CPU priority (nice -10) where the process is allowed to raise one (root, or
// CAP_SYS_NICE): on a machine whose CPUs are full, a thread of ordinary priority can wait tens of milliseconds to
// be scheduled (measured: up to 62 ms between a request's write and its dating, with 4 workers and PostgreSQL on
// 2 vCPUs), which would date requests late and bunch them as much as a garbage-collection pause does.
//
// Costs a loopback hop per request (CPU in the same process), so it is off unless asked for
// (EmulatorOptions.arrivalThread); the rate-limit test and benchmark use it.
import { Worker } from 'node:worker_threads';

/** The header the front sets (and overwrites when a client sent one). */
export const ARRIVED_AT_HEADER = 'x-emulator-arrived-at';

// Plain JavaScript, run with `eval` so that it loads the same way from TypeScript sources (tests) and from dist/.
const FRONT_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);
const agent = new http.Agent({ keepAlive: true });
// Linux gives each thread its own nice value: this thread is served before the rest of the machine, as Stripe's
// own front would be on machines of its own. Allowed only where the process may raise a priority; else unchanged.
try {
  require('node:os').setPriority(-10);
} catch {}
const server = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
  const arrivedAt = Date.now();
  Atomics.add(workerData.dated, 0, 1);
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
  headers[workerData.header] = String(arrivedAt);
  const upstream = http.request(
    { host: '127.0.0.1', port: workerData.innerPort, method: req.method, path: req.url, headers, agent },
    (answer) => {
      const out = {};
      for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
      res.writeHead(answer.statusCode || 502, out);
      answer.pipe(res);
      answer.on('error', () => req.socket.destroy());
    },
  );
  // The emulator dropped the connection (a fault) or failed: the client sees its connection close, as it would.
  upstream.on('error', () => req.socket.destroy());
  req.pipe(upstream);
});
server.on('error', (error) => parentPort.postMessage({ error: String(error) }));
server.listen(workerData.port, workerData.host, () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  server.close(() => {
    agent.destroy();
    parentPort.postMessage({ closed: true });
    parentPort.close();
  });
  server.closeAllConnections();
});
`;

export interface ArrivalFront {
  port: number;
  /** How many requests the front has dated so far; readable while the emulator's own thread is busy. */
  dated(): number;
  close(): Promise<void>;
}

/** Starts the front on host:port (0 = a free port), passing every request to the emulator at 127.0.0.1:innerPort. */
export async function startArrivalFront(options: {
  host: string;
  port: number;
  innerPort: number;
}): Promise<ArrivalFront> {
  // Shared memory, so that the count can be read without the event loop (a test keeps the main thread busy).
  const dated = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(FRONT_SOURCE, {
    eval: true,
    workerData: { ...options, header: ARRIVED_AT_HEADER, dated },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: { port?: number; error?: string }) => {
      if (message.port !== undefined) resolve(message.port);
      else reject(new Error(`the emulator's arrival front could not listen: ${message.error ?? 'unknown error'}`));
    });
  });
  return {
    port,
    dated: () => Atomics.load(dated, 0),
    close: async () => {
      const closed = new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
      });
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}
