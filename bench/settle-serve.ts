// `settle serve` as a child process for the benchmarks that need Settle's webhook intake: it starts as `npm start`
// does (migrate, listen, register its endpoint with the emulator gateway, run the webhook worker), here on the
// bench's PostgreSQL database and with its scheduler off, so that it joins no job run (the `settle worker` processes
// do the run; the intake only stores and applies the events). Killed by its pid when the caller is done, or when
// this process exits.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../test/chaos/support.js';
import { childProfileArgs } from '../test/jobs/workers-support.js';

const BIN = path.join(ROOT, 'bin', 'settle.js');

export interface SettleServe {
  proc: ChildProcess;
  /** The address it printed (`Settle is listening on <address>`). */
  address: string;
  /** Its banner's webhook line (the endpoint it registered with the emulator, or why it could not). */
  webhooks: string;
  output(): string;
  /** SIGTERM (it finishes what is under way and exits), then SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts `settle serve` with `env` (a worker's environment: the database, STRIPE_API_BASE, a data directory of its
 * own) on a free loopback port, without the API rate limit and without its scheduler, and resolves once its banner
 * is printed. Fails when its webhook endpoint could not be registered with the emulator.
 */
export function startSettleServe(env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<SettleServe> {
  const proc = spawn(process.execPath, [...childProfileArgs(), BIN, 'serve'], {
    cwd: ROOT,
    env: { ...env, PORT: '0', HOST: '127.0.0.1', SETTLE_SCHEDULER: 'off', SETTLE_API_RATE_LIMIT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  let out = '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  void exited.then(() => process.off('exit', killOnExit));
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const stop = async (stopMs = 5_000) => {
    if (!running()) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (running()) proc.kill('SIGKILL');
    }, stopMs);
    await exited;
    clearTimeout(timer);
  };
  return new Promise<SettleServe>((resolve, reject) => {
    let started = false;
    const fail = (why: string) => {
      clearTimeout(timer);
      if (running()) proc.kill('SIGKILL');
      void exited.then(() => reject(new Error(`settle serve (pid ${proc.pid ?? '?'}) ${why}:\n${out.slice(-4000)}`)));
    };
    const timer = setTimeout(() => fail(`did not print its banner within ${timeoutMs} ms`), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.length > 200_000) out = out.slice(-100_000);
      if (started) return;
      const address = out.match(/Settle is listening on (\S+)/)?.[1];
      const webhooks = out.match(/ {2}webhooks: +(.*)\n/)?.[1];
      if (address === undefined || webhooks === undefined) return;
      started = true;
      clearTimeout(timer);
      if (!/ (registered|reused|updated) with the emulator /.test(webhooks)) {
        fail(`did not register its webhook endpoint: ${webhooks}`);
        return;
      }
      resolve({ proc, address, webhooks, output: () => out, stop });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    void exited.then(() => {
      if (!started) fail(`exited (${proc.exitCode ?? proc.signalCode}) before it started`);
    });
  });
}
