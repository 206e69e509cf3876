// Parents: a paged list filtered by type, external id and account (GET /v1/parents).
import { Stack, Title } from '@mantine/core';
import { useState } from 'react';
import { DateTime } from '../../components/data';
import { RetainedTotals } from './AccountsPage';
import { Code, FilterBar, FilterText, IdLink, PagedTable, useDebouncedQuery } from './shared';
import type { Parent } from './types';

export default function ParentsPage() {
  const [type, setType] = useState('');
  const [externalId, setExternalId] = useState('');
  const [accountId, setAccountId] = useState('');
  const query = useDebouncedQuery({ type, external_id: externalId, account_id: accountId });
  return (
    <Stack>
      <Title order={1}>Parents</Title>
      <FilterBar>
        <FilterText label="Type" value={type} onChange={setType} placeholder="e.g. subscription" />
        <FilterText label="External id" value={externalId} onChange={setExternalId} />
        <FilterText label="Account id" value={accountId} onChange={setAccountId} placeholder="acc_..." />
      </FilterBar>
      <PagedTable<Parent>
        path="/v1/parents"
        query={query}
        caption="Parents, newest first"
        empty="No parents match."
        columns={[
          { header: 'Parent', cell: (row) => <IdLink to="parents" id={row.id} /> },
          { header: 'Type', cell: (row) => row.type },
          { header: 'External id', cell: (row) => <Code value={row.external_id} /> },
          { header: 'Name', cell: (row) => row.name ?? '—' },
          { header: 'Account', cell: (row) => <IdLink to="accounts" id={row.account_id} /> },
          { header: 'Retained', numeric: true, cell: (row) => <RetainedTotals totals={row.totals} /> },
          { header: 'Created', cell: (row) => <DateTime value={row.created_at} /> },
        ]}
      />
    </Stack>
  );
}
