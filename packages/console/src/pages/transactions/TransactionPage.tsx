// One transaction: its amounts, states, errors, gateway references and links, the actions its state allows
// (operators and admins), and its refunds, reattempt links, history and gateway logs.
import { Anchor, Badge, Code, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useEffect, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import type { ApiList } from '../../api';
import { DateTime, ErrorNotice, Money, Pager, StatusBadge, usePagedList, useResource } from '../../components/data';
import { useSession } from '../../session';
import { ScrollRegion } from './ScrollRegion';
import { TransactionActions } from './TransactionActions';
import { humanize, type GatewayLog, type HistoryEntry, type Transaction } from './model';

type Row = [label: string, value: ReactNode];

/** Label/value pairs as a two-column table with row headers; empty values show as a dash. */
function Fields({ label, rows }: { label: string; rows: Row[] }) {
  return (
    <section>
      <Title order={2} size="h4" mb="xs">
        {label}
      </Title>
      <Table aria-label={label} withRowBorders={false} verticalSpacing={4}>
        <Table.Tbody>
          {rows.map(([name, value]) => (
            <Table.Tr key={name}>
              <Table.Th scope="row" w="45%" fw={600}>
                {name}
              </Table.Th>
              <Table.Td>{value === null || value === undefined || value === '' ? '—' : value}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </section>
  );
}

const mono = (value: string | null) => (value ? <Code>{value}</Code> : null);

/** A link to a console page of another record, by its id. */
function RecordLink({ to, id }: { to: string; id: string | null }) {
  if (!id) return <span>—</span>;
  return (
    <Anchor component={Link} to={`/${to}/${id}`} ff="monospace" fz="sm">
      {id}
    </Anchor>
  );
}

const yesNo = (value: boolean) => (value ? 'Yes' : 'No');

function changeText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A section listing the transactions related to this one (its refunds, its reattempt), paged. */
function Related(props: { title: string; testId: string; query: Record<string, string>; generation: number }) {
  const { title, testId, query, generation } = props;
  const list = usePagedList<Transaction>('/v1/transactions', query, 50);
  useGenerationReload(generation, list.reload);
  const rows = list.data?.data ?? [];
  const headingId = `${testId}-heading`;
  return (
    <section aria-labelledby={headingId}>
      <Title order={2} size="h4" id={headingId} mb="xs">
        {title}
      </Title>
      <ErrorNotice error={list.error} title={`The ${title.toLowerCase()} could not be loaded`} />
      <Table aria-label={title} data-testid={testId}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>ID</Table.Th>
            <Table.Th>Amount</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Reason / error</Table.Th>
            <Table.Th>Created</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={row.id}>
              <Table.Td>
                <RecordLink to="transactions" id={row.id} />
              </Table.Td>
              <Table.Td>
                <Money amount={row.amount} currency={row.currency} />
              </Table.Td>
              <Table.Td>
                <StatusBadge value={row.payment_status ?? row.status} />
              </Table.Td>
              <Table.Td>{row.error_message ?? row.description ?? '—'}</Table.Td>
              <Table.Td>
                <DateTime value={row.created_at} />
              </Table.Td>
            </Table.Tr>
          ))}
          {!list.loading && rows.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={5}>No {title.toLowerCase()}.</Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
      {(list.hasPrevious || list.data?.has_more) && <Pager list={list} label={title} />}
    </section>
  );
}

/** Calls `reload` whenever `generation` moves on (the page's actions bump it). */
function useGenerationReload(generation: number, reload: () => void): void {
  useEffect(() => {
    if (generation > 0) reload();
  }, [generation, reload]);
}

function History({ id, generation }: { id: string; generation: number }) {
  const history = useResource<ApiList<HistoryEntry>>(`/v1/transactions/${id}/history`);
  useGenerationReload(generation, history.reload);
  const rows = history.data?.data ?? [];
  return (
    <section aria-labelledby="history-heading">
      <Title order={2} size="h4" id="history-heading" mb="xs">
        History
      </Title>
      <ErrorNotice error={history.error} title="The history could not be loaded" />
      <ScrollRegion label="History table">
        <Table aria-label="History" data-testid="history-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>At</Table.Th>
              <Table.Th>Actor</Table.Th>
              <Table.Th>Action</Table.Th>
              <Table.Th>Changes</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((entry) => (
              <Table.Tr key={entry.id}>
                <Table.Td>
                  <DateTime value={entry.at} />
                </Table.Td>
                <Table.Td>{entry.actor}</Table.Td>
                <Table.Td>{entry.action}</Table.Td>
                <Table.Td>
                  {Object.entries(entry.changes).map(([field, [before, after]]) => (
                    <Text size="sm" key={field}>
                      {field}: {changeText(before)} → {changeText(after)}
                    </Text>
                  ))}
                </Table.Td>
              </Table.Tr>
            ))}
            {!history.loading && rows.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={4}>No history.</Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </ScrollRegion>
    </section>
  );
}

function GatewayLogs({ id, generation }: { id: string; generation: number }) {
  const list = usePagedList<GatewayLog>(`/v1/transactions/${id}/gateway-logs`, {}, 20);
  useGenerationReload(generation, list.reload);
  const rows = list.data?.data ?? [];
  return (
    <section aria-labelledby="gateway-logs-heading">
      <Title order={2} size="h4" id="gateway-logs-heading" mb="xs">
        Gateway logs
      </Title>
      <ErrorNotice error={list.error} title="The gateway logs could not be loaded" />
      <ScrollRegion label="Gateway logs table">
        <Table aria-label="Gateway logs" data-testid="gateway-logs-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>At</Table.Th>
              <Table.Th>Interaction</Table.Th>
              <Table.Th>Result</Table.Th>
              <Table.Th>Request</Table.Th>
              <Table.Th>HTTP status</Table.Th>
              <Table.Th>Gateway reference</Table.Th>
              <Table.Th>Message</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((entry) => (
              <Table.Tr key={entry.id}>
                <Table.Td>
                  <DateTime value={entry.created_at} />
                </Table.Td>
                <Table.Td>
                  {entry.interaction_type}
                  {entry.is_notification ? ' (notification)' : ''}
                </Table.Td>
                <Table.Td>
                  <StatusBadge value={entry.result_code} />
                </Table.Td>
                <Table.Td>
                  {entry.http_method ?? ''} {entry.http_path ?? ''}
                </Table.Td>
                <Table.Td>{entry.http_status ?? '—'}</Table.Td>
                <Table.Td>{mono(entry.gateway_ref_number) ?? '—'}</Table.Td>
                <Table.Td>{entry.gateway_message ?? entry.gateway_result_code ?? '—'}</Table.Td>
              </Table.Tr>
            ))}
            {!list.loading && rows.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={7}>No gateway interactions.</Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </ScrollRegion>
      {(list.hasPrevious || list.data?.has_more) && <Pager list={list} label="Gateway logs" />}
    </section>
  );
}

export default function TransactionPage() {
  const { id = '' } = useParams();
  // Keyed by the id: another transaction (a clone's link) starts with fresh state.
  return <TransactionView key={id} id={id} />;
}

function TransactionView({ id }: { id: string }) {
  const { canWrite } = useSession();
  const resource = useResource<Transaction>(`/v1/transactions/${encodeURIComponent(id)}`);
  const [generation, setGeneration] = useState(0);
  const t = resource.data?.id === id ? resource.data : undefined;

  const changed = () => {
    resource.reload();
    setGeneration((value) => value + 1);
  };

  return (
    <Stack>
      <Title order={1}>Transaction {id}</Title>
      <ErrorNotice error={resource.error} title="The transaction could not be loaded" />
      {!t && resource.loading && <Text>Loading…</Text>}
      {t && (
        <>
          <Group gap="sm" data-testid="transaction-summary">
            <Text fw={700} size="xl">
              <Money amount={t.amount} currency={t.currency} />
            </Text>
            <StatusBadge value={t.status} />
            {t.payment_status && <StatusBadge value={t.payment_status} />}
            {t.to_fix && (
              <Badge color="red" variant="light" c="dark.8" tt="none" radius="sm">
                To fix: {t.to_fix.replaceAll('_', ' ')}
              </Badge>
            )}
          </Group>
          {canWrite && <TransactionActions transaction={t} onChanged={changed} />}
          <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
            <Fields
              label="Amounts"
              rows={[
                ['Amount', <Money amount={t.amount} currency={t.currency} />],
                ['Authorized', <Money amount={t.authorized_amount} currency={t.currency} />],
                ['Captured', <Money amount={t.captured_amount} currency={t.currency} />],
                ['Refunded', <Money amount={t.refunded_amount} currency={t.currency} />],
                ['Disputed', <Money amount={t.disputed_amount} currency={t.currency} />],
                ['Retained', <Money amount={t.retained_amount} currency={t.currency} />],
                ['Gateway fee', t.gateway_fee === null ? null : <Money amount={t.gateway_fee} currency={t.currency} />],
                [
                  'Application fee',
                  t.application_fee === null ? null : <Money amount={t.application_fee} currency={t.currency} />,
                ],
                ['Net', t.net_amount === null ? null : <Money amount={t.net_amount} currency={t.currency} />],
                [
                  'Settlement',
                  t.settlement_amount === null ? null : (
                    <Money amount={t.settlement_amount} currency={t.settlement_currency} />
                  ),
                ],
                ['Exchange rate', t.exchange_rate],
                ['Balance status', t.balance_status],
                ['Available on', t.available_on],
              ]}
            />
            <Fields
              label="State"
              rows={[
                ['Status', <StatusBadge value={t.status} />],
                ['Payment status', <StatusBadge value={t.payment_status} />],
                ['To fix', t.to_fix ? humanize(t.to_fix) : null],
                ['Payment method usable', yesNo(!t.invalid_payment_method)],
                ['Error code', mono(t.error_code)],
                ['Decline code', mono(t.decline_code)],
                ['Error type', t.error_type],
                ['Error message', t.error_message],
                ['Advice code', t.advice_code],
                ['Network status', t.network_status],
                ['Risk level', t.risk_level],
                [
                  'Authorization expires',
                  t.authorization_expires_at && <DateTime value={t.authorization_expires_at} />,
                ],
                ['Uncaptured by', t.uncaptured_method],
                ['Processed', t.processed_at && <DateTime value={t.processed_at} />],
              ]}
            />
            <Fields
              label="Details"
              rows={[
                ['Record type', humanize(t.record_type)],
                ['Transaction type', humanize(t.transaction_type)],
                [
                  'Non-gateway',
                  t.non_gateway ? `Yes${t.sub_type ? ` (${t.sub_type.replaceAll('_', ' ')})` : ''}` : 'No',
                ],
                ['Due date', t.due_date],
                ['Date to process', t.date_to_process],
                ['Auto-process', yesNo(t.auto_process)],
                [
                  'Flags',
                  [t.authorize && 'authorize', t.capture && 'capture', t.refund && 'refund'].filter(Boolean).join(', '),
                ],
                ['Source', t.source],
                ['Processing mode', t.processing_mode],
                ['Description', t.description],
                ['Created', <DateTime value={t.created_at} />],
                ['Updated', <DateTime value={t.updated_at} />],
              ]}
            />
            <Fields
              label="Links"
              rows={[
                ['Payment method', <RecordLink to="payment-methods" id={t.payment_method_id} />],
                ['Account', <RecordLink to="accounts" id={t.account_id} />],
                ['Contact', <RecordLink to="contacts" id={t.contact_id} />],
                ['Parent', <RecordLink to="parents" id={t.parent_id} />],
                ['Invoice', <RecordLink to="invoices" id={t.invoice_id} />],
                ['Order', <RecordLink to="orders" id={t.order_id} />],
                ['Payment schedule', mono(t.schedule_id)],
                ['Original transaction', <RecordLink to="transactions" id={t.original_transaction_id} />],
                [
                  'Reattempt of',
                  t.reattempt_of_id && (
                    <>
                      <RecordLink to="transactions" id={t.reattempt_of_id} /> (reattempt {t.reattempt_number})
                    </>
                  ),
                ],
                ['Source transaction', <RecordLink to="transactions" id={t.source_transaction_id} />],
                ['Payout', <RecordLink to="transactions" id={t.payout_id} />],
                ['Connected account', mono(t.connected_account_id)],
                ['Transfer group', t.transfer_group],
              ]}
            />
            <Fields
              label="Gateway"
              rows={[
                ['Gateway', mono(t.gateway_id)],
                ['Payment intent', mono(t.gateway_ref.payment_intent)],
                ['Charge', mono(t.gateway_ref.charge)],
                ['Balance transaction', mono(t.gateway_ref.balance_transaction)],
                ['Refund', mono(t.gateway_ref.refund)],
                ['Payout', mono(t.gateway_ref.payout)],
                ['Transfer', mono(t.gateway_ref.transfer)],
              ]}
            />
            <Fields
              label="Metadata"
              rows={
                Object.keys(t.metadata).length === 0
                  ? [['Keys', 'None']]
                  : Object.entries(t.metadata).map(([key, value]): Row => [key, value])
              }
            />
          </SimpleGrid>
          {t.record_type === 'charge' && t.transaction_type !== 'refund' && (
            <Related
              title="Refunds"
              testId="refunds-table"
              query={{ original_transaction_id: t.id, transaction_type: 'refund' }}
              generation={generation}
            />
          )}
          {t.status === 'failed' && (
            <Related
              title="Reattempts"
              testId="reattempts-table"
              query={{ reattempt_of_id: t.id }}
              generation={generation}
            />
          )}
          <History id={t.id} generation={generation} />
          <GatewayLogs id={t.id} generation={generation} />
        </>
      )}
    </Stack>
  );
}
