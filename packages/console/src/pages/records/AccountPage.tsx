// One account (GET /v1/accounts/{id}): its fields, totals per currency, contacts and transactions.
import { Stack, Title } from '@mantine/core';
import { useParams } from 'react-router';
import { DateTime, useResource } from '../../components/data';
import { Fields, IdLink, Loaded, PagedTable, RecordTransactions, Section, TotalsTable } from './shared';
import type { Account, Contact } from './types';

export default function AccountPage() {
  const { id = '' } = useParams();
  const resource = useResource<Account>(`/v1/accounts/${encodeURIComponent(id)}`);
  return (
    <Stack>
      <Title order={1}>Account {resource.data?.name ?? id}</Title>
      <Loaded resource={resource}>
        {(account) => (
          <>
            <Fields
              label="Account"
              rows={[
                ['Id', account.id],
                ['Name', account.name],
                ['Email', account.email ?? '—'],
                [
                  'Default payment method',
                  <IdLink key="pm" to="payment-methods" id={account.default_payment_method_id} />,
                ],
                ['Created', <DateTime key="c" value={account.created_at} />],
                ['Updated', <DateTime key="u" value={account.updated_at} />],
              ]}
            />
            <Section title="Totals">
              <TotalsTable totals={account.totals} label="Totals per currency" />
            </Section>
            <Section title="Contacts">
              <PagedTable<Contact>
                path="/v1/contacts"
                query={{ account_id: account.id }}
                caption="Contacts of this account"
                empty="No contacts."
                limit={25}
                columns={[
                  { header: 'Contact', cell: (row) => <IdLink to="contacts" id={row.id} /> },
                  { header: 'Name', cell: (row) => [row.first_name, row.last_name].filter(Boolean).join(' ') },
                  { header: 'Email', cell: (row) => row.email ?? '—' },
                ]}
              />
            </Section>
            <Section title="Transactions">
              <RecordTransactions query={{ account_id: account.id }} label="Transactions of this account" />
            </Section>
          </>
        )}
      </Loaded>
    </Stack>
  );
}
