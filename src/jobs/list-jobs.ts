// GET /v1/jobs: each job with its schedule, when it runs next and its latest run.
import type { Deps } from '../app/deps.js';
import { JOBS, type JobSchedule } from './definitions.js';
import { type JobRunView, lastRuns, lastScheduledSlots, presentRun } from './job-runs.js';
import { nextRunAt } from './scheduler.js';

export interface JobView {
  name: string;
  object: 'job';
  kind: 'batch' | 'task';
  description: string;
  schedule: string;
  next_run_at: string;
  last_run: JobRunView | null;
}

function describe(schedule: JobSchedule, timezone: string, at: string): string {
  return schedule.kind === 'daily'
    ? `daily at ${at} ${timezone} (settings daily_jobs_at, timezone)`
    : `every ${schedule.seconds} s`;
}

export async function listJobs(deps: Deps): Promise<{ object: 'list'; data: JobView[] }> {
  const settings = await deps.settings.get();
  const now = deps.clock.now();
  const last = await lastRuns(deps.db);
  const slots = await lastScheduledSlots(deps.db);
  const data = JOBS.map((job): JobView => {
    const run = last.get(job.name) ?? null;
    const lastSlot = slots.get(job.name) ?? null;
    return {
      name: job.name,
      object: 'job',
      kind: job.kind,
      description: job.description,
      schedule: describe(job.schedule, settings.timezone, settings.daily_jobs_at),
      next_run_at: nextRunAt(job.schedule, settings, now, lastSlot).toISOString(),
      last_run: run ? presentRun(run) : null,
    };
  });
  return { object: 'list', data };
}
