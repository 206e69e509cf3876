// /v1/jobs and /v1/job-runs (S3): the scheduled jobs, running one now, and the history of runs.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Deps } from '../../app/deps.js';
import { JOB_NAMES } from '../../jobs/definitions.js';
import { getRun, listRuns, presentRun } from '../../jobs/job-runs.js';
import { listJobs } from '../../jobs/list-jobs.js';
import type { JobRunner } from '../../jobs/runner.js';
import { requestContext, sendOutcome } from '../context.js';
import { runKeyed } from '../keyed-work.js';
import { absentBodyIsEmpty, errorResponses, IdParams, ListOf, ListQuery, NoBody, Nullable } from '../schemas/common.js';

const tags = ['jobs'];

export const JobRunSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('job_run'),
    job: Type.String(),
    trigger: Type.String({ description: 'schedule, api or cli.' }),
    slot: Nullable(
      Type.String({
        description:
          'The schedule slot a scheduled run is for: the day of a daily job, the interval start of a periodic one.',
      }),
    ),
    status: Type.String({
      description: 'running, succeeded, failed (the run itself stopped on an error) or abandoned (its worker died).',
    }),
    started_by: Type.String(),
    started_at: Type.String(),
    heartbeat_at: Type.String(),
    finished_at: Nullable(Type.String()),
    total: Nullable(Type.Integer({ description: 'For a batch job: how many transactions were due when it started.' })),
    picked: Type.Integer(),
    succeeded: Type.Integer(),
    failed: Type.Integer(),
    skipped: Type.Integer({
      description: 'Changed since they were selected (put on hold, rescheduled, ...), left alone.',
    }),
    error_count: Type.Integer(),
    errors: Type.Array(
      Type.Object({ transaction_id: Nullable(Type.String()), code: Type.String(), message: Type.String() }),
      { description: 'The first 100 errors.' },
    ),
    summary: Nullable(Type.String()),
  },
  { $id: 'JobRun' },
);

const JobSchema = Type.Object({
  name: Type.String(),
  object: Type.Literal('job'),
  kind: Type.String({ description: 'batch (transactions shared out among all workers) or task (one worker).' }),
  description: Type.String(),
  schedule: Type.String(),
  next_run_at: Type.String(),
  last_run: Nullable(JobRunSchema),
});

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });

const ListRunsQuery = Type.Object({
  ...ListQuery,
  job: Type.Optional(Type.String({ maxLength: 64, description: `One of ${JOB_NAMES.join(', ')}.` })),
  status: Type.Optional(Type.String({ maxLength: 16, description: 'running, succeeded, failed or abandoned.' })),
});

export function jobRoutes(deps: Deps, runner: JobRunner): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/jobs',
      {
        schema: {
          tags,
          summary: 'List the jobs',
          description: 'Each job with its schedule, when it runs next and its latest run.',
          response: {
            200: Type.Object({ object: Type.Literal('list'), data: Type.Array(JobSchema) }),
            ...errorResponses,
          },
        },
      },
      async () => listJobs(deps),
    );

    app.post(
      '/v1/jobs/:name/run',
      {
        config: { scope: 'write' },
        preValidation: absentBodyIsEmpty,
        schema: {
          tags,
          summary: 'Run a job now',
          description:
            'Starts a run at once and answers 202 with it; follow it at GET /v1/job-runs/{id}. A batch run is shared by every worker that is up. 409 job_already_running while a run of the job is under way (a job never runs twice at once). Repeating the request after the run finished starts another run, which picks only what is still due; repeating it with the same Idempotency-Key answers the first response (the run as it started) and starts nothing.',
          params: NameParams,
          body: NoBody,
          response: { 202: JobRunSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const ctx = requestContext(request);
        const outcome = await runKeyed(deps, ctx, async () => ({
          status: 202,
          body: presentRun(await runner.runNow(request.params.name, 'api', ctx.actor)),
        }));
        return sendOutcome(reply, outcome);
      },
    );

    app.get(
      '/v1/job-runs',
      {
        schema: {
          tags,
          summary: 'List job runs',
          description: 'The history of runs, newest first. Filters: job, status.',
          querystring: ListRunsQuery,
          response: { 200: ListOf(JobRunSchema), ...errorResponses },
        },
      },
      async (request) => listRuns(deps.db, request.query, JOB_NAMES),
    );

    app.get(
      '/v1/job-runs/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve a job run',
          params: IdParams,
          response: { 200: JobRunSchema, ...errorResponses },
        },
      },
      async (request) => getRun(deps.db, request.params.id),
    );
  };
}
