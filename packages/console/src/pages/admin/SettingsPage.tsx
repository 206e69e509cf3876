// Settings: GET /v1/settings as a form; Save sends PATCH /v1/settings with the changed fields only. Each field is
// checked here as the API checks it (the API's refusal, if any, is shown in the dialog with its code).
import { Group, Loader, Stack, Switch, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api';
import { Notice } from '../operations/shared';
import { ConfirmAction } from '../../components/ConfirmAction';
import { ErrorNotice, useResource } from '../../components/data';

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
  schedule_horizon_days: number;
}

type Key = keyof Settings;
type BoolKey = { [K in Key]: Settings[K] extends boolean ? K : never }[Key];
type IntKey = 'webhook_delay_seconds' | 'webhook_retention_days' | 'stuck_after_seconds' | 'schedule_horizon_days';

const BOOLEANS: { key: BoolKey; label: string; description: string }[] = [
  {
    key: 'validations_enabled',
    label: 'Validations enabled',
    description: 'Off allows deleting gateway-touched and canceling non-open transactions (data repair).',
  },
  {
    key: 'auto_process_due_today_only',
    label: 'Auto-process only what is due today',
    description: 'The daily jobs pick transactions due today only, not overdue ones.',
  },
  { key: 'reattempts_enabled', label: 'Reattempts enabled', description: 'Failed charges are tried again.' },
  {
    key: 'reattempts_non_auto_process',
    label: 'Reattempt non-auto-process charges',
    description: 'Reattempts also cover charges that are not auto-processed.',
  },
  {
    key: 'payment_method_rolldown_enabled',
    label: 'Payment method rolldown',
    description: "A failed charge may move to the contact's next payment method.",
  },
];

const INTEGERS: { key: IntKey; label: string; min: number; max: number; unit: string }[] = [
  { key: 'webhook_delay_seconds', label: 'Webhook delay', min: 0, max: 3600, unit: 'seconds' },
  { key: 'webhook_retention_days', label: 'Webhook retention', min: 1, max: 3650, unit: 'days' },
  { key: 'stuck_after_seconds', label: 'Stuck after', min: 30, max: 86_400, unit: 'seconds' },
  { key: 'schedule_horizon_days', label: 'Schedule horizon', min: 1, max: 3660, unit: 'days' },
];

/** The form's text fields, as typed. */
interface Draft {
  timezone: string;
  daily_jobs_at: string;
  reattempt_day_gaps: string;
  webhook_delay_seconds: string;
  webhook_retention_days: string;
  stuck_after_seconds: string;
  schedule_horizon_days: string;
  booleans: Record<BoolKey, boolean>;
}

function draftOf(settings: Settings): Draft {
  return {
    timezone: settings.timezone,
    daily_jobs_at: settings.daily_jobs_at,
    reattempt_day_gaps: settings.reattempt_day_gaps.join(', '),
    webhook_delay_seconds: String(settings.webhook_delay_seconds),
    webhook_retention_days: String(settings.webhook_retention_days),
    stuck_after_seconds: String(settings.stuck_after_seconds),
    schedule_horizon_days: String(settings.schedule_horizon_days),
    booleans: Object.fromEntries(BOOLEANS.map(({ key }) => [key, settings[key]])) as Record<BoolKey, boolean>,
  };
}

/** A whole number written with digits only, or undefined. */
function wholeNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,9}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

interface Checked {
  errors: Partial<Record<Key, string>>;
  changes: Partial<Settings>;
}

function check(draft: Draft, current: Settings): Checked {
  const errors: Checked['errors'] = {};
  const changes: Partial<Settings> = {};
  const timezone = draft.timezone.trim();
  if (timezone === '' || timezone.length > 64) errors.timezone = 'An IANA time zone such as Europe/Paris.';
  else if (timezone !== current.timezone) changes.timezone = timezone;
  const at = draft.daily_jobs_at.trim();
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(at)) errors.daily_jobs_at = 'A time of day written HH:MM (00:00 to 23:59).';
  else if (at !== current.daily_jobs_at) changes.daily_jobs_at = at;
  const parts = draft.reattempt_day_gaps.split(',').map((part) => part.trim());
  const gaps = parts.map(wholeNumber);
  if (parts.length < 1 || parts.length > 10 || gaps.some((gap) => gap === undefined || gap < 1 || gap > 365))
    errors.reattempt_day_gaps = '1 to 10 whole numbers of days separated by commas, each from 1 to 365.';
  else if (gaps.join(',') !== current.reattempt_day_gaps.join(',')) changes.reattempt_day_gaps = gaps as number[];
  for (const field of INTEGERS) {
    const value = wholeNumber(draft[field.key]);
    if (value === undefined || value < field.min || value > field.max)
      errors[field.key] = `A whole number from ${field.min} to ${field.max}.`;
    else if (value !== current[field.key]) changes[field.key] = value;
  }
  for (const { key } of BOOLEANS) if (draft.booleans[key] !== current[key]) changes[key] = draft.booleans[key];
  return { errors, changes };
}

function show(value: unknown): string {
  return Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
}

export default function SettingsPage() {
  const settings = useResource<Settings>('/v1/settings');
  const [draft, setDraft] = useState<Draft | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (settings.data) setDraft(draftOf(settings.data));
  }, [settings.data]);
  const checked = useMemo(() => (draft && settings.data ? check(draft, settings.data) : null), [draft, settings.data]);
  const set = (patch: Partial<Draft>) => {
    setSaved(false);
    setDraft((current) => (current ? { ...current, ...patch } : current));
  };
  const changed = checked ? Object.keys(checked.changes) : [];
  const invalid = !checked || Object.keys(checked.errors).length > 0 || changed.length === 0;

  return (
    <Stack maw={760}>
      <Title order={1}>Settings</Title>
      <ErrorNotice error={settings.error} />
      {settings.loading && !settings.data && <Loader size="sm" aria-label="Loading the settings" />}
      {draft && checked && settings.data && (
        <form
          aria-label="Settings"
          onSubmit={(event) => {
            event.preventDefault();
          }}
        >
          <Stack>
            <Title order={2}>Schedule</Title>
            <TextInput
              label="Time zone"
              description="IANA time zone that defines 'today', e.g. Europe/Paris."
              value={draft.timezone}
              error={checked.errors.timezone}
              onChange={(event) => set({ timezone: event.currentTarget.value })}
            />
            <TextInput
              label="Daily jobs at"
              description="HH:MM, when the daily jobs run (in the time zone above)."
              value={draft.daily_jobs_at}
              error={checked.errors.daily_jobs_at}
              onChange={(event) => set({ daily_jobs_at: event.currentTarget.value })}
            />
            <TextInput
              label="Reattempt day gaps"
              description="Days between reattempts, separated by commas, e.g. 1, 1, 1, 1."
              value={draft.reattempt_day_gaps}
              error={checked.errors.reattempt_day_gaps}
              onChange={(event) => set({ reattempt_day_gaps: event.currentTarget.value })}
            />
            <Title order={2}>Limits</Title>
            {INTEGERS.map((field) => (
              <TextInput
                key={field.key}
                label={`${field.label} (${field.unit})`}
                description={`${field.min} to ${field.max}.`}
                inputMode="numeric"
                value={draft[field.key]}
                error={checked.errors[field.key]}
                onChange={(event) => set({ [field.key]: event.currentTarget.value } as Partial<Draft>)}
              />
            ))}
            <Title order={2}>Behaviour</Title>
            {BOOLEANS.map((field) => (
              <Switch
                key={field.key}
                label={field.label}
                description={field.description}
                checked={draft.booleans[field.key]}
                onChange={(event) => set({ booleans: { ...draft.booleans, [field.key]: event.currentTarget.checked } })}
              />
            ))}
            <Group>
              <ConfirmAction
                label="Save settings"
                title="Change the settings"
                confirmLabel="Save changes"
                invalid={invalid}
                run={() => api.patch<Settings>('/v1/settings', checked.changes)}
                onDone={() => {
                  setSaved(true);
                  settings.reload();
                }}
              >
                {changed.length === 0 ? (
                  <Text size="sm">Nothing has changed.</Text>
                ) : (
                  <Table aria-label="Changes to save">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Setting</Table.Th>
                        <Table.Th>Now</Table.Th>
                        <Table.Th>New</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {changed.map((key) => (
                        <Table.Tr key={key}>
                          <Table.Td>{key}</Table.Td>
                          <Table.Td>{show(settings.data?.[key as Key])}</Table.Td>
                          <Table.Td>{show(checked.changes[key as Key])}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                )}
                {Object.keys(checked.errors).length > 0 && (
                  <Notice color="red" title="Fix the marked fields first" role="alert">
                    {Object.keys(checked.errors).join(', ')}
                  </Notice>
                )}
              </ConfirmAction>
              <Text size="sm" aria-live="polite">
                {Object.keys(checked.errors).length > 0
                  ? 'Some fields need fixing before saving.'
                  : changed.length === 0
                    ? saved
                      ? 'Settings saved.'
                      : 'No changes.'
                    : `${changed.length} change(s) not saved yet.`}
              </Text>
            </Group>
          </Stack>
        </form>
      )}
    </Stack>
  );
}
