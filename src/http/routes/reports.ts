// Reports (U5): GET /v1/reports/{name}, read scope (the default of a GET). JSON by default; `Accept: text/csv` gets
// the same rows as a CSV download (app/reports.ts builds both). Reads only.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../app/deps.js';
import { prefersCsv, reportCsv, reportFileName, runReport } from '../../app/reports.js';
import { errorResponses } from '../schemas/common.js';
import { ReportParams, ReportSchema } from '../schemas/report.js';

const tags = ['reports'];

export function reportRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/reports/:name',
      {
        schema: {
          tags,
          summary: 'Run a report',
          description:
            'revenue_by_month (captured charges less their refunds, per month and currency), failed_today, due_next_7_days (open auto-process charges per due day and currency), to_fix (a count per to-fix message) or payouts (the last 30). Days and months are in the `timezone` setting; money is in minor units with its currency on every row. JSON by default; with `Accept: text/csv` the same rows as CSV (RFC 4180, CRLF, a header line of the column names). 404 report_not_found for another name.',
          params: ReportParams,
          response: {
            200: {
              content: {
                'application/json': { schema: ReportSchema },
                'text/csv': { schema: { type: 'string', description: 'The rows as CSV, a header line first.' } },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        const report = await runReport(deps, request.params.name);
        if (!prefersCsv(request.headers.accept)) return reply.type('application/json; charset=utf-8').send(report);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${reportFileName(report)}"`)
          .send(reportCsv(report));
      },
    );
  };
}
