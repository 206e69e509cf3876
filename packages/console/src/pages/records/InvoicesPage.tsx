// Invoices: a paged list filtered by account, status and payment status (GET /v1/invoices).
import { Stack, Title } from '@mantine/core';
import { useState } from 'react';
import { Money, StatusBadge } from '../../components/data';
import { FilterBar, FilterSelect, FilterText, IdLink, PagedTable, useDebouncedQuery } from './shared';
import { INVOICE_PAYMENT_STATUSES, INVOICE_STATUSES, type Invoice } from './types';

export default function InvoicesPage() {
  const [accountId, setAccountId] = useState('');
  const [status, setStatus] = useState('');
  const [paymentStatus, setPaymentStatus] = useState('');
  const query = useDebouncedQuery({ account_id: accountId, status, payment_status: paymentStatus });
  return (
    <Stack>
      <Title order={1}>Invoices</Title>
      <FilterBar>
        <FilterText label="Account id" value={accountId} onChange={setAccountId} placeholder="acc_..." />
        <FilterSelect label="Status" value={status} onChange={setStatus} options={INVOICE_STATUSES} />
        <FilterSelect
          label="Payment status"
          value={paymentStatus}
          onChange={setPaymentStatus}
          options={INVOICE_PAYMENT_STATUSES}
        />
      </FilterBar>
      <PagedTable<Invoice>
        path="/v1/invoices"
        query={query}
        caption="Invoices, newest first"
        empty="No invoices match."
        columns={[
          { header: 'Invoice', cell: (row) => <IdLink to="invoices" id={row.id} /> },
          { header: 'Number', cell: (row) => row.number },
          { header: 'Account', cell: (row) => <IdLink to="accounts" id={row.account_id} /> },
          { header: 'Status', cell: (row) => <StatusBadge value={row.status} /> },
          { header: 'Payment status', cell: (row) => <StatusBadge value={row.payment_status} /> },
          { header: 'Total', numeric: true, cell: (row) => <Money amount={row.total} currency={row.currency} /> },
          {
            header: 'Balance due',
            numeric: true,
            cell: (row) => <Money amount={row.balance_due} currency={row.currency} />,
          },
          { header: 'Due date', cell: (row) => row.due_date ?? '—' },
        ]}
      />
    </Stack>
  );
}
