// PATCH /v1/settings: the fields that may be changed (each optional; at least one). The ranges are checked by
// app/settings.ts, whose messages name the rule; the schema documents them and refuses unknown fields.
import { Type } from 'typebox';

export const UpdateSettingsBody = Type.Object(
  {
    timezone: Type.Optional(
      Type.String({ maxLength: 64, description: "IANA time zone that defines 'today', e.g. Europe/Paris." }),
    ),
    daily_jobs_at: Type.Optional(
      Type.String({ maxLength: 5, description: 'HH:MM (00:00 to 23:59), when the daily jobs run.' }),
    ),
    validations_enabled: Type.Optional(
      Type.Boolean({
        description: 'Off allows deleting gateway-touched and canceling non-open transactions (data repair).',
      }),
    ),
    auto_process_due_today_only: Type.Optional(Type.Boolean()),
    reattempts_enabled: Type.Optional(Type.Boolean()),
    reattempts_non_auto_process: Type.Optional(Type.Boolean()),
    reattempt_day_gaps: Type.Optional(
      Type.Array(Type.Integer(), { description: '1 to 10 whole numbers of days, each from 1 to 365, e.g. [1,1,1,1].' }),
    ),
    webhook_delay_seconds: Type.Optional(Type.Integer({ description: '0 to 3600.' })),
    webhook_retention_days: Type.Optional(Type.Integer({ description: '1 to 3650.' })),
    stuck_after_seconds: Type.Optional(Type.Integer({ description: '30 to 86400.' })),
    payment_method_rolldown_enabled: Type.Optional(Type.Boolean()),
    schedule_horizon_days: Type.Optional(
      Type.Integer({ description: '1 to 3660: how many days ahead payment schedules generate their occurrences.' }),
    ),
  },
  { additionalProperties: false },
);
