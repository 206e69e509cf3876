// The transactions list: the API's list views as tabs, filters and the sort in the URL (a reload or a shared link
// shows the same list), cursor paging, and a batch capture of the selected rows. One API call per change: the
// table is remounted for each new query, so it starts at page 1 without first asking for a stale cursor.
import {
  Anchor,
  Checkbox,
  Group,
  NativeSelect,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
  UnstyledButton,
} from '@mantine/core';
import { useState, type KeyboardEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { Query } from '../../api';
import { DateTime, ErrorNotice, Money, Pager, StatusBadge, usePagedList } from '../../components/data';
import { useSession } from '../../session';
import { ScrollRegion } from './ScrollRegion';
import { BatchCapture } from './BatchCapture';
import {
  DEFAULT_SORT,
  humanize,
  PAYMENT_STATUSES,
  RECORD_TYPES,
  SORTS,
  STATUSES,
  TRANSACTION_TYPES,
  VIEWS,
  type SortKey,
  type Transaction,
} from './model';

const PAGE_SIZE = 50;

/** The URL's filters, as the API names them. */
const FILTERS = [
  'status',
  'payment_status',
  'record_type',
  'transaction_type',
  'account_id',
  'contact_id',
  'due_after',
  'due_before',
] as const;

function options(values: readonly string[]) {
  return [{ value: '', label: 'Any' }, ...values.map((value) => ({ value, label: humanize(value) }))];
}

/** A text filter applied when the field is left or Enter is pressed (not on every keystroke). */
function IdFilter({ label, value, onChange }: { label: string; value: string; onChange(value: string): void }) {
  const [text, setText] = useState(value);
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    setShown(value);
    setText(value);
  }
  const commit = () => {
    if (text.trim() !== value) onChange(text.trim());
  };
  return (
    <TextInput
      size="xs"
      label={label}
      value={text}
      onChange={(event) => setText(event.currentTarget.value)}
      onBlur={commit}
      onKeyDown={(event: KeyboardEvent<HTMLInputElement>) => {
        if (event.key === 'Enter') commit();
      }}
      spellCheck={false}
      autoComplete="off"
    />
  );
}

function SortHeader({
  column,
  label,
  sort,
  onSort,
}: {
  column: SortKey;
  label: string;
  sort: string;
  onSort(sort: string): void;
}) {
  const direction = sort === column ? 'ascending' : sort === `-${column}` ? 'descending' : 'none';
  // A new column sorts ascending (created: newest first, as the default); the sorted one flips.
  const next =
    direction === 'ascending'
      ? `-${column}`
      : direction === 'descending'
        ? column
        : column === 'created'
          ? '-created'
          : column;
  const arrow = direction === 'ascending' ? ' ▲' : direction === 'descending' ? ' ▼' : '';
  return (
    <Table.Th aria-sort={direction}>
      <UnstyledButton onClick={() => onSort(next)} fw={700} fz="sm">
        {label}
        <span aria-hidden="true">{arrow}</span>
      </UnstyledButton>
    </Table.Th>
  );
}

function TransactionTable({ query, sort, onSort }: { query: Query; sort: string; onSort(sort: string): void }) {
  const { canWrite } = useSession();
  const list = usePagedList<Transaction>('/v1/transactions', query, PAGE_SIZE);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const rows = list.data?.data ?? [];
  const allOnPage = rows.length > 0 && rows.every((row) => selected.has(row.id));
  const someOnPage = rows.some((row) => selected.has(row.id));

  const toggle = (id: string, on: boolean) =>
    setSelected((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const togglePage = (on: boolean) =>
    setSelected((current) => {
      const next = new Set(current);
      for (const row of rows) {
        if (on) next.add(row.id);
        else next.delete(row.id);
      }
      return next;
    });

  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Text size="sm" aria-live="polite">
          {selected.size} selected
        </Text>
        {canWrite && (
          <BatchCapture
            ids={[...selected]}
            onDone={() => {
              setSelected(new Set());
              list.reload();
            }}
          />
        )}
      </Group>
      <ErrorNotice error={list.error} title="The transactions could not be loaded" />
      <ScrollRegion label="Transactions table">
        <Table
          striped
          highlightOnHover
          data-testid="transactions-table"
          aria-label="Transactions"
          aria-busy={list.loading}
        >
          <Table.Thead>
            <Table.Tr>
              <Table.Th>
                <Checkbox
                  aria-label="Select all transactions on this page"
                  checked={allOnPage}
                  indeterminate={someOnPage && !allOnPage}
                  disabled={rows.length === 0}
                  onChange={(event) => togglePage(event.currentTarget.checked)}
                />
              </Table.Th>
              <Table.Th>ID</Table.Th>
              <Table.Th>Record type</Table.Th>
              <Table.Th>Type</Table.Th>
              <SortHeader column="amount" label="Amount" sort={sort} onSort={onSort} />
              <Table.Th>Status</Table.Th>
              <Table.Th>Payment status</Table.Th>
              <SortHeader column="due_date" label="Due date" sort={sort} onSort={onSort} />
              <SortHeader column="created" label="Created" sort={sort} onSort={onSort} />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((row) => (
              <Table.Tr key={row.id}>
                <Table.Td>
                  <Checkbox
                    aria-label={`Select transaction ${row.id}`}
                    checked={selected.has(row.id)}
                    onChange={(event) => toggle(row.id, event.currentTarget.checked)}
                  />
                </Table.Td>
                <Table.Td>
                  <Anchor component={Link} to={`/transactions/${row.id}`} ff="monospace" fz="sm">
                    {row.id}
                  </Anchor>
                </Table.Td>
                <Table.Td>{humanize(row.record_type)}</Table.Td>
                <Table.Td>{humanize(row.transaction_type)}</Table.Td>
                <Table.Td>
                  <Money amount={row.amount} currency={row.currency} />
                </Table.Td>
                <Table.Td>
                  <StatusBadge value={row.status} />
                </Table.Td>
                <Table.Td>
                  <StatusBadge value={row.payment_status} />
                </Table.Td>
                <Table.Td>{row.date_to_process ?? row.due_date ?? '—'}</Table.Td>
                <Table.Td>
                  <DateTime value={row.created_at} />
                </Table.Td>
              </Table.Tr>
            ))}
            {!list.loading && !list.error && rows.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={9} data-testid="transactions-empty">
                  No transactions match.
                </Table.Td>
              </Table.Tr>
            )}
            {list.loading && rows.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={9}>Loading…</Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </ScrollRegion>
      <Pager list={list} label="Transactions" />
    </Stack>
  );
}

export default function TransactionsPage() {
  const [params, setParams] = useSearchParams();
  const rawView = params.get('view') ?? 'all';
  const view = VIEWS.some(([value]) => value === rawView) ? rawView : 'all';
  const rawSort = params.get('sort') ?? DEFAULT_SORT;
  const sort = SORTS.includes(rawSort) ? rawSort : DEFAULT_SORT;
  const filters = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? ''])) as Record<
    (typeof FILTERS)[number],
    string
  >;

  const query: Query = {
    view: view === 'all' ? undefined : view,
    ...filters,
    // The default order is the API's own: not sent, so lists work against a server without `sort`.
    sort: sort === DEFAULT_SORT ? undefined : sort,
  };
  const queryKey = JSON.stringify(query);

  /** Sets (or, when empty, removes) URL parameters; the list starts again at page 1. */
  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      if (value === '' || (name === 'view' && value === 'all') || (name === 'sort' && value === DEFAULT_SORT))
        next.delete(name);
      else next.set(name, value);
    }
    setParams(next);
  };

  return (
    <Stack>
      <Title order={1}>Transactions</Title>
      <Tabs value={view} onChange={(value) => update({ view: value ?? 'all' })} activateTabWithKeyboard={false}>
        <Tabs.List aria-label="Transaction views">
          {VIEWS.map(([value, label]) => (
            <Tabs.Tab key={value} value={value}>
              {label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
      </Tabs>
      <section aria-label="Filters">
        <SimpleGrid cols={{ base: 2, sm: 4, lg: 8 }} spacing="xs">
          <NativeSelect
            size="xs"
            label="Status"
            data={options(STATUSES)}
            value={filters.status}
            onChange={(event) => update({ status: event.currentTarget.value })}
          />
          <NativeSelect
            size="xs"
            label="Payment status"
            data={options(PAYMENT_STATUSES)}
            value={filters.payment_status}
            onChange={(event) => update({ payment_status: event.currentTarget.value })}
          />
          <NativeSelect
            size="xs"
            label="Record type"
            data={options(RECORD_TYPES)}
            value={filters.record_type}
            onChange={(event) => update({ record_type: event.currentTarget.value })}
          />
          <NativeSelect
            size="xs"
            label="Transaction type"
            data={options(TRANSACTION_TYPES)}
            value={filters.transaction_type}
            onChange={(event) => update({ transaction_type: event.currentTarget.value })}
          />
          <IdFilter label="Account ID" value={filters.account_id} onChange={(value) => update({ account_id: value })} />
          <IdFilter label="Contact ID" value={filters.contact_id} onChange={(value) => update({ contact_id: value })} />
          <TextInput
            size="xs"
            type="date"
            label="Due after"
            value={filters.due_after}
            onChange={(event) => update({ due_after: event.currentTarget.value })}
          />
          <TextInput
            size="xs"
            type="date"
            label="Due before"
            value={filters.due_before}
            onChange={(event) => update({ due_before: event.currentTarget.value })}
          />
        </SimpleGrid>
      </section>
      <TransactionTable key={queryKey} query={query} sort={sort} onSort={(value) => update({ sort: value })} />
    </Stack>
  );
}
