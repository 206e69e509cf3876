// S3/S4: running jobs (API), never two runs of a job at once, the history, the scheduler's slots with a fake clock,
// claims that expire, and a run taken over after its worker died.
import { expect, it } from 'vitest';
import type { Deps } from '../../src/app/deps.js';
import pg from 'pg';
import { claimBatch, finishRun, finishRunIfIdle, startRun } from '../../src/jobs/job-runs.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { JobScheduler } from '../../src/jobs/scheduler.js';
import { describeEachDatabase } from '../support/harness.js';
import { seedDueCharges } from './workers-support.js';
import { charge, expectStatus, getTrx, paymentMethod, runJob, waitForRun } from './support.js';

async function noRunRunning(deps: Deps): Promise<void> {
  for (let i = 0; i < 1500; i += 1) {
    const running = await deps.db.selectFrom('job_runs').select('id').where('status', '=', 'running').execute();
    if (running.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('runs still running');
}

describeEachDatabase(
  'jobs API and scheduler',
  (get, kind) => {
    it('S3: GET /v1/jobs lists every job with its schedule, next run and last run', async () => {
      const h = get();
      const res = await h.request('GET', '/v1/jobs');
      expectStatus(res, 200);
      expect(res.body.data.map((j: any) => j.name)).toEqual([
        'daily_charges',
        'capture_authorized',
        'scheduled_refunds',
        'transfers',
        'payouts',
        'reattempts',
        'recover',
        'webhook_inbox',
        'webhook_cleanup',
        'payout_reconciliation',
        'balances',
        'totals_check',
        'payment_schedules',
        'invoices_past_due',
      ]);
      const daily = res.body.data[0];
      expect(daily).toMatchObject({
        kind: 'batch',
        schedule: expect.stringContaining('daily at 06:00 UTC'),
        last_run: null,
      });
      // 12:00 UTC, never run today: due now.
      expect(daily.next_run_at).toBe('2026-11-24T12:00:00.000Z');
      expect(res.body.data.find((j: any) => j.name === 'recover')).toMatchObject({
        kind: 'task',
        schedule: 'every 60 s',
      });
    });

    it('S3: bad input and the wrong scope are refused and start nothing', async () => {
      const h = get();
      const unknown = await h.request('POST', '/v1/jobs/charge_everyone/run');
      expectStatus(unknown, 404);
      expect(unknown.body.error.message).toBe(
        "No job named 'charge_everyone'. Jobs: daily_charges, capture_authorized, scheduled_refunds, transfers, payouts, reattempts, recover, webhook_inbox, webhook_cleanup, payout_reconciliation, balances, totals_check, payment_schedules, invoices_past_due.",
      );
      // The run takes no fields: one sent is a mistake (an option this version does not have), not to be ignored.
      const withField = await h.request('POST', '/v1/jobs/daily_charges/run', { due_today_only: true });
      expectStatus(withField, 400);
      expect(withField.body.error).toMatchObject({ code: 'parameter_unknown', param: 'due_today_only' });
      const reader = await h.keyWith(['read']);
      expectStatus(await h.request('POST', '/v1/jobs/recover/run', undefined, {}, reader), 403);
      expectStatus(await h.request('GET', '/v1/job-runs?job=nope'), 400);
      expectStatus(await h.request('GET', '/v1/job-runs?status=sleeping'), 400);
      expectStatus(await h.request('GET', '/v1/job-runs?limit=0'), 400);
      expectStatus(await h.request('GET', '/v1/job-runs/jrun_missing'), 404);
      expect((await h.request('GET', '/v1/job-runs')).body.data).toEqual([]);
    });

    it('S3: a job already running is not started twice (409, naming the run), and starts again once it is over', async () => {
      const h = get();
      const now = h.clock.now();
      const held = await startRun(h.deps.db, {
        job: 'capture_authorized',
        trigger: 'schedule',
        slot: null,
        startedBy: 'elsewhere',
        now,
        total: 0,
      });
      if (!('started' in held)) throw new Error('not started');
      const refused = await h.request('POST', '/v1/jobs/capture_authorized/run');
      expectStatus(refused, 409);
      expect(refused.body.error).toMatchObject({ code: 'job_already_running' });
      expect(refused.body.error.message).toContain(held.started.id);
      // Another worker joins the run (as every worker's scheduler does) and finishes it: nothing is due.
      const runner = new JobRunner(h.deps, { worker: 'test-joiner', pollMs: 10 });
      await runner.joinRunning();
      await runner.finished(held.started.id);
      expect((await h.request('GET', `/v1/job-runs/${held.started.id}`)).body).toMatchObject({
        status: 'succeeded',
        picked: 0,
      });
      const again = await runJob(h, 'capture_authorized');
      expect(again.status).toBe('succeeded');
    });

    it('S3: concurrent run requests never overlap: runs of one job follow each other', async () => {
      const h = get();
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => h.request('POST', '/v1/jobs/webhook_cleanup/run')),
      );
      for (const a of answers) expect([202, 409]).toContain(a.status);
      expect(answers.filter((a) => a.status === 202).length).toBeGreaterThanOrEqual(1);
      await noRunRunning(h.deps);
      const runs = (await h.request('GET', '/v1/job-runs?job=webhook_cleanup&limit=200')).body.data as any[];
      const spans = runs
        .map((r) => [Date.parse(r.started_at), Date.parse(r.finished_at)] as const)
        .sort((a, b) => a[0] - b[0]);
      // Fake clock: every run starts and ends at the same instant; runs did not overlap if each ended before the
      // next was inserted, which the one-running index guarantees. Check what it leaves: no run still running, and
      // every 202 named a different run.
      const ids = answers.filter((a) => a.status === 202).map((a) => a.body.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(spans.length).toBe(ids.length);
    });

    it('S3: a task run whose worker died (no heartbeat for a lease) is closed as abandoned when the job is started again', async () => {
      const h = get();
      const old = new Date(h.clock.now().getTime() - 10 * 60_000);
      const dead = await startRun(h.deps.db, {
        job: 'recover',
        trigger: 'schedule',
        slot: null,
        startedBy: 'dead-worker',
        now: old,
        total: null,
      });
      if (!('started' in dead)) throw new Error('not started');
      const run = await runJob(h, 'recover');
      expect(run.status).toBe('succeeded');
      expect((await h.request('GET', `/v1/job-runs/${dead.started.id}`)).body).toMatchObject({
        status: 'abandoned',
        finished_at: expect.any(String),
      });
    });

    it('S3: the scheduler starts each daily job once per day at daily_jobs_at, whichever worker ticks first', async () => {
      const h = get();
      h.clock.set('2026-11-25T05:59:00Z');
      const a = new JobRunner(h.deps, { worker: 'worker-a', pollMs: 10 });
      const b = new JobRunner(h.deps, { worker: 'worker-b', pollMs: 10 });
      const schedulerA = new JobScheduler(h.deps, a);
      const schedulerB = new JobScheduler(h.deps, b);
      const dailyRuns = async (slot: string) =>
        h.deps.db
          .selectFrom('job_runs')
          .select(['job', 'started_by'])
          .where('slot', '=', slot)
          .where('trigger', '=', 'schedule')
          .orderBy('job')
          .execute();
      await schedulerA.tick();
      await noRunRunning(h.deps);
      expect(await dailyRuns('2026-11-25')).toEqual([]);
      h.clock.set('2026-11-25T06:00:00Z');
      await Promise.all([schedulerA.tick(), schedulerB.tick()]);
      await noRunRunning(h.deps);
      await Promise.all([schedulerA.tick(), schedulerB.tick()]);
      await noRunRunning(h.deps);
      const today = await dailyRuns('2026-11-25');
      expect(today.map((r) => r.job)).toEqual([
        'balances',
        'capture_authorized',
        'daily_charges',
        'invoices_past_due',
        'payment_schedules',
        'payouts',
        'scheduled_refunds',
        'totals_check',
        'transfers',
        'webhook_cleanup',
      ]);
      h.clock.set('2026-11-26T07:30:00Z');
      await schedulerB.tick();
      await noRunRunning(h.deps);
      expect((await dailyRuns('2026-11-26')).map((r) => r.job)).toEqual([
        'balances',
        'capture_authorized',
        'daily_charges',
        'invoices_past_due',
        'payment_schedules',
        'payouts',
        'scheduled_refunds',
        'totals_check',
        'transfers',
        'webhook_cleanup',
      ]);
      // Interval jobs: one run per slot as well.
      const recoverSlots = await h.deps.db
        .selectFrom('job_runs')
        .select(['slot'])
        .where('job', '=', 'recover')
        .where('trigger', '=', 'schedule')
        .execute();
      expect(new Set(recoverSlots.map((r) => r.slot)).size).toBe(recoverSlots.length);
      // A run now does not move the schedule: GET /v1/jobs still counts from the last scheduled slot.
      await runJob(h, 'daily_charges');
      const listed = (await h.request('GET', '/v1/jobs')).body.data.find((j: any) => j.name === 'daily_charges');
      expect(listed.next_run_at).toBe('2026-11-27T06:00:00.000Z');
      expect(listed.last_run.trigger).toBe('api');
      await a.stop();
      await b.stop();
      h.clock.set('2026-11-24T12:00:00Z');
    });

    it('S4: claims keep workers off each other; an expired claim (dead worker) is taken over; a done item is never picked again', async () => {
      const h = get();
      const visa = await paymentMethod(h);
      const due = [];
      for (let i = 0; i < 5; i += 1)
        due.push((await charge(h, { payment_method_id: visa, due_date: '2026-11-20', amount: 3000 + i })).id);
      const now = h.clock.now();
      const started = await startRun(h.deps.db, {
        job: 'daily_charges',
        trigger: 'api',
        slot: null,
        startedBy: 'test',
        now,
        total: 5,
      });
      if (!('started' in started)) throw new Error('not started');
      const runId = started.started.id;
      const rule = { day: '2026-11-24', dueTodayOnly: false, now };
      const claim = (worker: string, limit: number, at: Date) =>
        claimBatch(h.deps.db, { runId, job: 'daily_charges', rule, worker, limit, now: at, leaseMs: 60_000 });
      const [byA, byB] = await Promise.all([claim('dead', 2, now), claim('b', 2, now)]);
      expect(byA).toHaveLength(2);
      expect(byB).toHaveLength(2);
      expect(new Set([...byA, ...byB]).size).toBe(4);
      expect(await claim('c', 10, now)).toHaveLength(1);
      expect(await claim('c', 10, now)).toEqual([]);
      // A minute later the dead worker's claims have expired (b and c renew theirs by heartbeat; here they are done).
      await h.deps.db.updateTable('job_claims').set({ state: 'done' }).where('worker', 'in', ['b', 'c']).execute();
      const later = new Date(now.getTime() + 60_000);
      expect((await claim('d', 10, later)).sort()).toEqual([...byA].sort());
      expect(await claim('e', 10, later)).toEqual([]); // d holds them now
      // A new worker joins the run, finds d's claims expired, processes them, and closes the run.
      await h.deps.db
        .updateTable('job_claims')
        .set({ expires_at: new Date(now.getTime() - 1) })
        .where('worker', 'in', ['d', 'e'])
        .execute();
      const runner = new JobRunner(h.deps, { worker: 'rescuer', pollMs: 10 });
      await runner.joinRunning();
      await runner.finished(runId);
      const run = await waitForRun(h, runId);
      expect(run).toMatchObject({ status: 'succeeded', picked: 2, succeeded: 2 });
      for (const id of byA) expect((await getTrx(h, id)).status).toBe('completed');
      for (const id of [...byB]) expect((await getTrx(h, id)).status).toBe('open'); // marked done by hand above: never picked again
    });

    it('S4: nothing is claimed into a closed run, and a run is closed only when no live claim is left in it', async () => {
      const h = get();
      const visa = await paymentMethod(h);
      const now = h.clock.now();
      const started = await startRun(h.deps.db, {
        job: 'daily_charges',
        trigger: 'api',
        slot: null,
        startedBy: 'test',
        now,
        total: 0,
      });
      if (!('started' in started)) throw new Error('not started');
      const runId = started.started.id;
      const rule = { day: '2026-11-24', dueTodayOnly: false, now };
      const claim = () =>
        claimBatch(h.deps.db, { runId, job: 'daily_charges', rule, worker: 'w', limit: 10, now, leaseMs: 60_000 });
      // Only this test's charges are due (the tests above leave some open).
      await h.deps.db.updateTable('transactions').set({ status: 'canceled' }).where('status', '=', 'open').execute();
      // A charge due now, claimed: the run is busy until the claim is done.
      const first = (await charge(h, { payment_method_id: visa, due_date: '2026-11-20', amount: 3100 })).id;
      expect(await claim()).toEqual([first]);
      expect(await finishRunIfIdle(h.deps.db, runId, now)).toBe('busy');
      await h.deps.db.updateTable('job_claims').set({ state: 'done' }).where('run_id', '=', runId).execute();
      expect(await finishRunIfIdle(h.deps.db, runId, now)).toBe('finished');
      expect(await finishRunIfIdle(h.deps.db, runId, now)).toBe('closed');
      // A charge that falls due after the run closed waits for the next run: a worker looking again claims nothing.
      const late = (await charge(h, { payment_method_id: visa, due_date: '2026-11-20', amount: 3200 })).id;
      expect(await claim()).toEqual([]);
      expect(
        await h.deps.db.selectFrom('job_claims').select('transaction_id').where('run_id', '=', runId).execute(),
      ).toEqual([{ transaction_id: first }]);
      await h.deps.db
        .updateTable('transactions')
        .set({ status: 'canceled' })
        .where('id', 'in', [first, late])
        .execute();
    });

    it.skipIf(kind !== 'postgres')(
      'S4: workers claiming at once share out every due charge; none mistakes "claimed by another meanwhile" for "nothing left" (PostgreSQL)',
      async () => {
        const h = get();
        await h.deps.db.updateTable('transactions').set({ status: 'canceled' }).where('status', '=', 'open').execute();
        const seeded = await seedDueCharges(h.deps, 300, 'test:claims');
        const now = h.clock.now();
        const started = await startRun(h.deps.db, {
          job: 'daily_charges',
          trigger: 'api',
          slot: null,
          startedBy: 'test',
          now,
          total: 300,
        });
        if (!('started' in started)) throw new Error('not started');
        const runId = started.started.id;
        const rule = { day: seeded.day, dueTodayOnly: false, now };
        // Eight workers, each claiming 2 at a time until it is told nothing is left: they select the same rows at once.
        // Nothing is ever unclaimed here, so charges still unclaimed after a worker was told "nothing left" were
        // unclaimed when it was told so.
        const unclaimed = async () =>
          Number(
            (
              await h.deps.db
                .selectFrom('transactions as t')
                .select((eb) => eb.fn.countAll<string>().as('n'))
                .where('t.id', 'in', seeded.ids)
                .where(({ not, exists, selectFrom }) =>
                  not(
                    exists(
                      selectFrom('job_claims as c')
                        .select('c.run_id')
                        .where('c.run_id', '=', runId)
                        .whereRef('c.transaction_id', '=', 't.id'),
                    ),
                  ),
                )
                .executeTakeFirstOrThrow()
            ).n,
          );
        const toldNothingLeft: number[] = [];
        const claimer = async (worker: string): Promise<string[]> => {
          const mine: string[] = [];
          for (;;) {
            const ids = await claimBatch(h.deps.db, {
              runId,
              job: 'daily_charges',
              rule,
              worker,
              limit: 2,
              now,
              leaseMs: 60_000,
            });
            if (ids.length === 0) {
              toldNothingLeft.push(await unclaimed());
              return mine;
            }
            mine.push(...ids);
          }
        };
        const all = (await Promise.all(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map(claimer))).flat();
        expect(new Set(all).size).toBe(all.length);
        expect(all.length).toBe(300);
        expect(toldNothingLeft, 'charges still unclaimed when each worker was told nothing was left').toEqual([
          0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        await finishRun(h.deps.db, runId, 'succeeded', now, null);
        await h.deps.db.updateTable('transactions').set({ status: 'canceled' }).where('id', 'in', seeded.ids).execute();
      },
    );

    it.skipIf(kind !== 'postgres')(
      'S4: closing waits for a claim being committed, then finds the run busy (PostgreSQL)',
      async () => {
        const h = get();
        const now = h.clock.now();
        const started = await startRun(h.deps.db, {
          job: 'capture_authorized',
          trigger: 'api',
          slot: null,
          startedBy: 'test',
          now,
          total: 0,
        });
        if (!('started' in started)) throw new Error('not started');
        const runId = started.started.id;
        const visa = await paymentMethod(h);
        const id = (await charge(h, { payment_method_id: visa, due_date: '2026-11-20', amount: 3300 })).id;
        // A claim under way on another connection, as claimBatch makes it: the run's row locked, the claim
        // inserted, not yet committed.
        const other = new pg.Client({ connectionString: h.testDb.url });
        await other.connect();
        try {
          await other.query('BEGIN');
          await other.query(`SELECT status FROM job_runs WHERE id = $1 FOR NO KEY UPDATE`, [runId]);
          await other.query(
            `INSERT INTO job_claims (run_id, transaction_id, worker, state, expires_at) VALUES ($1, $2, 'w', 'claimed', $3)`,
            [runId, id, new Date(now.getTime() + 60_000)],
          );
          let settled = false;
          const closing = finishRunIfIdle(h.deps.db, runId, now).finally(() => {
            settled = true;
          });
          await new Promise((resolve) => setTimeout(resolve, 300));
          expect(settled, 'closing did not wait for the claim').toBe(false);
          await other.query('COMMIT');
          expect(await closing).toBe('busy');
        } finally {
          await other.end();
        }
        await finishRun(h.deps.db, runId, 'succeeded', now, null);
        await h.deps.db.updateTable('transactions').set({ status: 'canceled' }).where('id', '=', id).execute();
      },
    );
  },
  { emulator: true },
);
