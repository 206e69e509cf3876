// One dispute (GET /v1/disputes/{id}; read-only).
import { Stack, Title } from '@mantine/core';
import { useParams } from 'react-router';
import { DateTime, Money, StatusBadge, useResource } from '../../components/data';
import { Code, Fields, IdLink, Loaded } from './shared';
import type { Dispute } from './types';

export default function DisputePage() {
  const { id = '' } = useParams();
  const resource = useResource<Dispute>(`/v1/disputes/${encodeURIComponent(id)}`);
  return (
    <Stack>
      <Title order={1}>Dispute {id}</Title>
      <Loaded resource={resource}>
        {(dispute) => (
          <Fields
            label="Dispute"
            rows={[
              ['Charge', <IdLink key="t" to="transactions" id={dispute.transaction_id} />],
              ['Status', <StatusBadge key="s" value={dispute.status} />],
              ['Reason', dispute.reason.replaceAll('_', ' ')],
              ['Amount', <Money key="a" amount={dispute.amount} currency={dispute.currency} />],
              ['Withdrawn', <Money key="w" amount={dispute.amount_withdrawn} currency={dispute.currency} />],
              ['Reinstated', <Money key="r" amount={dispute.amount_reinstated} currency={dispute.currency} />],
              ['Fee (balance currency, minor units)', String(dispute.fee)],
              ['Fee reinstated (minor units)', String(dispute.fee_reinstated)],
              ['Evidence due by', <DateTime key="e" value={dispute.evidence_due_by} />],
              ['Charge refundable', dispute.is_charge_refundable ? 'Yes' : 'No'],
              ['Gateway dispute', <Code key="gd" value={dispute.gateway_dispute} />],
              ['Gateway', <Code key="g" value={dispute.gateway_id} />],
              ['Opened at the gateway', <DateTime key="go" value={dispute.gateway_created_at} />],
              ['Closed', <DateTime key="c" value={dispute.closed_at} />],
            ]}
          />
        )}
      </Loaded>
    </Stack>
  );
}
