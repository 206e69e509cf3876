// What the Records pages share: the API's record shapes (the fields these pages show), a link to a record by id, a
// table of a record's fields, a paged table, the per-currency totals and a record's transactions.
import { Anchor, Center, Group, Loader, NativeSelect, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import type { Query } from '../../api';
import { DateTime, ErrorNotice, Money, Pager, StatusBadge, usePagedList, type Resource } from '../../components/data';

export interface TotalsEntry {
  currency: string;
  open_amount: number;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  retained_amount: number;
  non_gateway_amount: number;
  written_off_amount: number;
  gateway_fee: number;
  net_amount: number;
  disputed_amount: number;
  count_open: number;
  count_completed: number;
  count_failed: number;
  last_payment_at: string | null;
  next_due_date: string | null;
}

export interface TransactionRow {
  id: string;
  record_type: string;
  transaction_type: string;
  status: string;
  payment_status: string | null;
  amount: number;
  currency: string;
  due_date: string | null;
  description: string | null;
  created_at: string;
  allocation?: { kind: string; amount: number; applied_amount: number };
}

/** A record's page address under /console: `invoices/inv_1` → a link to it, showing the id. */
export function IdLink({ to, id }: { to: string; id: string | null | undefined }) {
  if (!id) return <span>—</span>;
  return (
    <Anchor component={Link} to={`/${to}/${encodeURIComponent(id)}`} ff="monospace" size="sm">
      {id}
    </Anchor>
  );
}

/** A plain id (a gateway's), monospaced, or a dash. */
export function Code({ value }: { value: string | null | undefined }) {
  if (!value) return <span>—</span>;
  return (
    <Text span ff="monospace" size="sm">
      {value}
    </Text>
  );
}

/** A record's fields as a two-column table: each row a <th scope="row"> label and its value. */
export function Fields({ label, rows }: { label: string; rows: [string, ReactNode][] }) {
  return (
    <Table aria-label={label} withTableBorder variant="vertical" layout="fixed" maw={760}>
      <Table.Tbody>
        {rows.map(([name, value]) => (
          <Table.Tr key={name}>
            <Table.Th scope="row" w={240}>
              {name}
            </Table.Th>
            <Table.Td>{value}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

export interface Column<T> {
  header: string;
  cell(row: T): ReactNode;
  /** Right-aligned (amounts). */
  numeric?: boolean;
}

/** A table of rows with real headers, a caption, an empty-state row, and nothing else. */
export function RowsTable<T extends { id: string }>({
  caption,
  columns,
  rows,
  empty,
}: {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  empty?: string;
}) {
  return (
    // Scrolls sideways on a narrow screen; focusable so that the keyboard can scroll it too.
    <div className="records-scroll" role="region" aria-label={caption} tabIndex={0} style={{ overflowX: 'auto' }}>
      <Table striped highlightOnHover withTableBorder captionSide="top" miw={640}>
        <Table.Caption>{caption}</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            {columns.map((column) => (
              <Table.Th key={column.header} scope="col" ta={column.numeric ? 'right' : undefined}>
                {column.header}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.length === 0 ? (
            <Table.Tr>
              <Table.Td colSpan={columns.length}>{empty ?? 'None.'}</Table.Td>
            </Table.Tr>
          ) : (
            rows.map((row) => (
              <Table.Tr key={row.id}>
                {columns.map((column) => (
                  <Table.Td key={column.header} ta={column.numeric ? 'right' : undefined}>
                    {column.cell(row)}
                  </Table.Td>
                ))}
              </Table.Tr>
            ))
          )}
        </Table.Tbody>
      </Table>
    </div>
  );
}

/** A cursor-paged list from the API as a table with its pager (`limit` rows a page, at most 200). */
export function PagedTable<T extends { id: string }>({
  path,
  query,
  caption,
  columns,
  empty,
  limit = 50,
}: {
  path: string;
  query: Query;
  caption: string;
  columns: Column<T>[];
  empty?: string;
  limit?: number;
}) {
  const list = usePagedList<T>(path, query, Math.min(limit, 200));
  return (
    <Stack gap="xs">
      <ErrorNotice error={list.error} title={`${caption} could not be loaded`} />
      {list.data === undefined && list.loading ? (
        <Loader size="sm" role="status" aria-label={`Loading ${caption.toLowerCase()}`} />
      ) : (
        <RowsTable caption={caption} columns={columns} rows={list.data?.data ?? []} empty={empty} />
      )}
      <Pager list={list} label={caption} />
    </Stack>
  );
}

export function FilterText({
  label,
  value,
  onChange,
  placeholder,
}: {
  label: string;
  value: string;
  onChange(value: string): void;
  placeholder?: string;
}) {
  return (
    <TextInput
      label={label}
      value={value}
      placeholder={placeholder}
      onChange={(event) => onChange(event.currentTarget.value)}
      w={220}
    />
  );
}

export function FilterSelect({
  label,
  value,
  onChange,
  options,
}: {
  label: string;
  value: string;
  onChange(value: string): void;
  options: readonly string[];
}) {
  return (
    <NativeSelect
      label={label}
      value={value}
      onChange={(event) => onChange(event.currentTarget.value)}
      data={[
        { value: '', label: 'Any' },
        ...options.map((option) => ({ value: option, label: option.replaceAll('_', ' ') })),
      ]}
      w={200}
    />
  );
}

/** The filters' values, trimmed and debounced (typing does not ask the API at each key), ready as a query. */
export function useDebouncedQuery(values: Record<string, string>): Query {
  // Debounced as one string: a new object each render would restart the delay forever.
  const [debounced] = useDebouncedValue(JSON.stringify(values), 300);
  return useMemo(() => {
    const query: Query = {};
    for (const [key, value] of Object.entries(JSON.parse(debounced) as Record<string, string>))
      if (value.trim() !== '') query[key] = value.trim();
    return query;
  }, [debounced]);
}

export function FilterBar({ children }: { children: ReactNode }) {
  return (
    <Group align="flex-end" gap="md" role="search" aria-label="Filters">
      {children}
    </Group>
  );
}

/** The body of a detail page: its loading state, its error, or the record. */
export function Loaded<T>({ resource, children }: { resource: Resource<T>; children(data: T): ReactNode }) {
  if (resource.error && resource.data === undefined) return <ErrorNotice error={resource.error} />;
  if (resource.data === undefined)
    return (
      <Center h={200}>
        <Loader role="status" aria-label="Loading" />
      </Center>
    );
  return (
    <>
      <ErrorNotice error={resource.error} />
      {children(resource.data)}
    </>
  );
}

export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <Stack gap="xs" component="section" aria-label={title}>
      <Group justify="space-between" align="center">
        <Title order={2} size="h3">
          {title}
        </Title>
        {actions}
      </Group>
      {children}
    </Stack>
  );
}

/** The per-currency `totals` of an account, contact, parent, invoice or order. */
export function TotalsTable({ totals, label }: { totals: TotalsEntry[]; label: string }) {
  const rows = totals.map((entry) => ({ ...entry, id: entry.currency }));
  const money = (pick: (entry: TotalsEntry) => number) => (entry: TotalsEntry) => (
    <Money amount={pick(entry)} currency={entry.currency} />
  );
  return (
    <RowsTable<TotalsEntry & { id: string }>
      caption={label}
      rows={rows}
      empty="No transactions yet."
      columns={[
        { header: 'Currency', cell: (entry) => entry.currency.toUpperCase() },
        { header: 'Open', numeric: true, cell: money((entry) => entry.open_amount) },
        { header: 'Authorized', numeric: true, cell: money((entry) => entry.authorized_amount) },
        { header: 'Captured', numeric: true, cell: money((entry) => entry.captured_amount) },
        { header: 'Refunded', numeric: true, cell: money((entry) => entry.refunded_amount) },
        { header: 'Disputed', numeric: true, cell: money((entry) => entry.disputed_amount) },
        { header: 'Written off', numeric: true, cell: money((entry) => entry.written_off_amount) },
        { header: 'Retained', numeric: true, cell: money((entry) => entry.retained_amount) },
        { header: 'Fees', numeric: true, cell: money((entry) => entry.gateway_fee) },
        { header: 'Net', numeric: true, cell: money((entry) => entry.net_amount) },
        {
          header: 'Charges (open / done / failed)',
          cell: (entry) => `${entry.count_open} / ${entry.count_completed} / ${entry.count_failed}`,
        },
        { header: 'Last payment', cell: (entry) => <DateTime value={entry.last_payment_at} /> },
        { header: 'Next due', cell: (entry) => entry.next_due_date ?? '—' },
      ]}
    />
  );
}

export const TRANSACTION_COLUMNS: Column<TransactionRow>[] = [
  { header: 'Transaction', cell: (row) => <IdLink to="transactions" id={row.id} /> },
  { header: 'Type', cell: (row) => row.record_type.replaceAll('_', ' ') },
  { header: 'Status', cell: (row) => <StatusBadge value={row.status} /> },
  { header: 'Payment status', cell: (row) => <StatusBadge value={row.payment_status} /> },
  { header: 'Amount', numeric: true, cell: (row) => <Money amount={row.amount} currency={row.currency} /> },
  { header: 'Due', cell: (row) => row.due_date ?? '—' },
  { header: 'Created', cell: (row) => <DateTime value={row.created_at} /> },
];

/** A record's transactions (GET /v1/transactions with its filter), paged, each linking to its page. */
export function RecordTransactions({ query, label }: { query: Query; label?: string }) {
  return (
    <PagedTable<TransactionRow>
      path="/v1/transactions"
      query={query}
      caption={label ?? 'Transactions'}
      columns={TRANSACTION_COLUMNS}
      empty="No transactions."
      limit={25}
    />
  );
}

/** True from the first render where `condition` held: an action offered once stays mounted with its dialog. */
export function useSticky(condition: boolean): boolean {
  const [held, setHeld] = useState(condition);
  useEffect(() => {
    if (condition) setHeld(true);
  }, [condition]);
  return held || condition;
}
