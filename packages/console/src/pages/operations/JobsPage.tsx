// Jobs: each scheduled job with its schedule, next and last run; Run now with live progress (polled every second
// while the run is running); the history of runs, paged and filtered by job and status.
import { Anchor, Group, Loader, Paper, Progress, Stack, Table, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { api, ApiError, type ApiList } from '../../api';
import { ConfirmAction } from '../../components/ConfirmAction';
import { DateTime, ErrorNotice, Pager, StatusBadge, usePagedList, useResource } from '../../components/data';
import { useSession } from '../../session';
import { FilterForm, type FilterField, type FilterValues } from './shared';

export interface JobRun {
  id: string;
  object: 'job_run';
  job: string;
  trigger: string;
  slot: string | null;
  status: string;
  started_by: string;
  started_at: string;
  heartbeat_at: string;
  finished_at: string | null;
  total: number | null;
  picked: number;
  succeeded: number;
  failed: number;
  skipped: number;
  error_count: number;
  errors: { transaction_id: string | null; code: string; message: string }[];
  summary: string | null;
}

interface Job {
  name: string;
  object: 'job';
  kind: string;
  description: string;
  schedule: string;
  next_run_at: string;
  last_run: JobRun | null;
}

export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'abandoned'] as const;

/** "picked 3, succeeded 2, failed 1, skipped 0 of 5". */
export function runCounts(run: JobRun): string {
  const of = run.total === null ? '' : ` of ${run.total}`;
  return `picked ${run.picked}, succeeded ${run.succeeded}, failed ${run.failed}, skipped ${run.skipped}${of}`;
}

/** A run's progress as a bar with its counts in words; a task job (no total) shows a full bar once done. */
export function RunProgress({ run }: { run: JobRun }) {
  const done = run.succeeded + run.failed + run.skipped;
  const finished = run.status !== 'running';
  let value: number;
  if (run.total !== null && run.total > 0) value = Math.min(100, Math.round((done / run.total) * 100));
  else value = finished ? 100 : 0;
  const color = run.status === 'failed' || run.status === 'abandoned' ? 'red' : finished ? 'green' : 'blue';
  return (
    <Stack gap={4}>
      <Progress
        value={value}
        color={color}
        striped={!finished}
        animated={!finished}
        aria-label={`Progress of the ${run.job} run`}
        size="lg"
      />
      <Text size="sm" component="div" data-testid="run-progress-text">
        {run.job}: <StatusBadge value={run.status} /> {runCounts(run)}
        {run.total === null ? '' : ` (${value}%)`}
      </Text>
    </Stack>
  );
}

/** Follows a run: GET /v1/job-runs/{id} every second while it is running, then stops. */
function LiveRun({ initial, onFinished }: { initial: JobRun; onFinished(): void }) {
  const [run, setRun] = useState<JobRun>(initial);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const running = run.status === 'running';
  useEffect(() => {
    if (!running) {
      onFinished();
      return;
    }
    let stopped = false;
    const timer = setTimeout(() => {
      api
        .get<JobRun>(`/v1/job-runs/${encodeURIComponent(run.id)}`)
        .then((fresh) => {
          if (!stopped) setRun(fresh);
        })
        .catch((failure: unknown) => {
          if (!stopped) setError(failure instanceof ApiError ? failure : new ApiError(0, undefined, String(failure)));
        });
    }, 1000);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // A new poll after each answer (run changes), none once it finished. onFinished is left out on purpose: the
    // page's handler is new at each render, and it must run once per finish.
  }, [run, running]);
  return (
    <Paper withBorder p="md" role="status" aria-live="polite" data-testid="live-run">
      <Stack gap="xs">
        <Title order={2} size="h4">
          {running ? `Running ${run.job}` : `${run.job} finished: ${run.status}`}
        </Title>
        <RunProgress run={run} />
        {run.summary && <Text size="sm">{run.summary}</Text>}
        <Anchor component={Link} to={`/job-runs/${run.id}`} size="sm">
          Open run {run.id}
        </Anchor>
        <ErrorNotice error={error} title="The run's progress could not be read" />
      </Stack>
    </Paper>
  );
}

const HISTORY_FILTERS = (jobs: string[]): FilterField[] => [
  { name: 'job', label: 'Job', kind: 'select', options: jobs },
  { name: 'status', label: 'Status', kind: 'select', options: RUN_STATUSES },
];

export default function JobsPage() {
  const { canWrite } = useSession();
  const jobs = useResource<{ object: 'list'; data: Job[] }>('/v1/jobs');
  const [live, setLive] = useState<JobRun | null>(null);
  const [filters, setFilters] = useState<FilterValues>({});
  const history = usePagedList<JobRun>('/v1/job-runs', filters, 50);
  const names = jobs.data?.data.map((job) => job.name) ?? [];

  function finished() {
    jobs.reload();
    history.reload();
  }

  return (
    <Stack>
      <Title order={1}>Jobs</Title>
      <ErrorNotice error={jobs.error} />
      {live && <LiveRun key={live.id} initial={live} onFinished={finished} />}
      {jobs.loading && !jobs.data && <Loader size="sm" aria-label="Loading the jobs" />}
      {jobs.data && (
        <Table.ScrollContainer minWidth={900}>
          <Table striped>
            <Table.Caption>Scheduled jobs</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Job</Table.Th>
                <Table.Th>Schedule</Table.Th>
                <Table.Th>Next run</Table.Th>
                <Table.Th>Last run</Table.Th>
                {canWrite && <Table.Th>Actions</Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {jobs.data.data.map((job) => (
                <Table.Tr key={job.name} data-testid={`job-${job.name}`}>
                  <Table.Td>
                    <Text fw={600} size="sm">
                      {job.name}
                    </Text>
                    <Text size="xs" c="dark.6">
                      {job.kind}: {job.description}
                    </Text>
                  </Table.Td>
                  <Table.Td>{job.schedule}</Table.Td>
                  <Table.Td>
                    <DateTime value={job.next_run_at} />
                  </Table.Td>
                  <Table.Td>
                    {job.last_run ? (
                      <Stack gap={2}>
                        <Group gap={6}>
                          <StatusBadge value={job.last_run.status} />
                          <Anchor component={Link} to={`/job-runs/${job.last_run.id}`} size="sm">
                            <DateTime value={job.last_run.started_at} />
                          </Anchor>
                        </Group>
                        <Text size="xs">{runCounts(job.last_run)}</Text>
                      </Stack>
                    ) : (
                      'never'
                    )}
                  </Table.Td>
                  {canWrite && (
                    <Table.Td>
                      <ConfirmAction
                        label="Run now"
                        title={`Run ${job.name} now`}
                        confirmLabel={`Run ${job.name}`}
                        run={async () => {
                          // 202 here means "started": the progress shows above, so the dialog just says it is done.
                          const answer = await api.post<JobRun>(`/v1/jobs/${encodeURIComponent(job.name)}/run`);
                          return { ...answer, status: 200 };
                        }}
                        onDone={(answer) => setLive(answer.data as JobRun)}
                      >
                        <Text size="sm">
                          Starts a run of {job.name} at once (a job never runs twice at the same time). Its progress
                          shows above the list.
                        </Text>
                      </ConfirmAction>
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}

      <Title order={2}>Run history</Title>
      <FilterForm fields={HISTORY_FILTERS(names)} onApply={setFilters} label="Run history filters" />
      <ErrorNotice error={history.error} />
      {history.data && <RunTable runs={history.data} />}
      <Pager list={history} label="Run history" />
    </Stack>
  );
}

function RunTable({ runs }: { runs: ApiList<JobRun> }) {
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table striped highlightOnHover>
        <Table.Caption>Job runs, newest first</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Run</Table.Th>
            <Table.Th>Job</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Trigger</Table.Th>
            <Table.Th>Counts</Table.Th>
            <Table.Th>Errors</Table.Th>
            <Table.Th>Started</Table.Th>
            <Table.Th>Finished</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {runs.data.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={8}>No runs match.</Table.Td>
            </Table.Tr>
          )}
          {runs.data.map((run) => (
            <Table.Tr key={run.id}>
              <Table.Td>
                <Anchor component={Link} to={`/job-runs/${run.id}`}>
                  {run.id}
                </Anchor>
              </Table.Td>
              <Table.Td>{run.job}</Table.Td>
              <Table.Td>
                <StatusBadge value={run.status} />
              </Table.Td>
              <Table.Td>{run.trigger}</Table.Td>
              <Table.Td>{runCounts(run)}</Table.Td>
              <Table.Td>{run.error_count}</Table.Td>
              <Table.Td>
                <DateTime value={run.started_at} />
              </Table.Td>
              <Table.Td>
                <DateTime value={run.finished_at} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
