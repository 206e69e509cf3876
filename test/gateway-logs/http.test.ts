// GET /v1/gateway-logs, /v1/gateway-logs/:id and /v1/transactions/:id/gateway-logs: every filter, pagination,
// 400 for bad filters, 404 for an unknown id, read scope.
import { beforeAll, expect, it } from 'vitest';
import { type GatewayLogEntry, GatewayLogWriter } from '../../src/app/gateway-log.js';
import { describeEachDatabase } from '../support/harness.js';

const base: GatewayLogEntry = {
  transaction_id: 'trx_http_a',
  interaction_type: 'authorization',
  interaction_status: 'success',
  result_code: 'success',
  gateway_ref_number: 'pi_http_1',
  gateway_auth_code: '123456',
  gateway_date: new Date('2026-11-24T10:00:00Z'),
  gateway_message: 'payment_intent requires_capture',
  gateway_result_code: 'requires_capture',
  gateway_result_code_description: null,
  idempotency_key: 'idem_http_1',
  is_notification: false,
  http_method: 'POST',
  http_path: '/v1/payment_intents',
  http_status: 200,
  request_id: 'req_http_1',
  request_body: { amount: '1000', metadata: { order: 'ORD-77' } },
  response_body: { id: 'pi_http_1', status: 'requires_capture' },
  latency_ms: 12,
};

const entries: Array<[string, GatewayLogEntry]> = [
  ['gw_http_one', base],
  [
    'gw_http_one',
    {
      ...base,
      interaction_type: 'capture',
      gateway_ref_number: 'pi_http_1',
      gateway_auth_code: null,
      gateway_date: new Date('2026-11-24T11:00:00Z'),
      gateway_message: 'payment_intent succeeded',
      gateway_result_code: 'succeeded',
      idempotency_key: 'idem_http_2',
      request_id: 'req_http_2',
      http_path: '/v1/payment_intents/pi_http_1/capture',
      request_body: { amount_to_capture: '600' },
      response_body: { id: 'pi_http_1', status: 'succeeded' },
      latency_ms: 40,
    },
  ],
  [
    'gw_http_two',
    {
      ...base,
      transaction_id: 'trx_http_b',
      interaction_status: 'failed',
      result_code: 'decline',
      gateway_ref_number: 'pi_http_2',
      gateway_auth_code: null,
      gateway_message: 'Your card has insufficient funds.',
      gateway_result_code: 'insufficient_funds',
      gateway_result_code_description: 'card_error; card_declined',
      idempotency_key: 'idem_http_3',
      request_id: 'req_http_3',
      http_status: 402,
      latency_ms: 25,
    },
  ],
  [
    'gw_http_two',
    {
      ...base,
      transaction_id: null,
      interaction_type: 'sync',
      interaction_status: 'timeout',
      result_code: 'indeterminate',
      gateway_ref_number: null,
      gateway_auth_code: null,
      gateway_date: null,
      gateway_message: 'socket hang up',
      gateway_result_code: 'ECONNRESET',
      idempotency_key: null,
      http_method: 'GET',
      http_status: null,
      request_id: null,
      response_body: null,
      latency_ms: 5000,
      is_notification: true,
    },
  ],
];

describeEachDatabase('gateway log HTTP API', (get) => {
  const ids: string[] = []; // in insertion order (oldest first)
  beforeAll(async () => {
    let minute = 0;
    const writer = new GatewayLogWriter(get().deps.db, {
      now: () => new Date(Date.UTC(2026, 10, 24, 12, (minute += 1))),
    });
    for (const [gatewayId, entry] of entries) {
      const id = await writer.write(gatewayId, entry);
      if (id === null) throw new Error('not written');
      ids.push(id);
    }
  });

  const list = async (query: string) => {
    const response = await get().request('GET', `/v1/gateway-logs?${query}`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return (response.body.data as Array<{ id: string }>).map((row) => ids.indexOf(row.id));
  };

  it('lists newest first with the full object', async () => {
    const response = await get().request('GET', '/v1/gateway-logs');
    expect(response.status).toBe(200);
    expect(response.body.data.map((row: { id: string }) => ids.indexOf(row.id))).toEqual([3, 2, 1, 0]);
    expect(response.body.data[3]).toMatchObject({
      object: 'gateway_log',
      gateway_id: 'gw_http_one',
      transaction_id: 'trx_http_a',
      gateway_date: '2026-11-24T10:00:00.000Z',
      created_at: '2026-11-24T12:01:00.000Z',
      request_body: { amount: '1000', metadata: { order: 'ORD-77' } },
      response_body: { id: 'pi_http_1', status: 'requires_capture' },
      latency_ms: 12,
    });
  });

  it.each([
    ['transaction_id=trx_http_a', [1, 0]],
    ['gateway_id=gw_http_two', [3, 2]],
    ['interaction_type=capture', [1]],
    ['interaction_status=timeout', [3]],
    ['result_code=decline', [2]],
    ['gateway_ref_number=pi_http_1', [1, 0]],
    ['gateway_auth_code=123456', [0]],
    ['gateway_message=INSUFFICIENT', [2]],
    ['gateway_result_code=succeeded', [1]],
    ['gateway_result_code_description=card_declined', [2]],
    ['idempotency_key=idem_http_2', [1]],
    ['is_notification=true', [3]],
    ['is_notification=false', [2, 1, 0]],
    ['http_method=get', [3]],
    ['http_status=402', [2]],
    ['request_id=req_http_3', [2]],
    ['request_body_contains=amount_to_capture', [1]],
    ['response_body_contains=requires_capture', [2, 0]],
    ['gateway_date_after=2026-11-24T10:30:00Z', [1]],
    ['gateway_date_before=2026-11-24T10:30:00Z', [2, 0]],
    ['created_after=2026-11-24T12:02:00Z', [3, 2]],
    ['created_before=2026-11-24T12:02:00Z', [0]],
    ['min_latency_ms=25', [3, 2, 1]],
    ['max_latency_ms=25', [2, 0]],
    ['gateway_id=gw_http_one&interaction_type=authorization', [0]],
    ['gateway_message=100%25', []],
  ])('filter %s', async (query, expected) => {
    expect(await list(query)).toEqual(expected);
  });

  it('paginates with next_cursor', async () => {
    const first = await get().request('GET', '/v1/gateway-logs?limit=3');
    expect(first.body).toMatchObject({ has_more: true, next_cursor: ids[1] });
    expect(first.body.data).toHaveLength(3);
    const second = await get().request('GET', `/v1/gateway-logs?limit=3&starting_after=${first.body.next_cursor}`);
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(second.body.data.map((row: { id: string }) => row.id)).toEqual([ids[0]]);
  });

  it.each([
    'interaction_type=refund',
    'interaction_status=ok',
    'result_code=fine',
    'is_notification=maybe',
    'http_status=abc',
    'min_latency_ms=-1',
    'created_after=yesterday',
    'gateway_date_before=2026-13-45',
    'limit=0',
    'unknown_filter=1',
  ])('400 for %s', async (query) => {
    const response = await get().request('GET', `/v1/gateway-logs?${query}`);
    expect(response.status).toBe(400);
    expect(response.body.error.type).toBe('invalid_request_error');
  });

  it('retrieves one entry; 404 for an unknown id', async () => {
    const one = await get().request('GET', `/v1/gateway-logs/${ids[2]}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: ids[2], object: 'gateway_log', result_code: 'decline', http_status: 402 });
    const missing = await get().request('GET', '/v1/gateway-logs/glog_000000000000000000000000zz');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('resource_missing');
  });

  it("lists a transaction's entries, with the same filters", async () => {
    const all = await get().request('GET', '/v1/transactions/trx_http_a/gateway-logs');
    expect(all.status).toBe(200);
    expect(all.body.data.map((row: { id: string }) => row.id)).toEqual([ids[1], ids[0]]);
    const filtered = await get().request(
      'GET',
      '/v1/transactions/trx_http_a/gateway-logs?interaction_type=authorization',
    );
    expect(filtered.body.data.map((row: { id: string }) => row.id)).toEqual([ids[0]]);
    const none = await get().request('GET', '/v1/transactions/trx_unknown/gateway-logs');
    expect(none.body).toMatchObject({ data: [], has_more: false });
    const bad = await get().request('GET', '/v1/transactions/trx_http_a/gateway-logs?transaction_id=trx_http_b');
    expect(bad.status).toBe(400);
  });

  it('needs the read scope', async () => {
    const none = await get().request('GET', '/v1/gateway-logs', undefined, {}, null);
    expect(none.status).toBe(401);
    const reader = await get().keyWith(['read']);
    expect((await get().request('GET', '/v1/gateway-logs', undefined, {}, reader)).status).toBe(200);
  });
});
