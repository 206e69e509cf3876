// Balances (M5): GET /v1/balances. Read scope; it reads the gateways (GET /v1/balance and the balance transactions)
// and writes nothing. The daily `balances` job stores the same figures as snapshots (jobs/definitions.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { listBalances } from '../../app/balances.js';
import type { Deps } from '../../app/deps.js';
import { BalanceListSchema } from '../schemas/balance.js';
import { errorResponses } from '../schemas/common.js';

const tags = ['balances'];

const BalancesQuery = Type.Object(
  { gateway_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
  { additionalProperties: false },
);

export function balanceRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/balances',
      {
        schema: {
          tags,
          summary: 'Gateway balances against the ledger',
          description:
            "Per Stripe gateway and settlement currency: the gateway's available and pending, the ledger's own figure (the net of the balance transactions Settle has linked, by status, less payouts), the difference and the unlinked balance transactions that explain it. Reads the gateway now; writes nothing.",
          querystring: BalancesQuery,
          response: { 200: BalanceListSchema, ...errorResponses },
        },
      },
      async (request) => listBalances(deps, request.query.gateway_id),
    );
  };
}
