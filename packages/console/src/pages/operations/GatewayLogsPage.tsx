// The gateway log: every interaction with a gateway (calls Settle made and notifications received), filtered by the
// API, paged.
import { Anchor, Loader, Stack, Table, Title } from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { DateTime, ErrorNotice, Pager, StatusBadge, usePagedList } from '../../components/data';
import { FilterForm, type FilterField, type FilterValues } from './shared';

export interface GatewayLog {
  id: string;
  object: 'gateway_log';
  gateway_id: string;
  transaction_id: string | null;
  interaction_type: string;
  interaction_status: string;
  result_code: string;
  gateway_ref_number: string | null;
  gateway_auth_code: string | null;
  gateway_date: string | null;
  gateway_message: string | null;
  gateway_result_code: string | null;
  gateway_result_code_description: string | null;
  idempotency_key: string | null;
  is_notification: boolean;
  http_method: string | null;
  http_path: string | null;
  http_status: number | null;
  request_id: string | null;
  request_body: unknown;
  response_body: unknown;
  latency_ms: number;
  order_payment_summary_id: string | null;
  created_at: string;
}

const FILTERS: FilterField[] = [
  {
    name: 'interaction_type',
    label: 'Interaction',
    kind: 'select',
    options: [
      'authorization',
      'authorization_reversal',
      'capture',
      'sale',
      'referenced_refund',
      'void',
      'tokenize',
      'sync',
    ],
  },
  {
    name: 'interaction_status',
    label: 'Interaction status',
    kind: 'select',
    options: ['initiated', 'success', 'failed', 'timeout', 'noop'],
  },
  {
    name: 'result_code',
    label: 'Result code',
    kind: 'select',
    options: [
      'success',
      'decline',
      'indeterminate',
      'permanent_fail',
      'requires_review',
      'system_error',
      'validation_error',
    ],
  },
  { name: 'transaction_id', label: 'Transaction id', kind: 'text', placeholder: 'txn_...' },
  { name: 'gateway_ref_number', label: 'Gateway reference', kind: 'text', placeholder: 'pi_...' },
  { name: 'gateway_message', label: 'Message contains', kind: 'text' },
  { name: 'created_after', label: 'Logged after', kind: 'datetime' },
  { name: 'created_before', label: 'Logged before', kind: 'datetime' },
];

export default function GatewayLogsPage() {
  const [filters, setFilters] = useState<FilterValues>({});
  const list = usePagedList<GatewayLog>('/v1/gateway-logs', filters, 50);
  return (
    <Stack>
      <Title order={1}>Gateway logs</Title>
      <FilterForm fields={FILTERS} onApply={setFilters} label="Gateway log filters" />
      <ErrorNotice error={list.error} />
      {list.loading && !list.data && <Loader size="sm" aria-label="Loading gateway logs" />}
      {list.data && (
        <Table.ScrollContainer minWidth={1000}>
          <Table striped highlightOnHover>
            <Table.Caption>Gateway log entries, newest first</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Entry</Table.Th>
                <Table.Th>Interaction</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Result</Table.Th>
                <Table.Th>Request</Table.Th>
                <Table.Th>HTTP</Table.Th>
                <Table.Th>Transaction</Table.Th>
                <Table.Th>Latency</Table.Th>
                <Table.Th>Logged</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.data.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={9}>No gateway log entries match.</Table.Td>
                </Table.Tr>
              )}
              {list.data.data.map((entry) => (
                <Table.Tr key={entry.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/gateway-logs/${entry.id}`}>
                      {entry.id}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    {entry.interaction_type}
                    {entry.is_notification ? ' (notification)' : ''}
                  </Table.Td>
                  <Table.Td>
                    <StatusBadge value={entry.interaction_status} />
                  </Table.Td>
                  <Table.Td>{entry.result_code}</Table.Td>
                  <Table.Td>{entry.http_method ? `${entry.http_method} ${entry.http_path ?? ''}` : '—'}</Table.Td>
                  <Table.Td>{entry.http_status ?? '—'}</Table.Td>
                  <Table.Td>
                    {entry.transaction_id ? (
                      <Anchor component={Link} to={`/transactions/${entry.transaction_id}`}>
                        {entry.transaction_id}
                      </Anchor>
                    ) : (
                      '—'
                    )}
                  </Table.Td>
                  <Table.Td>{entry.latency_ms} ms</Table.Td>
                  <Table.Td>
                    <DateTime value={entry.created_at} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Pager list={list} label="Gateway logs" />
    </Stack>
  );
}
