// Payment methods: a paged list filtered by account, contact, type and status (GET /v1/payment-methods).
import { Stack, Title } from '@mantine/core';
import { useState } from 'react';
import { DateTime, StatusBadge } from '../../components/data';
import { Code, FilterBar, FilterSelect, FilterText, IdLink, PagedTable, useDebouncedQuery } from './shared';
import { PAYMENT_METHOD_STATUSES, PAYMENT_METHOD_TYPES, type PaymentMethod } from './types';

export function cardLabel(method: Pick<PaymentMethod, 'brand' | 'last4' | 'type'>): string {
  if (method.last4) return `${method.brand ?? method.type} •••• ${method.last4}`;
  return method.brand ?? method.type;
}

export default function PaymentMethodsPage() {
  const [accountId, setAccountId] = useState('');
  const [contactId, setContactId] = useState('');
  const [type, setType] = useState('');
  const [status, setStatus] = useState('');
  const query = useDebouncedQuery({ account_id: accountId, contact_id: contactId, type, status });
  return (
    <Stack>
      <Title order={1}>Payment methods</Title>
      <FilterBar>
        <FilterText label="Account id" value={accountId} onChange={setAccountId} placeholder="acc_..." />
        <FilterText label="Contact id" value={contactId} onChange={setContactId} placeholder="con_..." />
        <FilterSelect label="Type" value={type} onChange={setType} options={PAYMENT_METHOD_TYPES} />
        <FilterSelect label="Status" value={status} onChange={setStatus} options={PAYMENT_METHOD_STATUSES} />
      </FilterBar>
      <PagedTable<PaymentMethod>
        path="/v1/payment-methods"
        query={query}
        caption="Payment methods"
        empty="No payment methods match."
        columns={[
          { header: 'Payment method', cell: (row) => <IdLink to="payment-methods" id={row.id} /> },
          { header: 'Type', cell: (row) => row.type.replaceAll('_', ' ') },
          { header: 'Card or account', cell: (row) => cardLabel(row) },
          { header: 'Status', cell: (row) => <StatusBadge value={row.status} /> },
          { header: 'Account', cell: (row) => <IdLink to="accounts" id={row.account_id} /> },
          { header: 'Contact', cell: (row) => <IdLink to="contacts" id={row.contact_id} /> },
          { header: 'Gateway token', cell: (row) => <Code value={row.gateway_token} /> },
          { header: 'Created', cell: (row) => <DateTime value={row.created_at} /> },
        ]}
      />
    </Stack>
  );
}
