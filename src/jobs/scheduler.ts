// The scheduler (S3): in `settle serve` and in every `settle worker`. Each tick it works out each job's current
// slot: for a daily job, today's date in the `timezone` setting once the wall clock there has reached
// `daily_jobs_at` (a process that starts later that day still runs it, once); for an interval job, the start of the
// current interval. The first worker to insert the slot's run wins (a unique index); the others see the slot taken.
// Then it joins every running batch run, so all workers share the work of whichever one started it.
import type { Deps } from '../app/deps.js';
import { dateInZone, timeOfDayInZone, zonedTimeToInstant } from '../app/clock.js';
import type { Settings } from '../app/settings.js';
import { addDays } from '../domain/reattempts.js';
import { JOBS, type JobDefinition, type JobSchedule } from './definitions.js';
import type { JobRunner } from './runner.js';

/** The slot a job is due for at `now`, or null (a daily job before its time of day). */
export function currentSlot(
  schedule: JobSchedule,
  settings: Pick<Settings, 'timezone' | 'daily_jobs_at'>,
  now: Date,
): string | null {
  if (schedule.kind === 'interval') {
    const ms = schedule.seconds * 1000;
    return new Date(Math.floor(now.getTime() / ms) * ms).toISOString();
  }
  if (timeOfDayInZone(now, settings.timezone) < settings.daily_jobs_at) return null;
  return dateInZone(now, settings.timezone);
}

/** When the job's next slot opens after `lastSlot` (the latest that ran, if any). */
export function nextRunAt(
  schedule: JobSchedule,
  settings: Pick<Settings, 'timezone' | 'daily_jobs_at'>,
  now: Date,
  lastSlot: string | null,
): Date {
  if (schedule.kind === 'interval') {
    const ms = schedule.seconds * 1000;
    const current = Math.floor(now.getTime() / ms) * ms;
    return new Date(lastSlot !== null && new Date(lastSlot).getTime() >= current ? current + ms : current);
  }
  const today = dateInZone(now, settings.timezone);
  const todayAt = zonedTimeToInstant(today, settings.daily_jobs_at, settings.timezone);
  if (lastSlot !== today) return todayAt.getTime() <= now.getTime() ? now : todayAt;
  return zonedTimeToInstant(addDays(today, 1), settings.daily_jobs_at, settings.timezone);
}

export interface SchedulerOptions {
  tickMs?: number;
  /** Only these jobs are scheduled (default: all). */
  jobs?: readonly string[];
  onError?: (error: unknown) => void;
}

export class JobScheduler {
  readonly #deps: Deps;
  readonly #runner: JobRunner;
  readonly #tickMs: number;
  readonly #jobs: readonly JobDefinition[];
  readonly #onError: (error: unknown) => void;
  /** The last slot each job was found done (started here or elsewhere), so it is not asked about again. */
  readonly #handled = new Map<string, string>();
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> | null = null;
  #stopped = true;

  constructor(deps: Deps, runner: JobRunner, options: SchedulerOptions = {}) {
    this.#deps = deps;
    this.#runner = runner;
    this.#tickMs = options.tickMs ?? 1000;
    this.#jobs = options.jobs ? JOBS.filter((j) => options.jobs!.includes(j.name)) : JOBS;
    this.#onError = options.onError ?? (() => {});
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops ticking; runs under way are the runner's to stop. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#ticking;
  }

  /** One look at the clock: start the slots that are due, join the batch runs under way. */
  async tick(): Promise<void> {
    const settings = await this.#deps.settings.get();
    const now = this.#deps.clock.now();
    for (const job of this.#jobs) {
      if (this.#runner.stopping) return;
      const slot = currentSlot(job.schedule, settings, now);
      if (slot === null || this.#handled.get(job.name) === slot) continue;
      const result = await this.#runner.runSlot(job, slot);
      // Still running from before: ask again next tick, so the slot runs once that run is over.
      if (result !== 'running') this.#handled.set(job.name, slot);
    }
    await this.#runner.joinRunning();
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#ticking = this.tick()
        .catch((error: unknown) => this.#onError(error))
        .finally(() => {
          this.#ticking = null;
          this.#schedule(this.#tickMs);
        });
    }, delayMs);
    this.#timer.unref();
  }
}
