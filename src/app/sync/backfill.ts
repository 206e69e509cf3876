// Carries out one backfill run (W6): each object type in order, a page at a time. A page is read from the gateway
// (through the gateway's adapter, so every request takes its turn of the gateway's rate limit), then applied in one
// database transaction that also writes the type's cursor (the id of the page's last object) and counts. Stripe's
// lists are newest first and `starting_after` a committed cursor gives the rest of the list whatever was created
// since (new objects sort before it), so a run whose process died resumes after its last committed page: nothing is
// missed, and nothing is applied twice (were a page applied twice, the apply functions are idempotent anyway).
import { GATEWAY_OBJECT_CONSTRAINTS, isViolationOf } from '../../store/constraint-errors.js';
import { findGateway } from '../../store/gateway-records-repo.js';
import type { SyncObjectProgress, SyncProgress, SyncRunRow } from '../../store/schema.js';
import { finishSyncRun, saveSyncProgress } from '../../store/sync-runs-repo.js';
import { type Deps, today } from '../deps.js';
import { ApplyFailed, type SyncContext } from '../webhooks/sync-context.js';
import { type FetchedPage, IMPORTERS } from './importers.js';
import type { SyncObject } from './sync-input.js';

export interface BackfillOptions {
  worker: string;
  /** Objects per gateway list request (Stripe: 1 to 100). */
  pageSize: number;
  /** Checked before each page: true stops the run here (it stays running, for this or another process to resume). */
  stopping: () => boolean;
  /** Waits between tries of a gateway read that failed and may work later. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Called after each committed page. TEST ONLY: the crash test (test/sync/) pauses here to kill the process
   * between two pages; serve and the CLI never set it.
   */
  afterPage?: (run: string, object: SyncObject, pages: number) => Promise<void>;
}

/** The run is no longer this worker's (another took it over after its lease lapsed, or it was ended). */
export class SyncLeaseLost extends Error {}

/** Tries of a gateway read that failed and may work later (unreachable, rate limited), 1 s, 2 s, 4 s ... apart. */
const READ_TRIES = 6;
/** Tries of a page's commit that lost a race to record a gateway object (the webhook processor got there first). */
const APPLY_TRIES = 3;

export const emptyProgress = (): SyncObjectProgress => ({
  after: null,
  done: false,
  read: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  skipped: 0,
  last_skip: null,
});

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `run` to its end from its committed cursors: 'completed', or 'stopped' when asked to stop first. */
export async function runBackfill(
  deps: Deps,
  run: SyncRunRow,
  options: BackfillOptions,
): Promise<'completed' | 'stopped'> {
  const gatewayRow = await findGateway(deps.db, run.gateway_id);
  if (!gatewayRow) throw new ApplyFailed(`Gateway ${run.gateway_id} no longer exists.`, false);
  const gateway = deps.gateways.forRecord(gatewayRow);
  const sleep = options.sleep ?? defaultSleep;
  const range = { gte: new Date(run.since), ...(run.until === null ? {} : { lt: new Date(run.until) }) };
  const progress: SyncProgress = structuredClone(run.progress);
  let pages = run.pages;
  for (const object of run.objects as SyncObject[]) {
    let entry = progress[object] ?? emptyProgress();
    while (!entry.done) {
      if (options.stopping()) return 'stopped';
      const sync: SyncContext = {
        deps,
        gatewayRow,
        gateway,
        actor: `sync:${run.id}`,
        now: deps.clock.now(),
        day: await today(deps),
        eventTypes: new Set(),
        source: 'sync',
      };
      const fetched = await readPage(
        () => IMPORTERS[object]({ sync, range, pageSize: options.pageSize }, entry.after),
        sleep,
      );
      entry = await commitPage(deps, run.id, options.worker, progress, object, entry, fetched);
      progress[object] = entry;
      pages += 1;
      await options.afterPage?.(run.id, object, pages);
    }
  }
  const ended = await finishSyncRun(deps.db, {
    id: run.id,
    status: 'completed',
    error: null,
    now: deps.clock.now(),
    worker: options.worker,
  });
  if (!ended) throw new SyncLeaseLost(`sync ${run.id} was taken over or ended before it completed here`);
  return 'completed';
}

async function readPage(read: () => Promise<FetchedPage>, sleep: (ms: number) => Promise<void>): Promise<FetchedPage> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof ApplyFailed) || !error.retryable || attempt >= READ_TRIES) throw error;
      await sleep(1000 * 2 ** (attempt - 1));
    }
  }
}

/** Applies the page and writes the type's new cursor and counts in one commit; the type's progress after it. */
async function commitPage(
  deps: Deps,
  runId: string,
  worker: string,
  progress: SyncProgress,
  object: SyncObject,
  entry: SyncObjectProgress,
  fetched: FetchedPage,
): Promise<SyncObjectProgress> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await deps.db.transaction().execute(async (trx) => {
        const counts = await fetched.apply(trx);
        const next: SyncObjectProgress = {
          after: fetched.lastId ?? entry.after,
          done: !fetched.hasMore || fetched.lastId === null,
          read: entry.read + fetched.read,
          created: entry.created + counts.created,
          updated: entry.updated + counts.updated,
          unchanged: entry.unchanged + counts.unchanged,
          skipped: entry.skipped + counts.skipped,
          last_skip: counts.lastSkip ?? entry.last_skip,
        };
        const saved = await saveSyncProgress(trx, {
          id: runId,
          worker,
          progress: { ...progress, [object]: next },
          now: deps.clock.now(),
        });
        if (!saved)
          throw new SyncLeaseLost(`sync ${runId} is no longer carried by ${worker}; this page is not written`);
        return next;
      });
    } catch (error) {
      // The webhook processor recorded one of these objects at the same moment: the page is applied again on top.
      if (attempt < APPLY_TRIES && isViolationOf(error, GATEWAY_OBJECT_CONSTRAINTS)) continue;
      throw error;
    }
  }
}
