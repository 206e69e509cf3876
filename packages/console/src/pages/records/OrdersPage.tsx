// Orders: a paged list filtered by account and external id (GET /v1/orders).
import { Stack, Title } from '@mantine/core';
import { useState } from 'react';
import { DateTime, Money } from '../../components/data';
import { RetainedTotals } from './AccountsPage';
import { Code, FilterBar, FilterText, IdLink, PagedTable, useDebouncedQuery } from './shared';
import type { Order } from './types';

export default function OrdersPage() {
  const [accountId, setAccountId] = useState('');
  const [externalId, setExternalId] = useState('');
  const query = useDebouncedQuery({ account_id: accountId, external_id: externalId });
  return (
    <Stack>
      <Title order={1}>Orders</Title>
      <FilterBar>
        <FilterText label="Account id" value={accountId} onChange={setAccountId} placeholder="acc_..." />
        <FilterText label="External id" value={externalId} onChange={setExternalId} />
      </FilterBar>
      <PagedTable<Order>
        path="/v1/orders"
        query={query}
        caption="Orders, newest first"
        empty="No orders match."
        columns={[
          { header: 'Order', cell: (row) => <IdLink to="orders" id={row.id} /> },
          { header: 'External id', cell: (row) => <Code value={row.external_id} /> },
          { header: 'Account', cell: (row) => <IdLink to="accounts" id={row.account_id} /> },
          { header: 'Total', numeric: true, cell: (row) => <Money amount={row.total} currency={row.currency} /> },
          { header: 'Retained', numeric: true, cell: (row) => <RetainedTotals totals={row.totals} /> },
          { header: 'Created', cell: (row) => <DateTime value={row.created_at} /> },
        ]}
      />
    </Stack>
  );
}
