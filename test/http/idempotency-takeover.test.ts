// An Idempotency-Key whose request died while its work ran (the key left `running`, no response stored) is taken
// over by a retry with the same key once the claim counts as abandoned (command-runner.ts: older than
// RUNNING_KEY_ABANDONED_MS, and no gateway attempt of its own waiting to answer it); before that the retry is
// refused as in use. Driven through POST /v1/jobs/{name}/run, which holds its key `running` while the work runs
// (http/keyed-work.ts). The dead request is its first request's key row put back to what a process killed during
// the work leaves: `running`, no response, dated `age` ago.
import { expect, it } from 'vitest';
import { RUNNING_KEY_ABANDONED_MS } from '../../src/app/command-runner.js';
import { expectStatus, waitForRun } from '../jobs/support.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';

const JOB = 'recover';
const MINUTE = 60_000;

const runNow = (h: Harness, key: string) =>
  h.request('POST', `/v1/jobs/${JOB}/run`, undefined, { 'idempotency-key': key });

const keyRow = (h: Harness, key: string) =>
  h.deps.db
    .selectFrom('idempotency_keys')
    .select(['state', 'response_status'])
    .where('key', '=', key)
    .executeTakeFirstOrThrow();

async function runsOfJob(h: Harness): Promise<string[]> {
  return (await h.deps.db.selectFrom('job_runs').select('id').where('job', '=', JOB).execute()).map((r) => r.id).sort();
}

/** A key as its request left it when the process died during the work, `ageMs` ago (the abandonment rule reads real time). */
async function leaveRunning(h: Harness, key: string, ageMs: number): Promise<string> {
  const first = await runNow(h, key);
  expectStatus(first, 202);
  await waitForRun(h, first.body.id);
  await h.deps.db
    .updateTable('idempotency_keys')
    .set({ state: 'running', response_status: null, response_body: null, created_at: new Date(Date.now() - ageMs) })
    .where('key', '=', key)
    .execute();
  return first.body.id;
}

describeEachDatabase('an abandoned Idempotency-Key is taken over', (get) => {
  it('a key left running past the abandonment time, with no gateway call waiting, is taken over by the retry: the work runs again, once, and its answer is stored', async () => {
    const h = get();
    const firstRun = await leaveRunning(h, 'k-takeover-abandoned', RUNNING_KEY_ABANDONED_MS + MINUTE);
    const before = await runsOfJob(h);

    const retry = await runNow(h, 'k-takeover-abandoned');
    expectStatus(retry, 202);
    expect(retry.headers['idempotency-replayed']).not.toBe('true');
    expect(retry.body.id).not.toBe(firstRun);
    await waitForRun(h, retry.body.id);
    expect(await keyRow(h, 'k-takeover-abandoned')).toEqual({ state: 'done', response_status: 202 });

    // The key is the retry's now: one more replays its answer and runs nothing.
    const again = await runNow(h, 'k-takeover-abandoned');
    expectStatus(again, 202);
    expect(again.headers['idempotency-replayed']).toBe('true');
    expect(again.body.id).toBe(retry.body.id);
    expect(await runsOfJob(h)).toEqual([...before, retry.body.id].sort());
  });

  it('a key left running for less than the abandonment time is refused as in use, and nothing runs', async () => {
    const h = get();
    await leaveRunning(h, 'k-takeover-young', RUNNING_KEY_ABANDONED_MS - MINUTE);
    const before = await runsOfJob(h);

    const retry = await runNow(h, 'k-takeover-young');
    expectStatus(retry, 409);
    expect(retry.body.error.code).toBe('idempotency_key_in_use');
    expect(await runsOfJob(h)).toEqual(before);
    expect(await keyRow(h, 'k-takeover-young')).toEqual({ state: 'running', response_status: null });
  });
});
