// Small pieces every page uses: loading an API resource, showing an error, money, times and statuses.
import { Alert, Badge, Button, Group, Text, type MantineColor } from '@mantine/core';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, type ApiList, type Query } from '../api';
import { formatMoney } from '../money';

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload(): void;
}

/** GET `path` (with `query`) now and whenever either changes; `reload()` asks again. Stale answers are dropped. */
export function useResource<T>(path: string | null, query?: Query): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(path !== null);
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify(query ?? {});
  const latest = useRef(0);
  useEffect(() => {
    if (path === null) return;
    const call = ++latest.current;
    setLoading(true);
    api
      .get<T>(path, JSON.parse(key) as Query)
      .then((answer) => {
        if (call !== latest.current) return;
        setData(answer);
        setError(undefined);
      })
      .catch((failure: unknown) => {
        if (call !== latest.current) return;
        setError(failure instanceof ApiError ? failure : new ApiError(0, undefined, String(failure)));
      })
      .finally(() => {
        if (call === latest.current) setLoading(false);
      });
  }, [path, key, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { data, error, loading, reload };
}

export interface PagedList<T> extends Resource<ApiList<T>> {
  /** 1-based page number, for the pager's label. */
  page: number;
  next(): void;
  previous(): void;
  hasPrevious: boolean;
}

/** A cursor-paged list: the API's `starting_after`/`next_cursor`, with the cursors seen kept for going back. */
export function usePagedList<T>(path: string, query: Query, limit = 50): PagedList<T> {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const key = JSON.stringify(query);
  useEffect(() => setCursors([undefined]), [key, path]);
  const cursor = cursors[cursors.length - 1];
  const resource = useResource<ApiList<T>>(path, { ...query, limit, starting_after: cursor });
  return {
    ...resource,
    page: cursors.length,
    hasPrevious: cursors.length > 1,
    next: () => {
      const nextCursor = resource.data?.next_cursor;
      if (resource.data?.has_more && nextCursor) setCursors((seen) => [...seen, nextCursor]);
    },
    previous: () => setCursors((seen) => (seen.length > 1 ? seen.slice(0, -1) : seen)),
  };
}

export function Pager({ list, label }: { list: PagedList<unknown>; label: string }) {
  return (
    <Group justify="flex-end" gap="xs" aria-label={`${label} pages`} role="navigation">
      <Button size="xs" variant="default" disabled={!list.hasPrevious || list.loading} onClick={list.previous}>
        Previous page
      </Button>
      <Text size="sm" aria-live="polite">
        Page {list.page}
      </Text>
      <Button size="xs" variant="default" disabled={!list.data?.has_more || list.loading} onClick={list.next}>
        Next page
      </Button>
    </Group>
  );
}

export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <Alert color="red" role="alert" title={title ?? 'Something went wrong'}>
      {message}
      {code && code !== 'network_error' ? ` (${code})` : ''}
    </Alert>
  );
}

export function Money({
  amount,
  currency,
}: {
  amount: number | null | undefined;
  currency: string | null | undefined;
}) {
  return (
    <span style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>{formatMoney(amount, currency)}</span>
  );
}

/** An ISO time as the browser's local date and time (the full value in the title). */
export function DateTime({ value }: { value: string | null | undefined }) {
  if (!value) return <span>—</span>;
  const date = new Date(value);
  return (
    <time dateTime={value} title={value}>
      {Number.isNaN(date.getTime()) ? value : date.toLocaleString()}
    </time>
  );
}

const STATUS_COLORS: Record<string, MantineColor> = {
  completed: 'green',
  succeeded: 'green',
  paid: 'green',
  valid: 'green',
  reconciled: 'green',
  open: 'blue',
  scheduled: 'blue',
  running: 'blue',
  authorized: 'violet',
  pending: 'yellow',
  pending_payment_intent: 'yellow',
  in_transit: 'yellow',
  partially_paid: 'yellow',
  failed: 'red',
  error: 'red',
  canceled: 'gray',
  abandoned: 'gray',
  refunded: 'grape',
};

/** A status as a badge; colour is a hint only, the text says it (dark text on a light fill keeps AA contrast). */
export function StatusBadge({ value }: { value: string | null | undefined }) {
  if (!value) return <span>—</span>;
  return (
    <Badge
      color={STATUS_COLORS[value] ?? 'gray'}
      variant="light"
      c="dark.8"
      tt="none"
      radius="sm"
      // Never cut to "comple…": the table column grows to the whole status instead.
      styles={{ root: { overflow: 'visible', flexShrink: 0 }, label: { overflow: 'visible', textOverflow: 'clip' } }}
    >
      {value.replaceAll('_', ' ')}
    </Badge>
  );
}
