// Accounts: a paged list (GET /v1/accounts; the API has no filters on it), each with its totals per currency.
import { Stack, Title } from '@mantine/core';
import { DateTime, Money } from '../../components/data';
import { IdLink, PagedTable } from './shared';
import type { TotalsEntry } from './shared';
import type { Account } from './types';

/** Captured less refunded per currency, one line each (a record's totals in a list cell). */
export function RetainedTotals({ totals }: { totals: TotalsEntry[] }) {
  if (totals.length === 0) return <span>—</span>;
  return (
    <Stack gap={0}>
      {totals.map((entry) => (
        <Money key={entry.currency} amount={entry.retained_amount} currency={entry.currency} />
      ))}
    </Stack>
  );
}

export default function AccountsPage() {
  return (
    <Stack>
      <Title order={1}>Accounts</Title>
      <PagedTable<Account>
        path="/v1/accounts"
        query={{}}
        caption="Accounts, newest first"
        empty="No accounts yet."
        columns={[
          { header: 'Account', cell: (row) => <IdLink to="accounts" id={row.id} /> },
          { header: 'Name', cell: (row) => row.name },
          { header: 'Email', cell: (row) => row.email ?? '—' },
          { header: 'Retained', numeric: true, cell: (row) => <RetainedTotals totals={row.totals} /> },
          { header: 'Created', cell: (row) => <DateTime value={row.created_at} /> },
        ]}
      />
    </Stack>
  );
}
