// Disputes: a paged list filtered by status and disputed charge (GET /v1/disputes; read-only).
import { Stack, Title } from '@mantine/core';
import { useState } from 'react';
import { DateTime, Money, StatusBadge } from '../../components/data';
import { Code, FilterBar, FilterSelect, FilterText, IdLink, PagedTable, useDebouncedQuery } from './shared';
import { DISPUTE_STATUSES, type Dispute } from './types';

export default function DisputesPage() {
  const [status, setStatus] = useState('');
  const [transactionId, setTransactionId] = useState('');
  const query = useDebouncedQuery({ status, transaction_id: transactionId });
  return (
    <Stack>
      <Title order={1}>Disputes</Title>
      <FilterBar>
        <FilterSelect label="Status" value={status} onChange={setStatus} options={DISPUTE_STATUSES} />
        <FilterText label="Charge id" value={transactionId} onChange={setTransactionId} placeholder="trx_..." />
      </FilterBar>
      <PagedTable<Dispute>
        path="/v1/disputes"
        query={query}
        caption="Disputes, newest first"
        empty="No disputes match."
        columns={[
          { header: 'Dispute', cell: (row) => <IdLink to="disputes" id={row.id} /> },
          { header: 'Charge', cell: (row) => <IdLink to="transactions" id={row.transaction_id} /> },
          { header: 'Status', cell: (row) => <StatusBadge value={row.status} /> },
          { header: 'Reason', cell: (row) => row.reason.replaceAll('_', ' ') },
          { header: 'Amount', numeric: true, cell: (row) => <Money amount={row.amount} currency={row.currency} /> },
          { header: 'Evidence due', cell: (row) => <DateTime value={row.evidence_due_by} /> },
          { header: 'Gateway dispute', cell: (row) => <Code value={row.gateway_dispute} /> },
        ]}
      />
    </Stack>
  );
}
