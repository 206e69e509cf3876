// One payment method (GET /v1/payment-methods/{id}): its card or bank account, status, owner and gateway ids, and
// the transactions made with it.
import { Stack, Title } from '@mantine/core';
import { useParams } from 'react-router';
import { DateTime, StatusBadge, useResource } from '../../components/data';
import { cardLabel } from './PaymentMethodsPage';
import { Code, Fields, IdLink, Loaded, RecordTransactions, Section } from './shared';
import type { PaymentMethod } from './types';

export default function PaymentMethodPage() {
  const { id = '' } = useParams();
  const resource = useResource<PaymentMethod>(`/v1/payment-methods/${encodeURIComponent(id)}`);
  return (
    <Stack>
      <Title order={1}>Payment method {id}</Title>
      <Loaded resource={resource}>
        {(method) => (
          <>
            <Fields
              label="Payment method"
              rows={[
                ['Type', method.type.replaceAll('_', ' ')],
                ['Card or account', cardLabel(method)],
                [
                  'Expiry',
                  method.exp_month && method.exp_year
                    ? `${String(method.exp_month).padStart(2, '0')}/${method.exp_year}`
                    : '—',
                ],
                ['Funding', method.funding ?? '—'],
                ['Status', <StatusBadge key="s" value={method.status} />],
                ['Usable', method.usable ? 'Yes' : 'No'],
                ['Default of its customer', method.is_default ? 'Yes' : 'No'],
                ['Account', <IdLink key="a" to="accounts" id={method.account_id} />],
                ['Contact', <IdLink key="c" to="contacts" id={method.contact_id} />],
                ['Billing email', method.billing_email ?? '—'],
                ['Gateway token', <Code key="t" value={method.gateway_token} />],
                ['Gateway', <Code key="g" value={method.gateway_id} />],
                ['Gateway customer', <Code key="gc" value={method.gateway_customer} />],
                ['SetupIntent', <Code key="si" value={method.setup_intent} />],
                ['Setup status', method.setup_status ?? '—'],
                ['Fingerprint', <Code key="f" value={method.fingerprint} />],
                ['Created', <DateTime key="cr" value={method.created_at} />],
                ['Updated', <DateTime key="up" value={method.updated_at} />],
              ]}
            />
            <Section title="Transactions">
              <RecordTransactions
                query={{ payment_method_id: method.id }}
                label="Transactions with this payment method"
              />
            </Section>
          </>
        )}
      </Loaded>
    </Stack>
  );
}
