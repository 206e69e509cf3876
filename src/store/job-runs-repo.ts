// The job_runs and job_claims tables (migration 0006): starting a run (never two of one job at once), claiming a
// batch's transactions, heartbeats, counts, finishing, and reading the history (S3). The jobs (src/jobs/) call
// these; what a run means and how it is shown stays there.
import { type Kysely, sql } from 'kysely';
import { dueOn, type BatchJobName, type SelectionRule, selectDue } from './due-selections.js';
import type { Database, JobRunError, JobRunRow } from './schema.js';

type Db = Kysely<Database>;

/** At most this many errors are kept on a run (error_count has them all). */
export const MAX_RUN_ERRORS = 100;

export type StartResult = { started: JobRunRow } | { running: JobRunRow } | { slotTaken: true };

export interface RunCounts {
  picked: number;
  succeeded: number;
  failed: number;
  skipped: number;
  errors: JobRunError[];
}

/**
 * Inserts a running run of `job`, unless one is running already (the partial unique index decides between racing
 * workers) or, for a scheduled run, its slot has had its run. `id` is the new run's (unused when none starts).
 */
export async function startRun(
  db: Db,
  input: {
    id: string;
    job: string;
    trigger: JobRunRow['trigger'];
    slot: string | null;
    startedBy: string;
    now: Date;
    total: number | null;
  },
): Promise<StartResult> {
  for (let tries = 0; tries < 3; tries += 1) {
    const started = await db
      .insertInto('job_runs')
      .values({
        id: input.id,
        job: input.job,
        trigger: input.trigger,
        slot: input.slot,
        status: 'running',
        started_by: input.startedBy,
        started_at: input.now,
        heartbeat_at: input.now,
        total: input.total,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (started) return { started };
    const running = await db
      .selectFrom('job_runs')
      .selectAll()
      .where('job', '=', input.job)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (running) return { running };
    if (input.slot !== null) {
      const slot = await db
        .selectFrom('job_runs')
        .select('id')
        .where('job', '=', input.job)
        .where('slot', '=', input.slot)
        .executeTakeFirst();
      if (slot) return { slotTaken: true };
    }
    // The running one finished between the two statements: try again.
  }
  throw new Error(`could not start ${input.job}: its running run kept changing`);
}

/** Closes runs of `job` nobody has written a heartbeat for since `staleBefore` (their process died). */
export async function abandonStaleRuns(db: Db, job: string, staleBefore: Date, now: Date): Promise<number> {
  const result = await db
    .updateTable('job_runs')
    .set({
      status: 'abandoned',
      finished_at: now,
      summary: `No worker reported on this run since ${staleBefore.toISOString()}; it was closed so that the job can run again.`,
    })
    .where('job', '=', job)
    .where('status', '=', 'running')
    .where('heartbeat_at', '<', staleBefore)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export function runningRuns(db: Db, jobs: readonly string[]): Promise<JobRunRow[]> {
  if (jobs.length === 0) return Promise.resolve([]);
  return db.selectFrom('job_runs').selectAll().where('status', '=', 'running').where('job', 'in', jobs).execute();
}

/** The run is alive: its heartbeat, and this worker's claims in it, move on. */
export async function heartbeat(db: Db, runId: string, worker: string, now: Date, leaseMs: number): Promise<void> {
  await db
    .updateTable('job_runs')
    .set({ heartbeat_at: now })
    .where('id', '=', runId)
    .where('status', '=', 'running')
    .execute();
  await db
    .updateTable('job_claims')
    .set({ expires_at: new Date(now.getTime() + leaseMs) })
    .where('run_id', '=', runId)
    .where('worker', '=', worker)
    .where('state', '=', 'claimed')
    .execute();
}

/**
 * Claims up to `limit` transactions of the run's selection that this run has not processed and nobody holds:
 * `FOR UPDATE SKIP LOCKED` keeps racing workers off each other's rows while they claim, and the claim rows keep
 * them off afterwards, until they expire (a dead worker's) or are done. An expired claim is taken over.
 */
export async function claimBatch(
  db: Db,
  input: {
    runId: string;
    job: BatchJobName;
    rule: SelectionRule;
    worker: string;
    limit: number;
    now: Date;
    leaseMs: number;
  },
): Promise<string[]> {
  // Claims only into a running run, holding its row locked until they are committed. So:
  // - finishRunIfIdle, which locks the same row to close it, never closes a run between this check and the claims,
  //   and nothing is claimed into a run already closed (by a worker that found nothing left while this one slept);
  // - claims of one run are made one at a time, each seeing the ones before. Made at once, two claims select the
  //   same rows (same order; the claimed rows are left out as of the statement's snapshot), the row locks do not
  //   tell (the first claim may commit before the second reaches its rows), and the second gets none of them, which
  //   the worker takes for "nothing left" and stops (measured: 8 workers claiming 2 at a time over 300 charges were
  //   told so with 219 to 286 still unclaimed). A claim is one statement of a few milliseconds, a few a second.
  return db.transaction().execute(async (trx) => {
    const run = await trx
      .selectFrom('job_runs')
      .select('status')
      .where('id', '=', input.runId)
      .forNoKeyUpdate()
      .executeTakeFirst();
    if (run?.status !== 'running') return [];
    return insertClaims(trx, input);
  });
}

/** The claiming statement: due transactions not claimed in the run (or whose claim expired), locked, claimed. */
async function insertClaims(
  db: Db,
  input: {
    runId: string;
    job: BatchJobName;
    rule: SelectionRule;
    worker: string;
    limit: number;
    now: Date;
    leaseMs: number;
  },
): Promise<string[]> {
  const picked = selectDue(db, input.job, input.rule)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('job_claims as c')
            .select(sql`1`.as('one'))
            .where('c.run_id', '=', input.runId)
            .whereRef('c.transaction_id', '=', 't.id')
            .where((eb) => eb.or([eb('c.state', '=', 'done'), eb('c.expires_at', '>', input.now)])),
        ),
      ),
    )
    .orderBy(dueOn)
    .orderBy('t.id')
    .limit(input.limit)
    .forUpdate('t')
    .skipLocked();
  const expires = new Date(input.now.getTime() + input.leaseMs);
  const rows = await db
    .with('picked', () => picked)
    .insertInto('job_claims')
    .columns(['run_id', 'transaction_id', 'worker', 'state', 'expires_at'])
    .expression((eb) =>
      eb
        .selectFrom('picked')
        .select([
          sql.val(input.runId).as('run_id'),
          'picked.id',
          sql.val(input.worker).as('worker'),
          sql.val('claimed').as('state'),
          sql.val(expires).as('expires_at'),
        ]),
    )
    .onConflict((oc) =>
      oc
        .columns(['run_id', 'transaction_id'])
        .doUpdateSet({ worker: input.worker, expires_at: expires })
        .where('job_claims.state', '=', 'claimed')
        .where('job_claims.expires_at', '<=', input.now),
    )
    .returning('transaction_id')
    .execute();
  return rows.map((r) => r.transaction_id);
}

/** Gives back claims this worker took and did not start (it is stopping): others may take them at once. */
export async function releaseClaims(db: Db, runId: string, worker: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .deleteFrom('job_claims')
    .where('run_id', '=', runId)
    .where('worker', '=', worker)
    .where('state', '=', 'claimed')
    .where('transaction_id', 'in', ids)
    .execute();
}

/** Claims of the run still held by a live worker (not done, not expired). */
export async function liveClaims(db: Db, runId: string, now: Date): Promise<number> {
  const row = await db
    .selectFrom('job_claims')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('run_id', '=', runId)
    .where('state', '=', 'claimed')
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Adds counts (and errors, up to MAX_RUN_ERRORS kept) to a run, and marks the claims of the items they are about
 * done, in one statement.
 */
export async function recordProgress(
  db: Db,
  runId: string,
  counts: RunCounts,
  doneIds: readonly string[],
  now: Date,
): Promise<void> {
  // `= any(array(...))`: the ids become one array computed first, which the primary key (run_id, transaction_id)
  // looks up directly. Written `in (select ...)`, PostgreSQL joined the ids against every claim of the run (a scan
  // of 10,000 rows at the end of a 10,000-charge run, for each flush).
  const ids = sql`${JSON.stringify(doneIds)}::jsonb`;
  const errors = JSON.stringify(counts.errors);
  await sql`
    with done as (
      update job_claims set state = 'done'
      where run_id = ${runId} and transaction_id = any(array(select jsonb_array_elements_text(${ids})))
      returning 1
    )
    update job_runs set
      picked = picked + ${counts.picked},
      succeeded = succeeded + ${counts.succeeded},
      failed = failed + ${counts.failed},
      skipped = skipped + ${counts.skipped},
      error_count = error_count + ${counts.errors.length},
      errors = case when jsonb_array_length(errors) >= ${MAX_RUN_ERRORS} then errors
        else (select coalesce(jsonb_agg(e), '[]'::jsonb) from (
          select e from jsonb_array_elements(errors || ${errors}::jsonb) with ordinality as x(e, n) order by n limit ${MAX_RUN_ERRORS}) kept)
        end,
      heartbeat_at = greatest(heartbeat_at, ${now}::timestamptz)
    where id = ${runId} and (select count(*) from done) >= 0`.execute(db);
}

/**
 * Closes a batch run as succeeded if no live worker holds a claim in it, under the run's row lock (see claimBatch).
 * 'busy': claims are held (a worker is still at it, or a dead one's have not expired); 'closed': it was not running.
 */
export async function finishRunIfIdle(db: Db, runId: string, now: Date): Promise<'finished' | 'busy' | 'closed'> {
  return db.transaction().execute(async (trx) => {
    const run = await trx.selectFrom('job_runs').selectAll().where('id', '=', runId).forUpdate().executeTakeFirst();
    if (run?.status !== 'running') return 'closed';
    if ((await liveClaims(trx, runId, now)) > 0) return 'busy';
    const summary = `${run.succeeded} succeeded, ${run.failed} failed, ${run.skipped} skipped of ${run.picked} picked.`;
    return (await finishRun(trx, runId, 'succeeded', now, summary)) ? 'finished' : 'closed';
  });
}

/** Closes a running run; false when it was closed already (another worker finished it). */
export async function finishRun(
  db: Db,
  runId: string,
  status: 'succeeded' | 'failed',
  now: Date,
  summary: string | null,
): Promise<boolean> {
  const result = await db
    .updateTable('job_runs')
    .set({ status, finished_at: now, heartbeat_at: now, summary })
    .where('id', '=', runId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function findRun(db: Db, id: string): Promise<JobRunRow | undefined> {
  return db.selectFrom('job_runs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A page of the history, newest first (one more than `limit`, to tell whether more follow). */
export function listRunRows(
  db: Db,
  query: {
    job?: string | undefined;
    status?: JobRunRow['status'] | undefined;
    after?: string | undefined;
    limit: number;
  },
): Promise<JobRunRow[]> {
  return db
    .selectFrom('job_runs')
    .selectAll()
    .$if(query.job !== undefined, (q) => q.where('job', '=', query.job!))
    .$if(query.status !== undefined, (q) => q.where('status', '=', query.status!))
    .$if(query.after !== undefined, (q) => q.where('id', '<', query.after!))
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
}

/** The latest run of each job (for GET /v1/jobs). */
export async function lastRuns(db: Db): Promise<Map<string, JobRunRow>> {
  const rows = await db
    .selectFrom('job_runs')
    .selectAll()
    .distinctOn('job')
    .orderBy('job')
    .orderBy('id', 'desc')
    .execute();
  return new Map(rows.map((r) => [r.job, r]));
}

/** The latest schedule slot each job has had a run for (what the scheduler's next slot follows). */
export async function lastScheduledSlots(db: Db): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('job_runs')
    .select(['job', 'slot'])
    .distinctOn('job')
    .where('trigger', '=', 'schedule')
    .where('slot', 'is not', null)
    .orderBy('job')
    .orderBy('id', 'desc')
    .execute();
  return new Map(rows.map((r) => [r.job, r.slot!]));
}

/** Finished housekeeping runs that found nothing to do, older than `before`, are deleted (they only say "nothing"). */
export async function pruneEmptyRuns(db: Db, jobs: readonly string[], before: Date): Promise<number> {
  if (jobs.length === 0) return 0;
  const result = await db
    .deleteFrom('job_runs')
    .where('job', 'in', jobs)
    .where('status', '=', 'succeeded')
    .where('picked', '=', 0)
    .where('error_count', '=', 0)
    .where('started_at', '<', before)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
