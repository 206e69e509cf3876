// Webhook events: what the gateways sent, with their processing state; filters go to the API; an admin may replay
// every event of a period.
import { Anchor, Loader, NativeSelect, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../../api';
import { ConfirmAction } from '../../components/ConfirmAction';
import { DateTime, ErrorNotice, Pager, StatusBadge, usePagedList } from '../../components/data';
import { useSession } from '../../session';
import { FilterForm, localToIso, type FilterField, type FilterValues, Notice } from './shared';

export interface WebhookEventSummary {
  id: string;
  object: 'webhook_event';
  gateway_id: string;
  event_id: string;
  type: string;
  object_type: string | null;
  object_id: string | null;
  api_version: string | null;
  livemode: boolean;
  event_created_at: string;
  status: string;
  outcome: string | null;
  error: string | null;
  retryable: boolean | null;
  attempts: number;
  deliveries: number;
  received_at: string;
  last_received_at: string;
  process_after: string;
  claimed_until: string | null;
  processed_at: string | null;
  updated_at: string;
}

export const WEBHOOK_STATUSES = ['pending', 'processed', 'failed', 'not_supported'] as const;

const FILTERS: FilterField[] = [
  { name: 'status', label: 'Status', kind: 'select', options: WEBHOOK_STATUSES },
  { name: 'type', label: 'Type', kind: 'text', placeholder: 'payment_intent.succeeded' },
  { name: 'gateway_id', label: 'Gateway id', kind: 'text', placeholder: 'gw_...' },
  { name: 'object_id', label: 'Object id', kind: 'text', placeholder: 'pi_...' },
  { name: 'event_id', label: 'Event id', kind: 'text', placeholder: 'evt_...' },
  { name: 'received_after', label: 'Received after', kind: 'datetime' },
  { name: 'received_before', label: 'Received before', kind: 'datetime' },
];

interface ReplayAnswer {
  object: 'webhook_event_replay';
  reset: number;
  summary: { picked: number; processed: number; failed: number; not_supported: number };
}

function ReplayPeriod({ onDone }: { onDone(): void }) {
  const [after, setAfter] = useState('');
  const [before, setBefore] = useState('');
  const [status, setStatus] = useState('');
  const [type, setType] = useState('');
  const [result, setResult] = useState<ReplayAnswer | null>(null);
  const afterIso = localToIso(after);
  const beforeIso = localToIso(before);
  const invalid = !afterIso || !beforeIso || afterIso >= beforeIso;
  return (
    <Stack gap="xs">
      <Title order={2} size="h4">
        Replay a period
      </Title>
      <Text size="sm">
        Every event first received in the period (optionally of one status or type) goes back to pending and is
        processed at once; at most 10,000 events per replay.
      </Text>
      <div>
        <ConfirmAction
          label="Replay a period"
          title="Replay the webhook events of a period"
          confirmLabel="Replay events"
          invalid={invalid}
          run={async () => {
            const answer = await api.post<ReplayAnswer>('/v1/webhook-events/replay', {
              received_after: afterIso,
              received_before: beforeIso,
              ...(status ? { status } : {}),
              ...(type.trim() ? { type: type.trim() } : {}),
            });
            setResult(answer.data);
            return answer;
          }}
          onDone={onDone}
        >
          <TextInput
            type="datetime-local"
            label="Received after"
            required
            value={after}
            onChange={(event) => setAfter(event.currentTarget.value)}
          />
          <TextInput
            type="datetime-local"
            label="Received before"
            required
            value={before}
            onChange={(event) => setBefore(event.currentTarget.value)}
            error={afterIso && beforeIso && afterIso >= beforeIso ? 'Must be later than "Received after".' : undefined}
          />
          <NativeSelect
            label="Only events of status"
            value={status}
            onChange={(event) => setStatus(event.currentTarget.value)}
            data={[{ value: '', label: 'Any status' }, ...WEBHOOK_STATUSES.map((s) => ({ value: s, label: s }))]}
          />
          <TextInput
            label="Only events of type"
            value={type}
            onChange={(event) => setType(event.currentTarget.value)}
          />
        </ConfirmAction>
      </div>
      {result && (
        <Notice color="green" role="status" title="Period replayed" data-testid="replay-period-result">
          {result.reset} event(s) reset: {result.summary.processed} processed, {result.summary.failed} failed,{' '}
          {result.summary.not_supported} not supported.
        </Notice>
      )}
    </Stack>
  );
}

export default function WebhookEventsPage() {
  const { isAdmin } = useSession();
  const [filters, setFilters] = useState<FilterValues>({});
  const list = usePagedList<WebhookEventSummary>('/v1/webhook-events', filters, 50);
  return (
    <Stack>
      <Title order={1}>Webhook events</Title>
      <FilterForm fields={FILTERS} onApply={setFilters} label="Webhook event filters" />
      <ErrorNotice error={list.error} />
      {list.loading && !list.data && <Loader size="sm" aria-label="Loading webhook events" />}
      {list.data && (
        <Table.ScrollContainer minWidth={900}>
          <Table striped highlightOnHover>
            <Table.Caption>Webhook events, newest first</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Event</Table.Th>
                <Table.Th>Type</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Object</Table.Th>
                <Table.Th>Gateway</Table.Th>
                <Table.Th>Attempts</Table.Th>
                <Table.Th>Received</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.data.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={7}>No webhook events match.</Table.Td>
                </Table.Tr>
              )}
              {list.data.data.map((event) => (
                <Table.Tr key={event.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/webhook-events/${event.id}`}>
                      {event.id}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{event.type}</Table.Td>
                  <Table.Td>
                    <StatusBadge value={event.status} />
                  </Table.Td>
                  <Table.Td>{event.object_id ?? '—'}</Table.Td>
                  <Table.Td>{event.gateway_id}</Table.Td>
                  <Table.Td>{event.attempts}</Table.Td>
                  <Table.Td>
                    <DateTime value={event.received_at} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Pager list={list} label="Webhook events" />
      {isAdmin && <ReplayPeriod onDone={list.reload} />}
    </Stack>
  );
}
