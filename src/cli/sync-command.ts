// `settle sync --since DATE` (W6): runs a backfill here and prints its progress per object type until it ends.
// `--resume` carries on the default gateway's running sync whose process died (its lease lapsed, or at once with
// `--force` when that process is known to be gone). Ctrl-C stops between two pages; the run stays resumable.
import { InvalidArgumentError } from 'commander';
import { ConflictError } from '../domain/errors.js';
import { setUpDefaultGateway } from '../gateway-adapters/default-gateway.js';
import { type Config, loadConfig } from '../config.js';
import { openRuntime } from '../runtime.js';
import { type SyncRunView, presentSync, SyncRunner } from '../app/sync/sync-runs.js';
import { findSyncRun, runningSyncOf } from '../store/sync-runs-repo.js';

export interface SyncCommandOptions {
  since?: string;
  until?: string;
  objects?: string;
  resume?: boolean;
  force?: boolean;
  pageSize?: string;
}

/** One line per object type: what was read, created, updated, left unchanged and skipped. */
export function syncProgressLines(view: SyncRunView): string[] {
  return view.objects.map((object) => {
    const p = view.progress[object];
    if (!p) return `  ${object}`;
    const state = p.done ? 'done' : view.current_object === object ? 'importing' : 'waiting';
    return `  ${object.padEnd(21)} ${state.padEnd(9)} read ${p.read}, created ${p.created}, updated ${p.updated}, unchanged ${p.unchanged}${p.skipped > 0 ? `, skipped ${p.skipped} (last: ${p.last_skip ?? '?'})` : ''}`;
  });
}

/**
 * TEST ONLY: SETTLE_SYNC_TEST_PAUSE_AFTER_PAGES=N makes the run stop after its Nth committed page and wait (printing
 * `paused after N pages`), so that the crash test (test/sync/) can kill the process between two pages.
 */
function testPause(config: NodeJS.ProcessEnv) {
  const raw = config.SETTLE_SYNC_TEST_PAUSE_AFTER_PAGES;
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  const limit = Number(raw);
  return async (_run: string, _object: string, pages: number) => {
    if (pages < limit) return;
    process.stdout.write(`paused after ${pages} pages\n`);
    await new Promise(() => {}); // never resolves: the test kills the process here
  };
}

export async function runSyncCommand(options: SyncCommandOptions): Promise<void> {
  const config: Config = loadConfig();
  const runtime = await openRuntime(config);
  let gateway: Awaited<ReturnType<typeof setUpDefaultGateway>> | undefined;
  const afterPage = testPause(process.env);
  const pageSize = options.pageSize === undefined ? 100 : Number(options.pageSize);
  if (!/^\d+$/.test(options.pageSize ?? '100') || pageSize < 1 || pageSize > 100) {
    await runtime.close();
    throw new InvalidArgumentError('--page-size takes a whole number from 1 to 100');
  }
  const runner = new SyncRunner(runtime.deps, {
    pageSize,
    onError: (error) => console.error(`settle: ${error instanceof Error ? error.message : String(error)}`),
    ...(afterPage ? { afterPage } : {}),
  });
  const stop = () => {
    console.error('\nstopping after the page under way; `settle sync --resume` carries on from there');
    void runner.stop();
  };
  try {
    gateway = await setUpDefaultGateway(config, runtime.deps);
    let id: string;
    if (options.resume) {
      const running = await runningSyncOf(runtime.deps.db, gateway.record.id);
      if (!running) {
        console.error(`settle: no sync of gateway ${gateway.record.id} is running; nothing to resume`);
        process.exitCode = 1;
        return;
      }
      const taken = await runner.resume(running.id, { force: options.force ?? false });
      if (!taken) {
        console.error(
          `settle: sync ${running.id} is being carried by ${running.worker ?? 'another process'} (its lease runs until ${running.lease_until?.toISOString() ?? '?'}); add --force if that process is gone`,
        );
        process.exitCode = 1;
        return;
      }
      id = taken.id;
      console.log(`Resuming sync ${id} from its last committed page.`);
    } else {
      const objects = options.objects?.split(',').map((o) => o.trim());
      try {
        const run = await runner.start(
          {
            since: options.since,
            ...(options.until === undefined ? {} : { until: options.until }),
            ...(objects === undefined ? {} : { objects }),
          },
          'cli',
          `cli:${process.env.USER ?? 'unknown'}`,
        );
        id = run.id;
      } catch (error) {
        if (error instanceof ConflictError) {
          console.error(`settle: ${error.message} (\`settle sync --resume\` takes over one whose process died)`);
          process.exitCode = 1;
          return;
        }
        throw error;
      }
      console.log(`Sync ${id} started.`);
    }
    process.once('SIGINT', stop);
    let finished = false;
    const done = runner.finished(id).finally(() => {
      finished = true;
    });
    let last = '';
    while (!finished) {
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 1000))]);
      const row = await findSyncRun(runtime.deps.db, id);
      const lines = row ? syncProgressLines(presentSync(row)).join('\n') : '';
      if (lines !== last) console.log(lines);
      last = lines;
    }
    const row = await findSyncRun(runtime.deps.db, id);
    if (!row) throw new Error(`sync ${id} disappeared`);
    const view = presentSync(row);
    console.log(`${view.status}${view.error ? `: ${view.error}` : ''} (${view.pages} pages)`);
    console.log(syncProgressLines(view).join('\n'));
    if (view.status === 'failed') process.exitCode = 1;
    if (view.status === 'running') process.exitCode = 130;
  } finally {
    process.off('SIGINT', stop);
    await runner.stop();
    await gateway?.close();
    await runtime.close();
  }
}
