// One contact (GET /v1/contacts/{id}): its fields, totals per currency and transactions.
import { Stack, Title } from '@mantine/core';
import { useParams } from 'react-router';
import { DateTime, useResource } from '../../components/data';
import { contactName } from './ContactsPage';
import { Fields, IdLink, Loaded, RecordTransactions, Section, TotalsTable } from './shared';
import type { Contact } from './types';

export default function ContactPage() {
  const { id = '' } = useParams();
  const resource = useResource<Contact>(`/v1/contacts/${encodeURIComponent(id)}`);
  return (
    <Stack>
      <Title order={1}>Contact {resource.data ? contactName(resource.data) : id}</Title>
      <Loaded resource={resource}>
        {(contact) => (
          <>
            <Fields
              label="Contact"
              rows={[
                ['Id', contact.id],
                ['First name', contact.first_name ?? '—'],
                ['Last name', contact.last_name],
                ['Email', contact.email ?? '—'],
                ['Account', <IdLink key="a" to="accounts" id={contact.account_id} />],
                [
                  'Default payment method',
                  <IdLink key="pm" to="payment-methods" id={contact.default_payment_method_id} />,
                ],
                ['Created', <DateTime key="c" value={contact.created_at} />],
                ['Updated', <DateTime key="u" value={contact.updated_at} />],
              ]}
            />
            <Section title="Totals">
              <TotalsTable totals={contact.totals} label="Totals per currency" />
            </Section>
            <Section title="Transactions">
              <RecordTransactions query={{ contact_id: contact.id }} label="Transactions of this contact" />
            </Section>
          </>
        )}
      </Loaded>
    </Stack>
  );
}
