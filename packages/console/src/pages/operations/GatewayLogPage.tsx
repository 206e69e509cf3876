// One gateway log entry: the interaction's fields, and its request and response as the API returns them (secrets
// removed by Settle before they were stored).
import { Anchor, Loader, Stack, Title } from '@mantine/core';
import { Link, useParams } from 'react-router';
import { DateTime, ErrorNotice, StatusBadge, useResource } from '../../components/data';
import type { GatewayLog } from './GatewayLogsPage';
import { FieldTable, JsonBlock, orDash } from './shared';

export default function GatewayLogPage() {
  const { id = '' } = useParams();
  const entry = useResource<GatewayLog>(`/v1/gateway-logs/${encodeURIComponent(id)}`);
  const data = entry.data;
  return (
    <Stack>
      <Anchor component={Link} to="/gateway-logs" size="sm">
        Back to the gateway logs
      </Anchor>
      <Title order={1}>Gateway log entry {id}</Title>
      <ErrorNotice error={entry.error} />
      {entry.loading && !data && <Loader size="sm" aria-label="Loading the gateway log entry" />}
      {data && (
        <>
          <FieldTable
            label="Gateway log entry fields"
            rows={[
              ['Interaction', `${data.interaction_type}${data.is_notification ? ' (notification received)' : ''}`],
              ['Status', <StatusBadge key="s" value={data.interaction_status} />],
              ['Result code', data.result_code],
              ['Gateway', data.gateway_id],
              [
                'Transaction',
                data.transaction_id ? (
                  <Anchor key="t" component={Link} to={`/transactions/${data.transaction_id}`}>
                    {data.transaction_id}
                  </Anchor>
                ) : (
                  '—'
                ),
              ],
              ['Gateway reference', orDash(data.gateway_ref_number)],
              ['Authorization code', orDash(data.gateway_auth_code)],
              ['Gateway result code', orDash(data.gateway_result_code)],
              ['Gateway message', orDash(data.gateway_message)],
              ['Result description', orDash(data.gateway_result_code_description)],
              ['Request', data.http_method ? `${data.http_method} ${data.http_path ?? ''}` : '—'],
              ['HTTP status', orDash(data.http_status)],
              ['Request id', orDash(data.request_id)],
              ['Idempotency key', orDash(data.idempotency_key)],
              ['Latency', `${data.latency_ms} ms`],
              ['Gateway date', <DateTime key="g" value={data.gateway_date} />],
              ['Logged', <DateTime key="c" value={data.created_at} />],
            ]}
          />
          <Title order={2}>Request</Title>
          <JsonBlock value={data.request_body} label="Request body" />
          <Title order={2}>Response</Title>
          <JsonBlock value={data.response_body} label="Response body" />
        </>
      )}
    </Stack>
  );
}
