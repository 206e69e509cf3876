// Job runs (S3): starting one, what this process is called in them, and how a run is shown. The job_runs and
// job_claims tables are read and written by the store (store/job-runs-repo.ts); its functions are re-exported
// here for the runner, the batch workers, the API and the CLI.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import {
  findRun,
  listRunRows,
  type RunCounts,
  type StartResult,
  startRun as insertRun,
} from '../store/job-runs-repo.js';
import type { Db, JobRunError, JobRunRow } from '../store/schema.js';
import { newId } from '../app/ids.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from '../app/pagination.js';

export {
  abandonStaleRuns,
  claimBatch,
  finishRun,
  finishRunIfIdle,
  findRun,
  heartbeat,
  lastRuns,
  lastScheduledSlots,
  pruneEmptyRuns,
  recordProgress,
  releaseClaims,
  type RunCounts,
  runningRuns,
  type StartResult,
} from '../store/job-runs-repo.js';

/** This process's name in job_runs.started_by and job_claims.worker. */
export const WORKER_ID = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/**
 * Inserts a running run of `job`, unless one is running already (the partial unique index decides between racing
 * workers) or, for a scheduled run, its slot has had its run.
 */
export function startRun(
  db: Db,
  input: {
    job: string;
    trigger: JobRunRow['trigger'];
    slot: string | null;
    startedBy: string;
    now: Date;
    total: number | null;
  },
): Promise<StartResult> {
  return insertRun(db, { ...input, id: newId('job_run', input.now.getTime()) });
}

export function emptyCounts(): RunCounts {
  return { picked: 0, succeeded: 0, failed: 0, skipped: 0, errors: [] };
}

export interface JobRunView {
  id: string;
  object: 'job_run';
  job: string;
  trigger: JobRunRow['trigger'];
  slot: string | null;
  status: JobRunRow['status'];
  started_by: string;
  started_at: string;
  heartbeat_at: string;
  finished_at: string | null;
  total: number | null;
  picked: number;
  succeeded: number;
  failed: number;
  skipped: number;
  error_count: number;
  errors: JobRunError[];
  summary: string | null;
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function presentRun(row: JobRunRow): JobRunView {
  return {
    id: row.id,
    object: 'job_run',
    job: row.job,
    trigger: row.trigger,
    slot: row.slot,
    status: row.status,
    started_by: row.started_by,
    started_at: iso(row.started_at)!,
    heartbeat_at: iso(row.heartbeat_at)!,
    finished_at: iso(row.finished_at),
    total: row.total,
    picked: row.picked,
    succeeded: row.succeeded,
    failed: row.failed,
    skipped: row.skipped,
    error_count: row.error_count,
    errors: row.errors,
    summary: row.summary,
  };
}

export async function getRun(db: Db, id: string): Promise<JobRunView> {
  const row = await findRun(db, id);
  if (!row) throw new NotFoundError('job run', id);
  return presentRun(row);
}

const RUN_STATUSES: readonly string[] = ['running', 'succeeded', 'failed', 'abandoned'];

/** The history, newest first; filters job and status; cursor `starting_after` (a run id). */
export async function listRuns(
  db: Db,
  query: {
    job?: string | undefined;
    status?: string | undefined;
    limit?: number | undefined;
    starting_after?: string | undefined;
  },
  jobs: readonly string[],
): Promise<Page<JobRunView>> {
  const limit = parseLimit(query.limit);
  const after = cursorAfter(query.starting_after, 'job_run');
  if (query.job !== undefined && !jobs.includes(query.job)) {
    throw new ValidationError('invalid_job', `'job' must be one of: ${jobs.join(', ')}.`, 'job');
  }
  if (query.status !== undefined && !RUN_STATUSES.includes(query.status)) {
    throw new ValidationError('invalid_status', `'status' must be one of: ${RUN_STATUSES.join(', ')}.`, 'status');
  }
  const rows = await listRunRows(db, {
    job: query.job,
    status: query.status as JobRunRow['status'] | undefined,
    after,
    limit,
  });
  return pageOf(rows, limit, presentRun, byId);
}
