// Backfill runs (W6): starting one (`POST /v1/sync`, `settle sync`), carrying it out in the background of this
// process, resuming one whose process died, and showing them (`GET /v1/sync/{id}` with progress). One run per
// gateway at a time, across processes (a unique index). The process carrying a run holds a lease on it and renews it
// while it works; a run whose lease has lapsed is taken over by the next process that looks (SyncRunner.resumeOrphans:
// `settle serve` and `settle worker` look every few seconds, `settle sync --resume` at once), which goes on from the
// cursors of its last committed page.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { findDefaultGateway, findGateway } from '../../store/gateway-records-repo.js';
import type { GatewayRow, SyncObjectProgress, SyncRunRow } from '../../store/schema.js';
import {
  findSyncRun,
  finishSyncRun,
  listSyncRunRows,
  orphanedSyncRuns,
  renewSyncLease,
  startSyncRun,
  takeSyncLease,
} from '../../store/sync-runs-repo.js';
import type { Deps } from '../deps.js';
import { newId } from '../ids.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from '../pagination.js';
import { type BackfillOptions, emptyProgress, runBackfill } from './backfill.js';
import { parseSyncRequest, type SyncRequest } from './sync-input.js';

export const SYNC_WORKER_ID = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
export const DEFAULT_SYNC_LEASE_MS = 30_000;
/** Stripe's largest page (https://docs.stripe.com/api/pagination: limit 1 to 100). */
export const DEFAULT_SYNC_PAGE_SIZE = 100;

export interface SyncRunView {
  id: string;
  object: 'sync_run';
  gateway_id: string;
  status: SyncRunRow['status'];
  since: string;
  until: string | null;
  objects: string[];
  /** The object type being imported now (null once the run is over). */
  current_object: string | null;
  progress: Record<string, Omit<SyncObjectProgress, 'after'>>;
  pages: number;
  error: string | null;
  trigger: SyncRunRow['trigger'];
  started_by: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

const iso = (value: Date | string): string => new Date(value).toISOString();

export function presentSync(row: SyncRunRow): SyncRunView {
  const progress: SyncRunView['progress'] = {};
  for (const object of row.objects) {
    const { after: _cursor, ...rest } = row.progress[object] ?? emptyProgress();
    progress[object] = rest;
  }
  return {
    id: row.id,
    object: 'sync_run',
    gateway_id: row.gateway_id,
    status: row.status,
    since: iso(row.since),
    until: row.until === null ? null : iso(row.until),
    objects: row.objects,
    current_object: row.status === 'running' ? (row.objects.find((o) => row.progress[o]?.done !== true) ?? null) : null,
    progress,
    pages: row.pages,
    error: row.error,
    trigger: row.trigger,
    started_by: row.started_by,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    finished_at: row.finished_at === null ? null : iso(row.finished_at),
  };
}

export async function getSync(deps: Deps, id: string): Promise<SyncRunView> {
  const row = await findSyncRun(deps.db, id);
  if (!row) throw new NotFoundError('sync run', id);
  return presentSync(row);
}

export async function listSyncs(
  deps: Deps,
  query: { limit?: number | undefined; starting_after?: string | undefined },
): Promise<Page<SyncRunView>> {
  const limit = parseLimit(query.limit);
  const rows = await listSyncRunRows(deps.db, {
    after: cursorAfter(query.starting_after, 'sync_run'),
    limit: limit + 1,
  });
  return pageOf(rows, limit, presentSync, byId);
}

async function gatewayFor(deps: Deps, gatewayId: unknown): Promise<GatewayRow> {
  if (gatewayId !== undefined) {
    if (typeof gatewayId !== 'string')
      throw new ValidationError('parameter_invalid_value', 'gateway_id must be a gateway id.', 'gateway_id');
    const row = await findGateway(deps.db, gatewayId);
    if (!row) throw new NotFoundError('gateway', gatewayId, 'gateway_id');
    return row;
  }
  const row = await findDefaultGateway(deps.db);
  if (!row)
    throw new ValidationError(
      'no_default_gateway',
      'There is no default gateway to import from; name one with gateway_id.',
      'gateway_id',
    );
  return row;
}

export interface SyncRunnerOptions {
  worker?: string;
  leaseMs?: number;
  pageSize?: number;
  /** How often `startPolling` looks for runs whose process died. */
  pollMs?: number;
  onError?: (error: unknown, run: SyncRunRow) => void;
  /** TEST ONLY (see BackfillOptions.afterPage). */
  afterPage?: BackfillOptions['afterPage'];
}

/** Starts, carries and resumes backfill runs in this process. */
export class SyncRunner {
  readonly #deps: Deps;
  readonly worker: string;
  readonly #leaseMs: number;
  readonly #pageSize: number;
  readonly #pollMs: number;
  readonly #onError: (error: unknown, run: SyncRunRow) => void;
  readonly #afterPage: BackfillOptions['afterPage'];
  readonly #active = new Map<string, Promise<void>>();
  #poll: NodeJS.Timeout | null = null;
  #stopping = false;

  constructor(deps: Deps, options: SyncRunnerOptions = {}) {
    this.#deps = deps;
    this.worker = options.worker ?? SYNC_WORKER_ID;
    this.#leaseMs = options.leaseMs ?? DEFAULT_SYNC_LEASE_MS;
    this.#pageSize = options.pageSize ?? DEFAULT_SYNC_PAGE_SIZE;
    this.#pollMs = options.pollMs ?? 5000;
    this.#onError = options.onError ?? (() => {});
    this.#afterPage = options.afterPage;
  }

  /** Checks the request, records the run and starts it in the background; 409 sync_already_running if one runs. */
  async start(
    input: SyncRequest & { gateway_id?: unknown },
    trigger: 'api' | 'cli',
    startedBy: string,
  ): Promise<SyncRunRow> {
    if (this.#stopping)
      throw new ConflictError('worker_stopping', 'This process is shutting down; start the sync on another one.');
    const now = this.#deps.clock.now();
    const range = parseSyncRequest(input, now);
    const gateway = await gatewayFor(this.#deps, input.gateway_id);
    const result = await startSyncRun(this.#deps.db, {
      id: newId('sync_run', now.getTime()),
      gatewayId: gateway.id,
      since: range.since,
      until: range.until,
      objects: range.objects,
      trigger,
      startedBy,
      progress: Object.fromEntries(range.objects.map((o) => [o, emptyProgress()])),
      worker: this.worker,
      leaseUntil: new Date(now.getTime() + this.#leaseMs),
      now,
    });
    if ('running' in result) {
      throw new ConflictError(
        'sync_already_running',
        `A sync of gateway ${gateway.id} is already running (${result.running.id}, started ${iso(result.running.created_at)}); it is not started twice. Follow it at GET /v1/sync/${result.running.id}.`,
        { sync_id: result.running.id },
      );
    }
    this.#launch(result.started);
    return result.started;
  }

  /**
   * Takes over a running run whose lease has lapsed (`force`: whatever its lease, for a caller that knows the process
   * carrying it is gone) and carries it on here. undefined when it is not running or another process holds it.
   */
  async resume(id: string, options: { force?: boolean } = {}): Promise<SyncRunRow | undefined> {
    if (this.#stopping || this.#active.has(id)) return undefined;
    const now = this.#deps.clock.now();
    const taken = await takeSyncLease(this.#deps.db, {
      id,
      worker: this.worker,
      now,
      until: new Date(now.getTime() + this.#leaseMs),
      force: options.force ?? false,
    });
    if (taken) this.#launch(taken);
    return taken;
  }

  /** Resumes every running run whose process died (its lease lapsed); how many were taken over. */
  async resumeOrphans(): Promise<number> {
    let taken = 0;
    for (const run of await orphanedSyncRuns(this.#deps.db, this.#deps.clock.now())) {
      if (await this.resume(run.id)) taken += 1;
    }
    return taken;
  }

  /** Looks for orphaned runs now and every pollMs (serve, worker). */
  startPolling(): void {
    if (this.#poll !== null) return;
    const look = () => {
      void this.resumeOrphans().catch(() => undefined);
    };
    look();
    this.#poll = setInterval(look, this.#pollMs);
    this.#poll.unref();
  }

  /** Resolves when this process's part in the run is over (at once if it takes no part). */
  async finished(id: string): Promise<void> {
    await this.#active.get(id);
  }

  /** Stops at the next page boundary; the runs stay running, for another process (or a restart) to resume. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#poll !== null) clearInterval(this.#poll);
    this.#poll = null;
    await Promise.all([...this.#active.values()]);
  }

  #launch(run: SyncRunRow): void {
    const deps = this.#deps;
    let lost = false;
    const renew = setInterval(
      () => {
        const now = deps.clock.now();
        void renewSyncLease(deps.db, {
          id: run.id,
          worker: this.worker,
          now,
          until: new Date(now.getTime() + this.#leaseMs),
        })
          .then((held) => {
            if (!held) lost = true;
          })
          .catch(() => undefined);
      },
      Math.max(200, Math.floor(this.#leaseMs / 3)),
    );
    renew.unref();
    const work = runBackfill(deps, run, {
      worker: this.worker,
      pageSize: this.#pageSize,
      stopping: () => this.#stopping || lost,
      ...(this.#afterPage ? { afterPage: this.#afterPage } : {}),
    })
      .then(async (ended) => {
        // Stopped here between two pages: the lease lapses now, so another process resumes at once.
        if (ended === 'stopped') {
          const now = deps.clock.now();
          await renewSyncLease(deps.db, { id: run.id, worker: this.worker, now, until: now });
        }
      })
      .catch(async (error: unknown) => {
        this.#onError(error, run);
        const message = error instanceof Error ? error.message : String(error);
        await finishSyncRun(deps.db, {
          id: run.id,
          status: 'failed',
          error: message,
          now: deps.clock.now(),
          worker: this.worker,
        }).catch(() => false);
      })
      .finally(() => {
        clearInterval(renew);
        this.#active.delete(run.id);
      });
    this.#active.set(run.id, work);
  }
}
