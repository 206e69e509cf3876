// Payouts: a paged list filtered by reconciliation status (GET /v1/payouts).
import { Stack, Title } from '@mantine/core';
import { useState } from 'react';
import { DateTime, Money, StatusBadge } from '../../components/data';
import { Code, FilterBar, FilterSelect, IdLink, PagedTable, useDebouncedQuery } from './shared';
import { RECONCILIATION_STATUSES, type Payout } from './types';

export default function PayoutsPage() {
  const [reconciliation, setReconciliation] = useState('');
  const query = useDebouncedQuery({ reconciliation_status: reconciliation });
  return (
    <Stack>
      <Title order={1}>Payouts</Title>
      <FilterBar>
        <FilterSelect
          label="Reconciliation"
          value={reconciliation}
          onChange={setReconciliation}
          options={RECONCILIATION_STATUSES}
        />
      </FilterBar>
      <PagedTable<Payout>
        path="/v1/payouts"
        query={query}
        caption="Payouts, newest first"
        empty="No payouts match."
        columns={[
          { header: 'Payout', cell: (row) => <IdLink to="payouts" id={row.id} /> },
          { header: 'Gateway payout', cell: (row) => <Code value={row.gateway_payout} /> },
          { header: 'Amount', numeric: true, cell: (row) => <Money amount={row.amount} currency={row.currency} /> },
          { header: 'Status', cell: (row) => <StatusBadge value={row.status} /> },
          { header: 'Arrival date', cell: (row) => row.arrival_date ?? '—' },
          { header: 'Reconciliation', cell: (row) => <StatusBadge value={row.reconciliation_status} /> },
          { header: 'Items', numeric: true, cell: (row) => String(row.items_count) },
          { header: 'Created', cell: (row) => <DateTime value={row.created_at} /> },
        ]}
      />
    </Stack>
  );
}
