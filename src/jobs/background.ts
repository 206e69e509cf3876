// The background work of a Settle process: the job scheduler (and its runner) and the webhook worker. `settle serve`
// runs it beside the API (unless SETTLE_SCHEDULER=off); `settle worker` runs only this, for scale (S4, X2).
import type { Deps } from '../app/deps.js';
import { WebhookWorker } from '../app/webhooks/worker.js';
import { SyncRunner } from '../app/sync/sync-runs.js';
import type { Config } from '../config.js';
import { JOB_NAMES } from './definitions.js';
import { JobRunner } from './runner.js';
import { JobScheduler } from './scheduler.js';

export interface BackgroundWork {
  runner: JobRunner;
  scheduler: JobScheduler;
  webhooks: WebhookWorker;
  /** Backfills (W6): carries those started here and resumes those whose process died. */
  sync: SyncRunner;
  /** Starts the scheduler (when enabled) and the webhook worker. */
  start(): void;
  /** Stops scheduling and claiming, lets items under way finish, gives back what was not started. */
  stop(): Promise<void>;
}

export function backgroundWork(
  deps: Deps,
  config: Pick<Config, 'schedulerEnabled' | 'jobConcurrency' | 'jobLeaseSeconds' | 'scheduledJobs'>,
  log: (message: string) => void,
): BackgroundWork {
  const runner = new JobRunner(deps, {
    concurrency: config.jobConcurrency,
    leaseMs: config.jobLeaseSeconds * 1000,
    onError: (error, run) =>
      log(`job ${run.job} (${run.id}) stopped: ${error instanceof Error ? error.message : String(error)}`),
  });
  const unknown = config.scheduledJobs?.filter((name) => !JOB_NAMES.includes(name)) ?? [];
  if (unknown.length > 0)
    throw new Error(`SETTLE_SCHEDULED_JOBS names unknown jobs: ${unknown.join(', ')} (jobs: ${JOB_NAMES.join(', ')})`);
  const scheduler = new JobScheduler(deps, runner, {
    ...(config.scheduledJobs ? { jobs: config.scheduledJobs } : {}),
    onError: (error) => log(`scheduler: ${error instanceof Error ? error.message : String(error)}`),
  });
  const webhooks = new WebhookWorker(deps, { onError: (error) => log(`webhook processor: ${String(error)}`) });
  const sync = new SyncRunner(deps, {
    onError: (error, run) => log(`sync ${run.id} stopped: ${error instanceof Error ? error.message : String(error)}`),
  });
  return {
    runner,
    scheduler,
    webhooks,
    sync,
    start() {
      if (config.schedulerEnabled) scheduler.start();
      webhooks.start();
      sync.startPolling();
    },
    async stop() {
      await scheduler.stop();
      await runner.stop();
      await sync.stop();
      await webhooks.stop();
    },
  };
}
