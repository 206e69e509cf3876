// One order (GET /v1/orders/{id}): totals, its payment summaries with their balances and records, its gateway log,
// and, for operators and admins, capture (ensure funds: POST /v1/orders/{id}/capture) and refund (ensure refunds:
// POST /v1/orders/{id}/refund) of an amount across its payments.
import { Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useParams } from 'react-router';
import { api, type ApiList } from '../../api';
import { ConfirmAction } from '../../components/ConfirmAction';
import { DateTime, ErrorNotice, Money, StatusBadge, useResource } from '../../components/data';
import { formatMoney, parseMoney, toDecimalText } from '../../money';
import { useSession } from '../../session';
import { Code, Fields, IdLink, Loaded, PagedTable, RowsTable, Section, TotalsTable, useSticky } from './shared';
import type { GatewayLog, Order, PaymentRecord, PaymentSummary } from './types';

function AmountAction({
  order,
  kind,
  available,
  onDone,
}: {
  order: Order;
  kind: 'capture' | 'refund';
  available: number;
  onDone(): void;
}) {
  const [text, setText] = useState(toDecimalText(available, order.currency));
  useEffect(() => setText(toDecimalText(available, order.currency)), [available, order.currency]);
  const parsed = parseMoney(text, order.currency);
  const amount = parsed !== undefined && parsed > 0 ? parsed : undefined;
  const capture = kind === 'capture';
  return (
    <ConfirmAction
      label={capture ? 'Capture' : 'Refund'}
      title={capture ? 'Capture an amount of this order' : 'Refund an amount of this order'}
      variant={capture ? 'filled' : 'default'}
      invalid={amount === undefined}
      run={() => api.post(`/v1/orders/${order.id}/${kind}`, { amount })}
      onDone={onDone}
    >
      <Text size="sm">
        {capture
          ? `Captures from the order's authorizations, oldest first (the gateway releases what a partial capture leaves). Available to capture: ${formatMoney(available, order.currency)}.`
          : `Refunds the order's captured charges, newest first, each as a new refund. Available to refund: ${formatMoney(available, order.currency)}.`}
      </Text>
      <TextInput
        label={`Amount to ${kind} (${order.currency.toUpperCase()})`}
        value={text}
        onChange={(event) => setText(event.currentTarget.value)}
        error={amount === undefined ? 'A positive amount, e.g. 12.34' : undefined}
      />
    </ConfirmAction>
  );
}

type RecordRow = PaymentRecord & { summary: PaymentSummary };

function records(summaries: PaymentSummary[]): RecordRow[] {
  return summaries.flatMap((summary) =>
    [...summary.authorizations, ...summary.payments, ...summary.refunds].map((record) => ({ ...record, summary })),
  );
}

export default function OrderPage() {
  const { id = '' } = useParams();
  const { canWrite } = useSession();
  const path = `/v1/orders/${encodeURIComponent(id)}`;
  const resource = useResource<Order>(path);
  const summaries = useResource<ApiList<PaymentSummary>>(`${path}/payment-summaries`);
  const [version, setVersion] = useState(0);
  const reload = () => {
    resource.reload();
    summaries.reload();
    setVersion((value) => value + 1);
  };
  const list = summaries.data?.data ?? [];
  const toCapture = list.reduce((sum, summary) => sum + summary.available_to_capture, 0);
  const toRefund = list.reduce((sum, summary) => sum + summary.available_to_refund, 0);
  const capturable = useSticky(toCapture > 0);
  const refundable = useSticky(toRefund > 0);
  return (
    <Stack>
      <Title order={1}>Order {resource.data?.external_id ?? id}</Title>
      <Loaded resource={resource}>
        {(order) => (
          <>
            {canWrite && (capturable || refundable) ? (
              <Group aria-label="Order actions" role="group">
                {capturable ? (
                  <AmountAction order={order} kind="capture" available={toCapture} onDone={reload} />
                ) : null}
                {refundable ? <AmountAction order={order} kind="refund" available={toRefund} onDone={reload} /> : null}
              </Group>
            ) : null}
            <Fields
              label="Order"
              rows={[
                ['Id', order.id],
                ['External id', <Code key="e" value={order.external_id} />],
                ['Account', <IdLink key="a" to="accounts" id={order.account_id} />],
                ['Total', <Money key="t" amount={order.total} currency={order.currency} />],
                ['Description', order.description ?? '—'],
                ['Created', <DateTime key="c" value={order.created_at} />],
                ['Updated', <DateTime key="u" value={order.updated_at} />],
              ]}
            />
            <Section title="Totals">
              <TotalsTable totals={order.totals} label="Totals per currency" />
            </Section>
            <Section title="Payment summaries">
              <ErrorNotice error={summaries.error} />
              <RowsTable<PaymentSummary>
                caption="Payment summaries, one per payment method"
                rows={list}
                empty="No payments on this order yet."
                columns={[
                  { header: 'Summary', cell: (row) => <Code value={row.id} /> },
                  {
                    header: 'Payment method',
                    cell: (row) => <IdLink to="payment-methods" id={row.payment_method_id} />,
                  },
                  ...(
                    [
                      ['Authorized', (row) => row.authorized_amount],
                      ['Captured', (row) => row.captured_amount],
                      ['Refunded', (row) => row.refunded_amount],
                      ['Pending', (row) => row.pending_amount],
                      ['Available to capture', (row) => row.available_to_capture],
                      ['Available to refund', (row) => row.available_to_refund],
                      ['Balance', (row) => row.balance],
                    ] as [string, (row: PaymentSummary) => number][]
                  ).map(([header, pick]) => ({
                    header,
                    numeric: true,
                    cell: (row: PaymentSummary) => <Money amount={pick(row)} currency={row.currency} />,
                  })),
                ]}
              />
              <RowsTable<RecordRow>
                caption="Payment records (authorizations, payments, refunds)"
                rows={records(list)}
                empty="No records."
                columns={[
                  { header: 'Kind', cell: (row) => row.kind },
                  { header: 'Transaction', cell: (row) => <IdLink to="transactions" id={row.transaction_id} /> },
                  { header: 'Status', cell: (row) => <StatusBadge value={row.status} /> },
                  {
                    header: 'Amount',
                    numeric: true,
                    cell: (row) => <Money amount={row.amount} currency={row.summary.currency} />,
                  },
                  { header: 'Mode', cell: (row) => row.processing_mode },
                  { header: 'Result', cell: (row) => row.result_code ?? '—' },
                  { header: 'Gateway reference', cell: (row) => <Code value={row.gateway_ref_number} /> },
                  { header: 'Created', cell: (row) => <DateTime value={row.created_at} /> },
                ]}
              />
            </Section>
            <Section title="Gateway log">
              <PagedTable<GatewayLog>
                key={`glog-${version}`}
                path={`${path}/gateway-logs`}
                query={{}}
                caption="Gateway calls and notifications of this order"
                empty="No gateway log entries."
                limit={25}
                columns={[
                  { header: 'When', cell: (row) => <DateTime value={row.created_at} /> },
                  { header: 'Interaction', cell: (row) => row.interaction_type.replaceAll('_', ' ') },
                  { header: 'Status', cell: (row) => <StatusBadge value={row.interaction_status} /> },
                  { header: 'Result', cell: (row) => row.result_code },
                  { header: 'HTTP', cell: (row) => (row.http_status === null ? '—' : String(row.http_status)) },
                  { header: 'Transaction', cell: (row) => <IdLink to="transactions" id={row.transaction_id} /> },
                  { header: 'Gateway reference', cell: (row) => <Code value={row.gateway_ref_number} /> },
                ]}
              />
            </Section>
          </>
        )}
      </Loaded>
    </Stack>
  );
}
