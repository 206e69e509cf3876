// One worker's part in a run of a batch job (S4, X2): claim a few due transactions, process them with bounded
// concurrency, record the counts and mark the claims done, claim more, until nothing is left. Every worker that
// sees the run running takes part the same way, so the work spreads over all of them; the database decides who
// gets what (job-runs.ts claimBatch). A worker that dies leaves claims that expire and are taken over, and calls in
// flight that the recover job resolves; nothing is ever charged twice, because each action is still the
// exactly-once driver's compare-and-set on the row.
//
// The gateway's rate limit is applied where requests leave (the adapter's limiter, shared by every process on
// PostgreSQL), so the concurrency here only needs to be enough to keep that limit busy.
import type { Deps } from '../app/deps.js';
import { dateInZone } from '../app/clock.js';
import type { BatchJob, ItemResult } from './definitions.js';
import { dueRuleFor } from './definitions.js';
import {
  claimBatch,
  emptyCounts,
  finishRunIfIdle,
  heartbeat,
  recordProgress,
  releaseClaims,
  type RunCounts,
} from './job-runs.js';
import type { JobRunRow } from '../store/schema.js';

export interface BatchOptions {
  worker: string;
  /** Items processed at once by this worker. */
  concurrency: number;
  /** How long a claim holds without a heartbeat. */
  leaseMs: number;
  /** Wait between looks when other workers still hold claims. */
  pollMs: number;
  /** True once the worker is stopping: no more claims; items under way finish. */
  stopping: () => boolean;
  sleep?: (ms: number) => Promise<void>;
}

const FLUSH_EVERY = 50;
const FLUSH_MS = 500;
const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class Progress {
  counts: RunCounts = emptyCounts();
  done: string[] = [];
  lastFlush = Date.now();

  add(id: string, result: ItemResult): void {
    this.done.push(id);
    this.counts.picked += 1;
    this.counts[result.outcome] += 1;
    if (result.error) this.counts.errors.push(result.error);
  }

  due(): boolean {
    return this.done.length >= FLUSH_EVERY || (this.done.length > 0 && Date.now() - this.lastFlush >= FLUSH_MS);
  }

  take(): { counts: RunCounts; done: string[] } {
    const taken = { counts: this.counts, done: this.done };
    this.counts = emptyCounts();
    this.done = [];
    this.lastFlush = Date.now();
    return taken;
  }
}

/**
 * Takes part in `run` until it has nothing left for this worker; closes the run when nobody holds claims in it any
 * more. Returns whether this worker closed it.
 */
export async function takePart(deps: Deps, job: BatchJob, run: JobRunRow, options: BatchOptions): Promise<boolean> {
  const sleep = options.sleep ?? realSleep;
  const ctx = { actor: `job:${job.name}:${run.id}` };
  const progress = new Progress();
  let flushing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (progress.done.length === 0) return flushing;
    const { counts, done } = progress.take();
    flushing = flushing.then(() => recordProgress(deps.db, run.id, counts, done, deps.clock.now()));
    return flushing;
  };
  const beat = setInterval(
    () => {
      void heartbeat(deps.db, run.id, options.worker, deps.clock.now(), options.leaseMs).catch(() => undefined);
    },
    Math.max(200, Math.floor(options.leaseMs / 3)),
  );
  beat.unref();
  try {
    for (;;) {
      const settings = await deps.settings.get();
      const now = deps.clock.now();
      const rule = { ...dueRuleFor(settings, dateInZone(now, settings.timezone)), now };
      const queue: string[] = [];
      let exhausted = false;
      let claiming: Promise<void> | null = null;
      const refill = async (): Promise<void> => {
        const ids = await claimBatch(deps.db, {
          runId: run.id,
          job: job.name,
          rule,
          worker: options.worker,
          limit: options.concurrency * 2,
          now: deps.clock.now(),
          leaseMs: options.leaseMs,
        });
        queue.push(...ids);
        if (ids.length === 0) exhausted = true;
      };
      const next = async (): Promise<string | undefined> => {
        for (;;) {
          if (options.stopping()) return undefined;
          // Claim ahead while the queue runs low, one claim at a time.
          if (!exhausted && queue.length <= options.concurrency && claiming === null) {
            claiming = refill().finally(() => {
              claiming = null;
            });
          }
          const id = queue.shift();
          if (id !== undefined) return id;
          if (exhausted) return undefined;
          await claiming;
        }
      };
      const lane = async (): Promise<void> => {
        for (let id = await next(); id !== undefined; id = await next()) {
          progress.add(id, await job.process(deps, ctx, id, rule));
          if (progress.due()) await flush();
        }
      };
      try {
        await Promise.all(Array.from({ length: options.concurrency }, lane));
      } finally {
        await (claiming as Promise<void> | null)?.catch(() => undefined);
        if (queue.length > 0) await releaseClaims(deps.db, run.id, options.worker, queue.splice(0));
        await flush();
      }
      if (options.stopping()) return false;
      // Nothing left to claim. Others may still hold claims (running, or dead and about to expire): wait for them,
      // then look again (expired claims come back to the selection). Closed by another worker meanwhile: done.
      const closing = await finishRunIfIdle(deps.db, run.id, deps.clock.now());
      if (closing !== 'busy') return closing === 'finished';
      await sleep(options.pollMs);
    }
  } finally {
    clearInterval(beat);
    await flushing.catch(() => undefined);
  }
}
