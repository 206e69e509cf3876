// /v1/payment-schedules (X6): recurring charges generated ahead as open auto-process transactions.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps, RequestContext } from '../../app/deps.js';
import {
  cancelPaymentSchedule,
  createPaymentSchedule,
  getPaymentSchedule,
  listPaymentSchedules,
  pausePaymentSchedule,
  resumePaymentSchedule,
  updatePaymentSchedule,
} from '../../app/payment-schedules.js';
import { requestContext, sendOutcome } from '../context.js';
import { absentBodyIsEmpty, errorResponses, IdParams, ListOf, NoBody } from '../schemas/common.js';
import {
  CreatePaymentScheduleBody,
  ListPaymentSchedulesQuery,
  PaymentScheduleSchema,
  UpdatePaymentScheduleBody,
} from '../schemas/payment-schedule.js';

const tags = ['payment schedules'];

const GENERATION =
  'Occurrences are generated as open auto-process charges (schedule_id, schedule_occurrence, due_date): every one dated within schedule_horizon_days of today, and always the next one. Monthly, quarterly and yearly dates count from start_date and fall on the last day of shorter months.';

const ACTIONS: {
  name: string;
  summary: string;
  description: string;
  act: (deps: Deps, ctx: RequestContext, id: string) => ReturnType<typeof pausePaymentSchedule>;
}[] = [
  {
    name: 'pause',
    summary: 'Pause a payment schedule',
    description:
      'From active: its generated open transactions go on_hold and nothing more is generated. 409 unexpected_state otherwise.',
    act: pausePaymentSchedule,
  },
  {
    name: 'resume',
    summary: 'Resume a payment schedule',
    description:
      'From paused: its on_hold transactions go back to open (those now past due follow auto_process_due_today_only) and it is topped up. 409 unexpected_state otherwise.',
    act: resumePaymentSchedule,
  },
  {
    name: 'cancel',
    summary: 'Cancel a payment schedule',
    description:
      'From active, paused or completed (whose last occurrences may still be open): its open and on_hold transactions are canceled (an on_hold one is unheld, then canceled) and nothing more is generated. 409 unexpected_state otherwise.',
    act: cancelPaymentSchedule,
  },
];

export function paymentScheduleRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/payment-schedules',
      {
        schema: {
          tags,
          summary: 'Create a payment schedule',
          description: `Account and contact default to the payment method's. ${GENERATION} Honours Idempotency-Key.`,
          body: CreatePaymentScheduleBody,
          response: { 201: PaymentScheduleSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await createPaymentSchedule(deps, requestContext(request), request.body)),
    );
    app.get(
      '/v1/payment-schedules',
      {
        schema: {
          tags,
          summary: 'List payment schedules',
          description: 'Newest first; filter by status, parent_id, invoice_id.',
          querystring: ListPaymentSchedulesQuery,
          response: { 200: ListOf(PaymentScheduleSchema), ...errorResponses },
        },
      },
      async (request) => listPaymentSchedules(deps, request.query),
    );
    app.get(
      '/v1/payment-schedules/:id',
      {
        schema: {
          tags,
          summary: 'Retrieve a payment schedule',
          params: IdParams,
          response: { 200: PaymentScheduleSchema, ...errorResponses },
        },
      },
      async (request) => getPaymentSchedule(deps, request.params.id),
    );
    app.patch(
      '/v1/payment-schedules/:id',
      {
        schema: {
          tags,
          summary: 'Update a payment schedule',
          description:
            'While active or paused (409 unexpected_state otherwise). A new amount or payment_method_id also applies to its open and on_hold transactions that no running job has claimed; processed ones never change. Giving end_date or occurrences replaces the end (the other is cleared); an end before the occurrences already generated is refused. Metadata merges.',
          params: IdParams,
          body: UpdatePaymentScheduleBody,
          response: { 200: PaymentScheduleSchema, ...errorResponses },
        },
      },
      async (request, reply) =>
        sendOutcome(reply, await updatePaymentSchedule(deps, requestContext(request), request.params.id, request.body)),
    );
    for (const action of ACTIONS) {
      app.post(
        `/v1/payment-schedules/:id/${action.name}`,
        {
          preValidation: absentBodyIsEmpty,
          schema: {
            tags,
            summary: action.summary,
            description: action.description,
            params: IdParams,
            body: NoBody,
            response: { 200: PaymentScheduleSchema, ...errorResponses },
          },
        },
        async (request, reply) =>
          sendOutcome(reply, await action.act(deps, requestContext(request), request.params.id)),
      );
    }
  };
}
