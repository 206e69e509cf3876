// Starts runs and carries them out in this process (S3): a run now (API, CLI) or a scheduled slot (scheduler.ts).
// A batch run is also joined by every other worker that sees it running (joinRunning); a task run is carried out by
// the worker that started it. Never two runs of one job at once, across all processes (job-runs.ts startRun).
import type { Deps } from '../app/deps.js';
import { dateInZone } from '../app/clock.js';
import { ConflictError, SettleError } from '../domain/errors.js';
import type { JobRunRow } from '../store/schema.js';
import { takePart } from './batch-run.js';
import { type JobDefinition, JOB_NAMES, jobNamed, dueRuleFor, type TaskJob } from './definitions.js';
import {
  abandonStaleRuns,
  finishRun,
  heartbeat,
  recordProgress,
  runningRuns,
  startRun,
  WORKER_ID,
} from './job-runs.js';
import { countDue } from './selections.js';

export interface JobRunnerOptions {
  worker?: string;
  /** Transactions one worker processes at once in a batch run. */
  concurrency?: number;
  /** How long a claim or a run's heartbeat holds without news from its worker. */
  leaseMs?: number;
  /** How often a worker looks again while others still hold claims. */
  pollMs?: number;
  onError?: (error: unknown, run: JobRunRow) => void;
}

/**
 * Transactions one process works on at once (SETTLE_JOB_CONCURRENCY). A charge waits on the gateway (Stripe answers
 * a PaymentIntent in a few hundred milliseconds) and on its rate-limit turn, so keeping a 100/s limit busy takes about
 * limit x latency in flight; with 8, one worker on a 2-vCPU machine busy with webhooks left 10 to 15% of the limit
 * unused (docs/PERFORMANCE.md, scheduled-charges-webhooks).
 */
export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_LEASE_MS = 60_000;

export class JobRunner {
  readonly #deps: Deps;
  readonly worker: string;
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #onError: (error: unknown, run: JobRunRow) => void;
  /** Runs this process is taking part in, by id. */
  readonly #active = new Map<string, Promise<void>>();
  #stopping = false;

  constructor(deps: Deps, options: JobRunnerOptions = {}) {
    this.#deps = deps;
    this.worker = options.worker ?? WORKER_ID;
    this.#concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#pollMs = options.pollMs ?? 1000;
    this.#onError = options.onError ?? (() => {});
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Starts a run of `name` now; 409 when one is running. The run goes on in the background (see `finished`). */
  async runNow(name: string, trigger: 'api' | 'cli', startedBy: string): Promise<JobRunRow> {
    const job = jobNamed(name);
    if (!job)
      throw new SettleError('not_found', 'resource_missing', `No job named '${name}'. Jobs: ${JOB_NAMES.join(', ')}.`, {
        param: 'name',
      });
    const result = await this.#start(job, trigger, null, startedBy);
    if ('running' in result) {
      throw new ConflictError(
        'job_already_running',
        `${name} is already running (run ${result.running.id}, started ${new Date(result.running.started_at).toISOString()}); it is not started twice.`,
        {
          run_id: result.running.id,
        },
      );
    }
    if (!('started' in result)) throw new Error('a run without a slot cannot find its slot taken');
    return result.started;
  }

  /** Starts the run of a schedule slot unless that slot ran already; 'running' when another run is still going. */
  async runSlot(job: JobDefinition, slot: string): Promise<'started' | 'slot_taken' | 'running'> {
    const result = await this.#start(job, 'schedule', slot, this.worker);
    return 'started' in result ? 'started' : 'running' in result ? 'running' : 'slot_taken';
  }

  async #start(job: JobDefinition, trigger: JobRunRow['trigger'], slot: string | null, startedBy: string) {
    if (this.#stopping)
      throw new ConflictError('worker_stopping', 'This worker is shutting down; start the job on another one.');
    const now = this.#deps.clock.now();
    if (trigger === 'schedule') {
      // The common case while a run is under way: say so without counting what is due.
      const running = await runningRuns(this.#deps.db, [job.name]);
      if (
        running[0] &&
        (job.kind === 'batch' || new Date(running[0].heartbeat_at).getTime() >= now.getTime() - this.#leaseMs)
      )
        return { running: running[0] };
    }
    // A task run whose worker died says `running` for ever: close it once its heartbeat is older than a lease.
    if (job.kind === 'task')
      await abandonStaleRuns(this.#deps.db, job.name, new Date(now.getTime() - this.#leaseMs), now);
    let total: number | null = null;
    if (job.kind === 'batch') {
      const settings = await this.#deps.settings.get();
      total = await countDue(this.#deps.db, job.name, {
        ...dueRuleFor(settings, dateInZone(now, settings.timezone)),
        now,
      });
    }
    const result = await startRun(this.#deps.db, { job: job.name, trigger, slot, startedBy, now, total });
    if ('started' in result) this.#launch(job, result.started);
    return result;
  }

  /** Joins every running batch run this process is not taking part in yet (started elsewhere, or orphaned). */
  async joinRunning(): Promise<void> {
    if (this.#stopping) return;
    const batchJobs = JOB_NAMES.filter((name) => jobNamed(name)?.kind === 'batch');
    for (const run of await runningRuns(this.#deps.db, batchJobs)) {
      const job = jobNamed(run.job);
      if (job && !this.#active.has(run.id)) this.#launch(job, run);
    }
  }

  /** Resolves when this process's part in the run is over (immediately if it takes no part). */
  async finished(runId: string): Promise<void> {
    await this.#active.get(runId);
  }

  /** Stops claiming, lets items under way finish, gives back unstarted claims. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#active.values()]);
  }

  #launch(job: JobDefinition, run: JobRunRow): void {
    const work =
      job.kind === 'batch'
        ? takePart(this.#deps, job, run, {
            worker: this.worker,
            concurrency: this.#concurrency,
            leaseMs: this.#leaseMs,
            pollMs: this.#pollMs,
            stopping: () => this.#stopping,
          }).then(() => undefined)
        : this.#runTask(job, run);
    const tracked = work
      .catch(async (error: unknown) => {
        this.#onError(error, run);
        const message = error instanceof Error ? error.message : String(error);
        await finishRun(
          this.#deps.db,
          run.id,
          'failed',
          this.#deps.clock.now(),
          `Stopped by an error: ${message}`,
        ).catch(() => false);
      })
      .finally(() => this.#active.delete(run.id));
    this.#active.set(run.id, tracked);
  }

  async #runTask(job: TaskJob, run: JobRunRow): Promise<void> {
    const beat = setInterval(
      () => {
        void heartbeat(this.#deps.db, run.id, this.worker, this.#deps.clock.now(), this.#leaseMs).catch(
          () => undefined,
        );
      },
      Math.max(200, Math.floor(this.#leaseMs / 3)),
    );
    beat.unref();
    try {
      const { summary, ...counts } = await job.run(this.#deps, { actor: `job:${job.name}:${run.id}` });
      await recordProgress(this.#deps.db, run.id, counts, [], this.#deps.clock.now());
      await finishRun(this.#deps.db, run.id, 'succeeded', this.#deps.clock.now(), summary);
    } finally {
      clearInterval(beat);
    }
  }
}
