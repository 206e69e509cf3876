// Contacts: a paged list, filtered by account (GET /v1/contacts).
import { Stack, Title } from '@mantine/core';
import { useState } from 'react';
import { DateTime } from '../../components/data';
import { RetainedTotals } from './AccountsPage';
import { FilterBar, FilterText, IdLink, PagedTable, useDebouncedQuery } from './shared';
import type { Contact } from './types';

export const contactName = (contact: Pick<Contact, 'first_name' | 'last_name'>) =>
  [contact.first_name, contact.last_name].filter(Boolean).join(' ');

export default function ContactsPage() {
  const [accountId, setAccountId] = useState('');
  const query = useDebouncedQuery({ account_id: accountId });
  return (
    <Stack>
      <Title order={1}>Contacts</Title>
      <FilterBar>
        <FilterText label="Account id" value={accountId} onChange={setAccountId} placeholder="acc_..." />
      </FilterBar>
      <PagedTable<Contact>
        path="/v1/contacts"
        query={query}
        caption="Contacts, newest first"
        empty="No contacts match."
        columns={[
          { header: 'Contact', cell: (row) => <IdLink to="contacts" id={row.id} /> },
          { header: 'Name', cell: (row) => contactName(row) },
          { header: 'Email', cell: (row) => row.email ?? '—' },
          { header: 'Account', cell: (row) => <IdLink to="accounts" id={row.account_id} /> },
          { header: 'Retained', numeric: true, cell: (row) => <RetainedTotals totals={row.totals} /> },
          { header: 'Created', cell: (row) => <DateTime value={row.created_at} /> },
        ]}
      />
    </Stack>
  );
}
