// One parent (GET /v1/parents/{id}): its type, external id, totals per currency and transactions.
import { Stack, Title } from '@mantine/core';
import { useParams } from 'react-router';
import { DateTime, useResource } from '../../components/data';
import { Code, Fields, IdLink, Loaded, RecordTransactions, Section, TotalsTable } from './shared';
import type { Parent } from './types';

export default function ParentPage() {
  const { id = '' } = useParams();
  const resource = useResource<Parent>(`/v1/parents/${encodeURIComponent(id)}`);
  return (
    <Stack>
      <Title order={1}>Parent {resource.data?.name ?? id}</Title>
      <Loaded resource={resource}>
        {(parent) => (
          <>
            <Fields
              label="Parent"
              rows={[
                ['Id', parent.id],
                ['Type', parent.type],
                ['External id', <Code key="e" value={parent.external_id} />],
                ['Name', parent.name ?? '—'],
                ['Account', <IdLink key="a" to="accounts" id={parent.account_id} />],
                ['Contact', <IdLink key="c" to="contacts" id={parent.contact_id} />],
                ['Created', <DateTime key="cr" value={parent.created_at} />],
                ['Updated', <DateTime key="u" value={parent.updated_at} />],
              ]}
            />
            <Section title="Totals">
              <TotalsTable totals={parent.totals} label="Totals per currency" />
            </Section>
            <Section title="Transactions">
              <RecordTransactions query={{ parent_id: parent.id }} label="Transactions of this parent" />
            </Section>
          </>
        )}
      </Loaded>
    </Stack>
  );
}
