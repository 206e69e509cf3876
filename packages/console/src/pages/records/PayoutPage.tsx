// One payout (GET /v1/payouts/{id}): amount, status, arrival date, its reconciliation, the items it paid out (the
// charges, refunds and fees, GET /v1/payouts/{id}/items, each linked to its transaction) and, for operators and
// admins, "Reconcile now" (POST /v1/payouts/{id}/reconcile).
import { Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useParams } from 'react-router';
import { api } from '../../api';
import { ConfirmAction } from '../../components/ConfirmAction';
import { DateTime, Money, StatusBadge, useResource } from '../../components/data';
import { useSession } from '../../session';
import { Code, Fields, IdLink, Loaded, PagedTable, Section } from './shared';
import type { Payout, PayoutItem } from './types';

export default function PayoutPage() {
  const { id = '' } = useParams();
  const { canWrite } = useSession();
  const path = `/v1/payouts/${encodeURIComponent(id)}`;
  const resource = useResource<Payout>(path);
  const [version, setVersion] = useState(0);
  const reload = () => {
    resource.reload();
    setVersion((value) => value + 1);
  };
  return (
    <Stack>
      <Title order={1}>Payout {id}</Title>
      <Loaded resource={resource}>
        {(payout) => (
          <>
            {canWrite ? (
              <div>
                <ConfirmAction
                  label="Reconcile now"
                  title="Reconcile this payout now"
                  run={() => api.post(`${path}/reconcile`)}
                  onDone={reload}
                >
                  <Text size="sm">
                    Reads the payout and its balance transactions from the gateway and links each to its Settle
                    transaction. Running it again changes nothing.
                  </Text>
                </ConfirmAction>
              </div>
            ) : null}
            <Fields
              label="Payout"
              rows={[
                ['Amount', <Money key="a" amount={payout.amount} currency={payout.currency} />],
                ['Status', <StatusBadge key="s" value={payout.status} />],
                ['Arrival date', payout.arrival_date ?? '—'],
                ['Method', `${payout.method ?? '—'}${payout.automatic ? ' (automatic)' : ''}`],
                ['Reconciliation', <StatusBadge key="r" value={payout.reconciliation_status} />],
                ["Gateway's reconciliation", payout.gateway_reconciliation_status ?? '—'],
                ['Mismatch reason', payout.mismatch_reason ?? '—'],
                ['Reconciled at', <DateTime key="ra" value={payout.reconciled_at} />],
                ['Items', String(payout.items_count)],
                ["Items' net total", <Money key="it" amount={payout.items_total} currency={payout.currency} />],
                ['Unmatched items', String(payout.unmatched_count)],
                ['Missing transactions', String(payout.missing_count)],
                ['Gateway payout', <Code key="gp" value={payout.gateway_payout} />],
                ['Gateway', <Code key="g" value={payout.gateway_id} />],
                ['Failure', payout.failure_code ? `${payout.failure_code}: ${payout.failure_message ?? ''}` : '—'],
                ['Funds returned by', <IdLink key="p" to="payouts" id={payout.payout_id} />],
                ['Transaction', <IdLink key="t" to="transactions" id={payout.id} />],
                ['Created', <DateTime key="c" value={payout.created_at} />],
              ]}
            />
            <Section title="Items">
              <PagedTable<PayoutItem>
                key={`items-${version}`}
                path={`${path}/items`}
                query={{}}
                caption="What the payout paid out"
                empty="No items yet: reconcile the payout to read them from the gateway."
                columns={[
                  { header: 'Type', cell: (row) => row.type.replaceAll('_', ' ') },
                  { header: 'Transaction', cell: (row) => <IdLink to="transactions" id={row.transaction_id} /> },
                  {
                    header: 'Amount',
                    numeric: true,
                    cell: (row) => <Money amount={row.amount} currency={row.currency} />,
                  },
                  { header: 'Fee', numeric: true, cell: (row) => <Money amount={row.fee} currency={row.currency} /> },
                  { header: 'Net', numeric: true, cell: (row) => <Money amount={row.net} currency={row.currency} /> },
                  {
                    header: 'Fee transaction',
                    cell: (row) => <IdLink to="transactions" id={row.fee_transaction_id} />,
                  },
                  { header: 'Unmatched', cell: (row) => row.unmatched_reason ?? '—' },
                  { header: 'Balance transaction', cell: (row) => <Code value={row.gateway_balance_transaction} /> },
                  { header: 'At the gateway', cell: (row) => <DateTime value={row.gateway_created_at} /> },
                ]}
              />
            </Section>
          </>
        )}
      </Loaded>
    </Stack>
  );
}
