// One job run: its counts, its summary and the errors it recorded (the first 100). A running run refreshes itself.
import { Anchor, Loader, Stack, Table, Text, Title } from '@mantine/core';
import { useEffect } from 'react';
import { Link, useParams } from 'react-router';
import { DateTime, ErrorNotice, StatusBadge, useResource } from '../../components/data';
import { RunProgress, runCounts, type JobRun } from './JobsPage';
import { FieldTable, orDash } from './shared';

export default function JobRunPage() {
  const { id = '' } = useParams();
  const run = useResource<JobRun>(`/v1/job-runs/${encodeURIComponent(id)}`);
  const data = run.data;
  const running = data?.status === 'running';
  const { reload } = run;
  useEffect(() => {
    if (!running) return;
    const timer = setTimeout(reload, 1000);
    return () => clearTimeout(timer);
  }, [running, reload, data]);
  return (
    <Stack>
      <Anchor component={Link} to="/jobs" size="sm">
        Back to the jobs
      </Anchor>
      <Title order={1}>Job run {id}</Title>
      <ErrorNotice error={run.error} />
      {run.loading && !data && <Loader size="sm" aria-label="Loading the job run" />}
      {data && (
        <>
          <RunProgress run={data} />
          <FieldTable
            label="Job run fields"
            rows={[
              ['Job', data.job],
              ['Status', <StatusBadge key="s" value={data.status} />],
              ['Trigger', data.trigger],
              ['Schedule slot', orDash(data.slot)],
              ['Started by', data.started_by],
              ['Started', <DateTime key="st" value={data.started_at} />],
              ['Last heartbeat', <DateTime key="h" value={data.heartbeat_at} />],
              ['Finished', <DateTime key="f" value={data.finished_at} />],
              ['Counts', runCounts(data)],
              ['Errors', String(data.error_count)],
              ['Summary', orDash(data.summary)],
            ]}
          />
          <Title order={2}>Errors</Title>
          {data.errors.length === 0 ? (
            <Text>No errors recorded.</Text>
          ) : (
            <Table.ScrollContainer minWidth={700}>
              <Table striped>
                <Table.Caption>
                  {data.error_count > data.errors.length
                    ? `The first ${data.errors.length} of ${data.error_count} errors`
                    : `${data.errors.length} error(s)`}
                </Table.Caption>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Transaction</Table.Th>
                    <Table.Th>Code</Table.Th>
                    <Table.Th>Message</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.errors.map((error, index) => (
                    <Table.Tr key={index}>
                      <Table.Td>
                        {error.transaction_id ? (
                          <Anchor component={Link} to={`/transactions/${error.transaction_id}`}>
                            {error.transaction_id}
                          </Anchor>
                        ) : (
                          '—'
                        )}
                      </Table.Td>
                      <Table.Td>{error.code}</Table.Td>
                      <Table.Td>{error.message}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </>
      )}
    </Stack>
  );
}
