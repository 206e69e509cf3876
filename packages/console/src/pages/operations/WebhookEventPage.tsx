// One webhook event: its processing state, its payload as the gateway sent it, and Replay.
import { Anchor, Group, Loader, Stack, Title } from '@mantine/core';
import { Link, useParams } from 'react-router';
import { api } from '../../api';
import { ConfirmAction } from '../../components/ConfirmAction';
import { DateTime, ErrorNotice, StatusBadge, useResource } from '../../components/data';
import { useSession } from '../../session';
import { FieldTable, JsonBlock, orDash, Notice } from './shared';
import type { WebhookEventSummary } from './WebhookEventsPage';

interface WebhookEvent extends WebhookEventSummary {
  payload: Record<string, unknown>;
}

export default function WebhookEventPage() {
  const { id = '' } = useParams();
  const { canWrite } = useSession();
  const event = useResource<WebhookEvent>(`/v1/webhook-events/${encodeURIComponent(id)}`);
  const data = event.data;
  return (
    <Stack>
      <Anchor component={Link} to="/webhook-events" size="sm">
        Back to webhook events
      </Anchor>
      <Title order={1}>Webhook event {id}</Title>
      <ErrorNotice error={event.error} />
      {event.loading && !data && <Loader size="sm" aria-label="Loading the webhook event" />}
      {data && (
        <>
          <Group>
            <StatusBadge value={data.status} />
            {canWrite && (
              <ConfirmAction
                label="Replay"
                title="Replay this webhook event"
                confirmLabel="Replay event"
                run={() => api.post(`/v1/webhook-events/${encodeURIComponent(data.id)}/replay`)}
                onDone={event.reload}
              >
                <span>
                  The event goes back to pending and is processed again now. Processing applies it only where it still
                  changes something.
                </span>
              </ConfirmAction>
            )}
          </Group>
          {data.error && (
            <Notice color="red" title="Processing error" role="note">
              {data.error}
              {data.retryable === null ? '' : data.retryable ? ' (retried automatically)' : ' (not retried)'}
            </Notice>
          )}
          <Title order={2}>Processing</Title>
          <FieldTable
            label="Webhook event fields"
            rows={[
              ['Type', data.type],
              ['Status', <StatusBadge key="s" value={data.status} />],
              ['Outcome', orDash(data.outcome)],
              ['Error', orDash(data.error)],
              ['Attempts', String(data.attempts)],
              ['Deliveries', String(data.deliveries)],
              ['Gateway', data.gateway_id],
              ['Gateway event id', data.event_id],
              ['Object', `${orDash(data.object_type)} ${orDash(data.object_id)}`],
              ['API version', orDash(data.api_version)],
              ['Live mode', data.livemode ? 'yes' : 'no'],
              ['Created by the gateway', <DateTime key="c" value={data.event_created_at} />],
              ['First received', <DateTime key="r" value={data.received_at} />],
              ['Last received', <DateTime key="l" value={data.last_received_at} />],
              ['Processed after', <DateTime key="a" value={data.process_after} />],
              ['Processed at', <DateTime key="p" value={data.processed_at} />],
              ['Updated', <DateTime key="u" value={data.updated_at} />],
            ]}
          />
          <Title order={2}>Payload</Title>
          <JsonBlock value={data.payload} label="Webhook event payload" />
        </>
      )}
    </Stack>
  );
}
