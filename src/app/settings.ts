// Behaviour switches (X4): the names README lists, safe defaults, strict validation. Stored one row per key;
// a key never written has its default. A change (PATCH /v1/settings) runs through the command runner, so it
// honours an Idempotency-Key, and records one audit event (settings.updated) in the same transaction when it
// changed something.
import { ValidationError } from '../domain/errors.js';
import type { Db, Tx } from '../store/schema.js';
import { lockSettings, settingRows, upsertSetting } from '../store/settings-repo.js';
import { auditActor, recordAuditEvent, SYSTEM_ACTOR } from './audit.js';
import { type Clock, isValidTimeZone, systemClock } from './clock.js';
import type { RunOutcome } from './command-runner.js';
import type { Deps, RequestContext } from './deps.js';

export interface Settings {
  timezone: string;
  daily_jobs_at: string;
  validations_enabled: boolean;
  auto_process_due_today_only: boolean;
  reattempts_enabled: boolean;
  reattempts_non_auto_process: boolean;
  reattempt_day_gaps: number[];
  webhook_delay_seconds: number;
  webhook_retention_days: number;
  stuck_after_seconds: number;
  payment_method_rolldown_enabled: boolean;
  /** X6: payment schedules generate their occurrences this many days ahead (the next one always). */
  schedule_horizon_days: number;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  timezone: 'UTC',
  daily_jobs_at: '06:00',
  validations_enabled: true,
  auto_process_due_today_only: false,
  reattempts_enabled: false,
  reattempts_non_auto_process: false,
  reattempt_day_gaps: [1, 1, 1, 1],
  webhook_delay_seconds: 0,
  webhook_retention_days: 30,
  stuck_after_seconds: 300,
  payment_method_rolldown_enabled: true,
  schedule_horizon_days: 35,
});

type Validator = (value: unknown, key: string) => unknown;

function bool(value: unknown, key: string): boolean {
  if (typeof value !== 'boolean') throw new ValidationError('invalid_setting', `${key} must be true or false.`, key);
  return value;
}

function intBetween(min: number, max: number): Validator {
  return (value, key) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ValidationError('invalid_setting', `${key} must be a whole number from ${min} to ${max}.`, key);
    }
    return value;
  };
}

const VALIDATORS: Record<keyof Settings, Validator> = {
  timezone: (value, key) => {
    if (typeof value !== 'string' || value === '' || !isValidTimeZone(value)) {
      throw new ValidationError('invalid_setting', `${key} must be an IANA time zone such as 'Europe/Paris'.`, key);
    }
    return value;
  },
  daily_jobs_at: (value, key) => {
    if (typeof value !== 'string' || !/^([01]\d|2[0-3]):[0-5]\d$/.test(value)) {
      throw new ValidationError('invalid_setting', `${key} must be a time of day written HH:MM (00:00 to 23:59).`, key);
    }
    return value;
  },
  validations_enabled: bool,
  auto_process_due_today_only: bool,
  reattempts_enabled: bool,
  reattempts_non_auto_process: bool,
  reattempt_day_gaps: (value, key) => {
    if (
      !Array.isArray(value) ||
      value.length < 1 ||
      value.length > 10 ||
      !value.every((gap) => typeof gap === 'number' && Number.isInteger(gap) && gap >= 1 && gap <= 365)
    ) {
      throw new ValidationError(
        'invalid_setting',
        `${key} must be a list of 1 to 10 whole numbers of days, each from 1 to 365, e.g. [1,1,1,1].`,
        key,
      );
    }
    return [...(value as number[])];
  },
  webhook_delay_seconds: intBetween(0, 3600),
  webhook_retention_days: intBetween(1, 3650),
  stuck_after_seconds: intBetween(30, 86_400),
  payment_method_rolldown_enabled: bool,
  schedule_horizon_days: intBetween(1, 3660),
};

export const SETTING_KEYS = Object.keys(VALIDATORS) as (keyof Settings)[];

/** Validates a partial update; unknown keys are rejected by name. */
export function parseSettingsPatch(input: unknown): Partial<Settings> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('invalid_request', 'The body must be a JSON object of settings.');
  }
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const validate = (VALIDATORS as Record<string, Validator | undefined>)[key];
    if (!validate) {
      throw new ValidationError(
        'unknown_setting',
        `'${key}' is not a setting. Settings: ${SETTING_KEYS.join(', ')}.`,
        key,
      );
    }
    patch[key] = validate(value, key);
  }
  if (Object.keys(patch).length === 0) {
    throw new ValidationError('invalid_request', 'Name at least one setting to change.');
  }
  return patch;
}

/** The stored settings over the defaults. */
async function readSettings(db: Db | Tx): Promise<Settings> {
  const rows = await settingRows(db);
  const value: Settings = { ...DEFAULT_SETTINGS, reattempt_day_gaps: [...DEFAULT_SETTINGS.reattempt_day_gaps] };
  for (const row of rows) {
    // Cast: a stored key is one of Settings' keys (checked against VALIDATORS), but TypeScript cannot index Settings by a runtime string.
    if (row.key in VALIDATORS) (value as unknown as Record<string, unknown>)[row.key] = row.value;
  }
  return value;
}

/** Writes a validated patch in the caller's transaction; returns the settings before and after it. */
async function applySettingsPatch(
  trx: Tx,
  patch: Partial<Settings>,
  now: Date,
): Promise<{ before: Settings; after: Settings }> {
  await lockSettings(trx);
  const before = await readSettings(trx);
  for (const [key, value] of Object.entries(patch)) await upsertSetting(trx, key, JSON.stringify(value), now);
  return { before, after: { ...before, ...patch } };
}

/**
 * PATCH /v1/settings (admin): validates, then writes through the command runner (an Idempotency-Key replays the
 * first answer) with one `settings.updated` audit event in the same transaction; a patch that changes nothing
 * records none. `before` and `after` are the whole settings object.
 */
export async function updateSettings(
  deps: Pick<Deps, 'commands' | 'clock' | 'settings'>,
  ctx: RequestContext,
  input: unknown,
): Promise<RunOutcome<Settings>> {
  const patch = parseSettingsPatch(input);
  try {
    return await deps.commands.run<Settings>(ctx.idempotency, async (trx) => {
      const now = deps.clock.now();
      const { before, after } = await applySettingsPatch(trx, patch, now);
      await recordAuditEvent(
        trx,
        {
          actor: auditActor(ctx.actor),
          action: 'settings.updated',
          object_type: 'settings',
          object_id: 'settings',
          before: { ...before },
          after: { ...after },
        },
        now,
      );
      return { status: 200, body: after };
    });
  } finally {
    deps.settings.invalidate();
  }
}

/**
 * Reads settings with a short in-process cache (settings are read on most requests). A change made through
 * this process is seen at once; one made by another process within `ttlMs`.
 */
export class SettingsStore {
  #db: Db;
  #ttlMs: number;
  #cached: { value: Settings; at: number } | undefined;
  /** Stamps updated_at (the reattempts job reads when reattempts were switched on). */
  #clock: Clock;

  constructor(db: Db, ttlMs = 1000, clock: Clock = systemClock) {
    this.#db = db;
    this.#ttlMs = ttlMs;
    this.#clock = clock;
  }

  async get(): Promise<Settings> {
    const now = Date.now();
    if (this.#cached && now - this.#cached.at < this.#ttlMs) return this.#cached.value;
    const value = await readSettings(this.#db);
    this.#cached = { value, at: now };
    return value;
  }

  /** Forgets the cached value (after a change made through this process). */
  invalidate(): void {
    this.#cached = undefined;
  }

  /**
   * Applies a validated patch in a transaction of its own, with its audit event (actor `system` unless given): for
   * Settle's own code and tests. API requests go through updateSettings(), which honours an Idempotency-Key.
   */
  async update(patch: Partial<Settings>, actor: string = SYSTEM_ACTOR): Promise<Settings> {
    const now = this.#clock.now();
    await this.#db.transaction().execute(async (trx) => {
      const { before, after } = await applySettingsPatch(trx, patch, now);
      await recordAuditEvent(
        trx,
        {
          actor,
          action: 'settings.updated',
          object_type: 'settings',
          object_id: 'settings',
          before: { ...before },
          after: { ...after },
        },
        now,
      );
    });
    this.#cached = undefined;
    return this.get();
  }
}
