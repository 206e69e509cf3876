// Pieces the Operations and Administration pages share: a JSON block, a filter form that applies on submit, the
// conversion of a datetime-local input to the API's ISO instants, and a two-column list of fields.
import {
  Alert,
  Button,
  Code,
  CopyButton,
  Group,
  Table,
  TextInput,
  NativeSelect,
  type AlertProps,
  type TextInputProps,
} from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';

/** A JSON value pretty-printed in a scrollable, focusable <pre> (keyboard users scroll it with the arrows). */
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  const text = value === undefined ? '' : JSON.stringify(value, null, 2);
  return (
    <Code
      block
      tabIndex={0}
      aria-label={label}
      style={{ maxHeight: 480, overflow: 'auto', whiteSpace: 'pre', fontSize: 13 }}
      c="dark.9"
    >
      {text === '' || text === undefined ? 'null' : text}
    </Code>
  );
}

/** A datetime-local value (the browser's local time) as an ISO instant; '' and invalid values give undefined. */
export function localToIso(value: string): string | undefined {
  if (value === '') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export type FilterValues = Record<string, string>;

export type FilterField =
  | { name: string; label: string; kind: 'text'; placeholder?: string }
  | { name: string; label: string; kind: 'datetime' }
  | { name: string; label: string; kind: 'select'; options: readonly string[] };

/**
 * The filters of a list: edited freely, sent to the API when applied (Apply filters, or Enter in a field).
 * `onApply` receives the non-empty values, datetimes already converted to ISO instants.
 */
export function FilterForm({
  fields,
  onApply,
  label,
}: {
  fields: readonly FilterField[];
  onApply(values: FilterValues): void;
  label: string;
}) {
  const empty = Object.fromEntries(fields.map((field) => [field.name, '']));
  const [values, setValues] = useState<FilterValues>(empty);
  const set = (name: string, value: string) => setValues((current) => ({ ...current, [name]: value }));

  function apply(event?: FormEvent) {
    event?.preventDefault();
    const out: FilterValues = {};
    for (const field of fields) {
      const raw = (values[field.name] ?? '').trim();
      if (raw === '') continue;
      const value = field.kind === 'datetime' ? localToIso(raw) : raw;
      if (value !== undefined) out[field.name] = value;
    }
    onApply(out);
  }

  function clear() {
    setValues(empty);
    onApply({});
  }

  return (
    <form onSubmit={apply} aria-label={label}>
      <Group align="flex-end" gap="sm" wrap="wrap">
        {fields.map((field) => {
          const common: TextInputProps = { label: field.label, size: 'xs', w: 190 };
          if (field.kind === 'select')
            return (
              <NativeSelect
                key={field.name}
                label={field.label}
                size="xs"
                w={170}
                value={values[field.name] ?? ''}
                onChange={(event) => set(field.name, event.currentTarget.value)}
                data={[
                  { value: '', label: 'Any' },
                  ...field.options.map((option) => ({ value: option, label: option })),
                ]}
              />
            );
          return (
            <TextInput
              key={field.name}
              {...common}
              type={field.kind === 'datetime' ? 'datetime-local' : 'text'}
              placeholder={field.kind === 'text' ? field.placeholder : undefined}
              value={values[field.name] ?? ''}
              onChange={(event) => set(field.name, event.currentTarget.value)}
            />
          );
        })}
        <Button type="submit" size="xs">
          Apply filters
        </Button>
        <Button type="button" size="xs" variant="default" onClick={clear}>
          Clear
        </Button>
      </Group>
    </form>
  );
}

/** Label/value rows: a record's fields on its detail page. */
export function FieldTable({ rows, label }: { rows: [string, ReactNode][]; label: string }) {
  return (
    <Table aria-label={label} withTableBorder variant="vertical" layout="fixed" maw={820}>
      <Table.Tbody>
        {rows.map(([name, value]) => (
          <Table.Tr key={name}>
            <Table.Th w={220} scope="row">
              {name}
            </Table.Th>
            <Table.Td style={{ overflowWrap: 'anywhere' }}>{value ?? '—'}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** A value, or a dash for null/undefined/''. */
export function orDash(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  return String(value);
}

/** Mantine's Alert with its title and text in dark ink (the light variant's coloured title fails WCAG AA contrast). */
export function Notice(props: AlertProps) {
  return (
    <Alert
      variant="light"
      {...props}
      styles={{ title: { color: 'var(--mantine-color-dark-8)' }, message: { color: 'var(--mantine-color-dark-8)' } }}
    />
  );
}

/** Modal props every dialog of these pages shares: a close button with a name. */
export const CLOSE_BUTTON_PROPS = { 'aria-label': 'Close dialog' } as const;

/**
 * A secret Settle shows only once (a new API key, a generated password): a focusable block holding it, a button that
 * copies it, and the dialog's own buttons beside that one.
 */
export function SecretOnce(props: {
  value: string;
  label: string;
  testId: string;
  copyLabel: string;
  children?: ReactNode;
}) {
  return (
    <>
      <Code block tabIndex={0} aria-label={props.label} data-testid={props.testId} c="dark.9">
        {props.value}
      </Code>
      <Group justify="space-between">
        <CopyButton value={props.value}>
          {({ copied, copy }) => (
            <Button variant="default" onClick={copy}>
              {copied ? 'Copied' : props.copyLabel}
            </Button>
          )}
        </CopyButton>
        {props.children}
      </Group>
    </>
  );
}
