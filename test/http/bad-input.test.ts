// Bad input is always a 4xx in the error shape that names the field, and writes nothing: NUL characters and lone
// surrogates anywhere (body at any depth, metadata keys and values, path ids, query filters, cursors), bodies that are
// not UTF-8 or not objects, numbers beyond their column, cursors of another list, the router's own refusals (unknown
// route, malformed JSON, too large, wrong type, URL or headers too long). Each refusal is checked against a digest of
// the whole database (rows, largest id, latest updated_at of every table) taken before it. Also: Idempotency-Key on
// the writes that ignored it (running a job, replaying webhook events).
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { type Digest, digestQuery } from './fuzz-support.js';

interface Refusal {
  status: number;
  code: string;
  param?: string | undefined;
}

interface Sent {
  method: string;
  url: string;
  /** A JSON value, sent as application/json; or raw bytes with `contentType`. */
  body?: unknown;
  raw?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

/** One request written by hand on a socket; the answer as the server wrote it. */
function sendRaw(port: number, text: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.setTimeout(15_000, () => socket.destroy(new Error('no answer')));
    socket.on('close', () => {
      const answer = Buffer.concat(chunks).toString('utf8');
      const split = answer.indexOf('\r\n\r\n');
      if (split === -1) return reject(new Error(`no HTTP answer: ${JSON.stringify(answer)}`));
      const status = Number(answer.slice(0, split).split(' ')[1]);
      try {
        resolve({ status, body: JSON.parse(answer.slice(split + 4)) });
      } catch {
        resolve({ status, body: answer.slice(split + 4) });
      }
    });
    socket.write(text);
  });
}

describeEachDatabase(
  'bad input: a 4xx naming the field, nothing written',
  (get) => {
    let digest: () => Promise<Digest>;
    let ids: {
      account: string;
      contact: string;
      method: string;
      open: string;
      captured: string;
      gateway: string;
      log: string;
      run: string;
    };

    beforeAll(async () => {
      const h = get();
      digest = await digestQuery(h.deps.db, []);
      const ok = async (method: string, url: string, body?: unknown) => {
        const res = await h.request(method, url, body);
        expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
        return res.body;
      };
      const account = await ok('POST', '/v1/accounts', { name: 'Bad Input Ltd' });
      const contact = await ok('POST', '/v1/contacts', { last_name: 'Input', account_id: account.id });
      const method = await ok('POST', '/v1/payment-methods', {
        gateway_token: 'pm_card_visa',
        type: 'card',
        account_id: account.id,
      });
      const charge = { amount: 5000, currency: 'USD', payment_method_id: method.id };
      const open = await ok('POST', '/v1/transactions', charge);
      const captured = await ok('POST', '/v1/transactions', charge);
      await ok('POST', `/v1/transactions/${captured.id}/capture`);
      const gateway = (await ok('GET', '/v1/gateways')).data[0];
      const log = (await ok('GET', '/v1/gateway-logs')).data[0];
      const run = await ok('POST', '/v1/jobs/webhook_cleanup/run');
      await waitForRun(h, run.id);
      ids = {
        account: account.id,
        contact: contact.id,
        method: method.id,
        open: open.id,
        captured: captured.id,
        gateway: gateway.id,
        log: log.id,
        run: run.id,
      };
    });

    async function waitForRun(h: Harness, id: string): Promise<void> {
      for (let i = 0; i < 1500; i += 1) {
        if ((await h.request('GET', `/v1/job-runs/${id}`)).body.status !== 'running') return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`job run ${id} did not finish`);
    }

    async function send(sent: Sent) {
      const h = get();
      const headers: Record<string, string> = {
        authorization: 'Bearer settle_test_admin_key_0123456789abcdef',
        ...sent.headers,
      };
      let payload: string | Buffer | undefined;
      if (sent.raw !== undefined) payload = sent.raw;
      else if (sent.body !== undefined) payload = JSON.stringify(sent.body);
      if (payload !== undefined) headers['content-type'] = sent.contentType ?? 'application/json';
      const res = await h.app.inject({
        method: sent.method as 'GET',
        url: sent.url,
        headers,
        ...(payload === undefined ? {} : { payload }),
      });
      let body: any = res.body;
      try {
        body = JSON.parse(res.body);
      } catch {
        // not JSON: the shape check below fails
      }
      return { status: res.statusCode, body, headers: res.headers };
    }

    /** Sends the request; it must be refused as expected (error shape, code, param) and change nothing. */
    async function expectRefused(sent: Sent, expected: Refusal): Promise<void> {
      const before = await digest();
      const res = await send(sent);
      const what = `${sent.method} ${sent.url.slice(0, 200)} -> ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`;
      expect(res.status, what).toBe(expected.status);
      expect(res.body, what).toEqual({
        error: expect.objectContaining({ type: expect.any(String), code: expected.code, message: expect.any(String) }),
      });
      if ('param' in expected) expect(res.body.error.param, what).toBe(expected.param);
      expect(await digest(), `${what}: the database changed`).toEqual(before);
    }

    it('refuses NUL characters and lone surrogates anywhere in a body (400 invalid_string naming the field)', async () => {
      const create = (extra: Record<string, unknown>) => ({
        method: 'POST',
        url: '/v1/transactions',
        body: { amount: 1000, currency: 'USD', ...extra },
      });
      const cases: [Sent, string][] = [
        [create({ description: 'a\u0000b' }), 'description'],
        [create({ description: 'half a pair \ud83d' }), 'description'],
        [create({ description: '\udcb3 the other half' }), 'description'],
        [create({ metadata: { plan: 'gold\u0000' } }), 'metadata.plan'],
        [create({ metadata: { plan: 'x\ud800y' } }), 'metadata.plan'],
        [create({ metadata: { 'pl\u0000an': 'gold' } }), 'metadata.pl\\u0000an'],
        [create({ metadata: { '\udfff': 'gold' } }), 'metadata.\\udfff'],
        [{ method: 'PATCH', url: `/v1/accounts/${ids.account}`, body: { name: 'Renamed\u0000' } }, 'name'],
        [
          { method: 'PATCH', url: `/v1/accounts/${ids.account}`, body: { metadata: { a: null, b: '\ud800' } } },
          'metadata.b',
        ],
        [
          { method: 'POST', url: '/v1/payment-methods', body: { gateway_token: 'pm_card_visa\u0000', type: 'card' } },
          'gateway_token',
        ],
        [{ method: 'POST', url: '/v1/transactions/capture', body: { ids: [ids.open, 'trx_\u0000'] } }, 'ids.1'],
        [{ method: 'PATCH', url: '/v1/settings', body: { timezone: 'Europe/Paris\u0000' } }, 'timezone'],
      ];
      for (const [sent, param] of cases) await expectRefused(sent, { status: 400, code: 'invalid_string', param });
      // A pair is fine: an emoji is two UTF-16 units.
      expect((await send(create({ description: 'card \ud83d\udcb3' }))).status).toBe(201);
    });

    it('refuses them in query filters and cursors too, and in path ids', async () => {
      const cases: [string, string][] = [
        ['/v1/transactions?account_id=acc_%00', 'account_id'],
        ['/v1/transactions?description=x&account_id=a%ED%A0%80b', 'account_id'],
        ['/v1/gateway-logs?gateway_message=%00', 'gateway_message'],
        ['/v1/webhook-events?type=a%00b', 'type'],
        ['/v1/accounts?starting_after=acc_%00', 'starting_after'],
        ['/v1/transactions?starting_after=%ED%B0%80', 'starting_after'],
        ['/v1/payment-methods?status=%FF', 'status'],
      ];
      for (const [url, param] of cases)
        await expectRefused({ method: 'GET', url }, { status: 400, code: 'invalid_string', param });
      // A path id can hold neither (the request-target check refuses any percent-escape in a path first).
      for (const url of [`/v1/transactions/${ids.open}%00/cancel`, `/v1/transactions/%ED%A0%80/refund`]) {
        const res = await send({ method: 'POST', url });
        expect(res.status, url).toBe(400);
        expect(res.body.error).toMatchObject({
          type: 'invalid_request_error',
          code: expect.any(String),
          message: expect.any(String),
        });
      }
    });

    it('refuses a body that is not UTF-8 (400 invalid_utf8), not JSON, or not sent as JSON in UTF-8 (415)', async () => {
      const url = '/v1/transactions';
      const notUtf8 = Buffer.concat([
        Buffer.from('{"amount":1000,"currency":"USD","description":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]);
      await expectRefused({ method: 'POST', url, raw: notUtf8 }, { status: 400, code: 'invalid_utf8' });
      // A lone surrogate written as UTF-8-like bytes (CESU-8) is not UTF-8 either.
      const cesu = Buffer.concat([
        Buffer.from('{"amount":1000,"currency":"USD","description":"'),
        Buffer.from([0xed, 0xa0, 0xbd]),
        Buffer.from('"}'),
      ]);
      await expectRefused({ method: 'POST', url, raw: cesu }, { status: 400, code: 'invalid_utf8' });
      await expectRefused({ method: 'POST', url, raw: '{"amount": 1' }, { status: 400, code: 'invalid_json' });
      await expectRefused({ method: 'POST', url, raw: '' }, { status: 400, code: 'invalid_json' });
      await expectRefused(
        { method: 'POST', url, raw: '{"amount":1000,"currency":"USD","__proto__":{"x":1}}' },
        { status: 400, code: 'invalid_json' },
      );
      await expectRefused(
        {
          method: 'POST',
          url,
          raw: '{"amount":1000,"currency":"USD"}',
          contentType: 'application/json; charset=utf-16',
        },
        { status: 415, code: 'unsupported_media_type' },
      );
      await expectRefused(
        { method: 'POST', url, raw: '{"amount":1000,"currency":"USD"}', contentType: 'text/plain' },
        { status: 415, code: 'unsupported_media_type' },
      );
      await expectRefused(
        { method: 'POST', url, raw: 'amount=1000&currency=USD', contentType: 'application/x-www-form-urlencoded' },
        { status: 415, code: 'unsupported_media_type' },
      );
      // UTF-8 with its charset named is fine.
      expect(
        (
          await send({
            method: 'POST',
            url,
            raw: '{"amount":1000,"currency":"USD","description":"café"}',
            contentType: 'application/json; charset=UTF-8',
          })
        ).status,
      ).toBe(201);
    });

    it('refuses numbers beyond their column or the safe integers (400 naming the field, never a 500)', async () => {
      const queries: [string, string][] = [
        ['/v1/gateway-logs?min_latency_ms=2147483648', 'min_latency_ms'],
        ['/v1/gateway-logs?max_latency_ms=-1', 'max_latency_ms'],
        [`/v1/transactions/${ids.captured}/gateway-logs?min_latency_ms=9007199254740993`, 'min_latency_ms'],
        ['/v1/gateway-logs?http_status=4294967296', 'http_status'],
        ['/v1/transactions?limit=9007199254740993', 'limit'],
        ['/v1/accounts?limit=0', 'limit'],
      ];
      for (const [url, param] of queries)
        await expectRefused({ method: 'GET', url }, { status: 400, code: 'parameter_invalid', param });
      const bodies: [Sent, Refusal][] = [
        [
          { method: 'POST', url: '/v1/transactions', body: { amount: 2 ** 53, currency: 'USD' } },
          { status: 400, code: 'amount_too_large', param: 'amount' },
        ],
        [
          { method: 'POST', url: '/v1/transactions', body: { amount: -1e308, currency: 'USD' } },
          { status: 400, code: 'amount_too_large', param: 'amount' },
        ],
        [
          { method: 'POST', url: `/v1/transactions/${ids.captured}/refund`, body: { amount: 2 ** 63 } },
          { status: 400, code: 'amount_too_large', param: 'amount' },
        ],
        [
          {
            method: 'POST',
            url: '/v1/payment-methods',
            body: { gateway_token: 'pm_card_visa', type: 'card', exp_month: 2 ** 31 },
          },
          { status: 400, code: 'parameter_invalid', param: 'exp_month' },
        ],
        [
          { method: 'PATCH', url: `/v1/payment-methods/${ids.method}`, body: { exp_year: -(2 ** 31) - 1 } },
          { status: 400, code: 'parameter_invalid', param: 'exp_year' },
        ],
        [
          { method: 'PATCH', url: `/v1/gateways/${ids.gateway}`, body: { rate_limit_per_second: 2 ** 31 } },
          { status: 400, code: 'parameter_invalid', param: 'rate_limit_per_second' },
        ],
      ];
      for (const [sent, refusal] of bodies) await expectRefused(sent, refusal);
    });

    it('refuses instants a database timestamp cannot hold (400 naming the filter, never a 500)', async () => {
      const cases: [string, string][] = [
        ['/v1/gateway-logs?created_after=0000-01-01T00:00:00Z', 'created_after'],
        ['/v1/gateway-logs?gateway_date_before=9999-12-31T23:59:59-14:00', 'gateway_date_before'],
        [`/v1/transactions/${ids.captured}/gateway-logs?created_before=0001-01-01T00:00:00%2B14:00`, 'created_before'],
        ['/v1/webhook-events?received_after=0000-12-31T23:59:59Z', 'received_after'],
      ];
      for (const [url, param] of cases)
        await expectRefused({ method: 'GET', url }, { status: 400, code: 'parameter_invalid', param });
      await expectRefused(
        {
          method: 'POST',
          url: '/v1/webhook-events/replay',
          body: { received_after: '0000-01-01T00:00:00Z', received_before: '2026-11-24T12:00:00Z' },
        },
        { status: 400, code: 'parameter_invalid', param: 'received_after' },
      );
      // The first and last instants that fit are fine.
      expect(
        (
          await send({
            method: 'GET',
            url: '/v1/gateway-logs?created_after=0001-01-01T00:00:00Z&created_before=9999-12-31T23:59:59Z',
          })
        ).status,
      ).toBe(200);
    });

    it('refuses a literal null or any other non-object body on an action (400 invalid_body); no body still means no fields', async () => {
      const actions = [
        `/v1/transactions/${ids.captured}/refund`,
        `/v1/transactions/${ids.open}/capture`,
        `/v1/transactions/${ids.open}/authorize`,
        `/v1/transactions/${ids.open}/release`,
        `/v1/transactions/${ids.open}/cancel`,
        `/v1/transactions/${ids.open}/clone`,
        `/v1/transactions/${ids.open}/reattempt`,
        '/v1/transactions/capture',
        '/v1/jobs/recover/run',
        '/v1/webhook-events/replay',
        '/v1/transactions',
        '/v1/accounts',
      ];
      for (const url of actions) {
        for (const raw of ['null', '[]', '[{}]', '0', '"refund"', 'true']) {
          await expectRefused({ method: 'POST', url, raw }, { status: 400, code: 'invalid_body' });
        }
      }
      await expectRefused(
        { method: 'PATCH', url: `/v1/transactions/${ids.open}`, raw: 'null' },
        { status: 400, code: 'invalid_body' },
      );
      // A DELETE takes no body: a field is refused by name, and the transaction stays.
      await expectRefused(
        { method: 'DELETE', url: `/v1/transactions/${ids.open}`, body: { force: true } },
        { status: 400, code: 'parameter_unknown', param: 'force' },
      );
      // No body at all: the action's defaults (here: cancel), and a create names its first missing field.
      await expectRefused(
        { method: 'POST', url: '/v1/transactions' },
        { status: 400, code: 'parameter_missing', param: 'amount' },
      );
      const other = await send({ method: 'POST', url: '/v1/transactions', body: { amount: 700, currency: 'USD' } });
      const canceled = await send({ method: 'POST', url: `/v1/transactions/${other.body.id}/cancel` });
      expect(canceled.status).toBe(200);
      expect(canceled.body.status).toBe('canceled');
    });

    it("refuses a cursor that is not one of the list's own ids (400 invalid_cursor): garbage, another list's id, a truncated id", async () => {
      const lists: [string, string][] = [
        ['/v1/transactions', ids.open],
        ['/v1/accounts', ids.account],
        ['/v1/contacts', ids.contact],
        ['/v1/payment-methods', ids.method],
        ['/v1/gateways', ids.gateway],
        ['/v1/gateway-logs', ids.log],
        [`/v1/transactions/${ids.captured}/gateway-logs`, ids.log],
        ['/v1/webhook-events', 'whe_00mwun79c00uddetgx9ty1a7dm'],
        ['/v1/disputes', 'dsp_00mwun79c00uddetgx9ty1a7dm'],
        ['/v1/job-runs', ids.run],
      ];
      for (const [list, own] of lists) {
        const foreign = own.startsWith('acc_') ? ids.contact : ids.account;
        for (const cursor of [
          'zzz',
          foreign,
          own.slice(0, -1),
          `${own}0`,
          own.toUpperCase(),
          `${own.slice(0, 4)}${'~'.repeat(26)}`,
        ]) {
          await expectRefused(
            { method: 'GET', url: `${list}?starting_after=${encodeURIComponent(cursor)}` },
            { status: 400, code: 'invalid_cursor', param: 'starting_after' },
          );
        }
        const page = await send({ method: 'GET', url: `${list}?starting_after=${own}` });
        expect(page.status, list).toBe(200);
      }
      for (const cursor of ['x', '-1', '1.5', '1e3', ids.open]) {
        await expectRefused(
          { method: 'GET', url: `/v1/transactions/${ids.captured}/history?starting_after=${cursor}` },
          { status: 400, code: 'invalid_cursor', param: 'starting_after' },
        );
      }
    });

    it("answers the router's own refusals in the error shape", async () => {
      await expectRefused({ method: 'GET', url: '/v1/nothing-here' }, { status: 404, code: 'route_not_found' });
      await expectRefused(
        { method: 'PUT', url: `/v1/transactions/${ids.open}`, body: { amount: 1 } },
        { status: 404, code: 'route_not_found' },
      );
      await expectRefused(
        {
          method: 'POST',
          url: '/v1/transactions',
          body: { amount: 100, currency: 'USD', description: 'x'.repeat(300 * 1024) },
        },
        { status: 413, code: 'request_too_large' },
      );
      await expectRefused(
        { method: 'GET', url: `/v1/transactions?account_id=${'a'.repeat(9000)}` },
        { status: 414, code: 'uri_too_long' },
      );
      await expectRefused(
        { method: 'GET', url: `/v1/transactions/${'t'.repeat(1100)}` },
        { status: 414, code: 'uri_too_long' },
      );
      await expectRefused(
        { method: 'GET', url: `/v1/transactions/${'t'.repeat(65)}` },
        { status: 400, code: 'parameter_invalid', param: 'id' },
      );
      await expectRefused(
        {
          method: 'POST',
          url: '/v1/transactions',
          raw: '{"amount":100,"currency":"USD"}',
          headers: { 'content-length': '5' },
        },
        { status: 400, code: 'invalid_content_length' },
      );
    });

    it("answers the HTTP parser's refusals on a real socket in the error shape too (431, 414, 400)", async () => {
      const h = get();
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = h.app.server.address() as AddressInfo;
      const before = await digest();
      const headers = await sendRaw(
        port,
        `GET /v1/transactions HTTP/1.1\r\nHost: x\r\nX-Padding: ${'p'.repeat(20_000)}\r\n\r\n`,
      );
      expect(headers.status).toBe(431);
      expect(headers.body.error).toMatchObject({
        type: 'invalid_request_error',
        code: 'request_header_fields_too_large',
      });
      const line = await sendRaw(
        port,
        `GET /v1/transactions?account_id=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      expect(line.status).toBe(414);
      expect(line.body.error).toMatchObject({ type: 'invalid_request_error', code: 'uri_too_long' });
      const garbage = await sendRaw(port, 'NOT HTTP AT ALL\r\n\r\n');
      expect(garbage.status).toBe(400);
      expect(garbage.body.error).toMatchObject({ type: 'invalid_request_error', code: 'malformed_request' });
      // Under the parser's limit but over Settle's: 414 from the request guard.
      const long = await sendRaw(
        port,
        `GET /v1/transactions?account_id=${'a'.repeat(10_000)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer settle_test_admin_key_0123456789abcdef\r\nConnection: close\r\n\r\n`,
      );
      expect(long.status).toBe(414);
      expect(long.body.error).toMatchObject({ type: 'invalid_request_error', code: 'uri_too_long' });
      expect(await digest()).toEqual(before);
    });

    it('honours an Idempotency-Key when running a job: the same key twice starts one run and replays the first answer', async () => {
      const h = get();
      const runs = async () =>
        (await h.deps.db.selectFrom('job_runs').select('id').where('job', '=', 'webhook_cleanup').execute()).length;
      const before = await runs();
      const first = await send({
        method: 'POST',
        url: '/v1/jobs/webhook_cleanup/run',
        headers: { 'idempotency-key': 'run-cleanup-once' },
      });
      expect(first.status).toBe(202);
      expect(first.headers['idempotency-replayed']).toBeUndefined();
      await waitForRun(h, first.body.id);
      const second = await send({
        method: 'POST',
        url: '/v1/jobs/webhook_cleanup/run',
        headers: { 'idempotency-key': 'run-cleanup-once' },
      });
      expect(second.status).toBe(202);
      expect(second.headers['idempotency-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(await runs()).toBe(before + 1);
      // Without the key (or with another) a repeat is another run.
      const third = await send({
        method: 'POST',
        url: '/v1/jobs/webhook_cleanup/run',
        headers: { 'idempotency-key': 'run-cleanup-twice' },
      });
      expect(third.status).toBe(202);
      expect(third.body.id).not.toBe(first.body.id);
      await waitForRun(h, third.body.id);
      // A refused run (unknown job) keeps no answer: the key is free for a corrected request.
      await expectRefused(
        { method: 'POST', url: '/v1/jobs/no_such_job/run', headers: { 'idempotency-key': 'run-fixed' } },
        { status: 404, code: 'resource_missing' },
      );
      const fixed = await send({
        method: 'POST',
        url: '/v1/jobs/webhook_cleanup/run',
        headers: { 'idempotency-key': 'run-fixed' },
      });
      expect(fixed.headers['idempotency-replayed']).toBeUndefined();
      await waitForRun(h, fixed.body.id);
    });

    it('honours an Idempotency-Key when replaying webhook events: the same key twice processes once', async () => {
      const h = get();
      const now = h.clock.now();
      const id = `whe_${now.getTime().toString(36).padStart(10, '0')}aaaaaaaaaaaaaaaa`;
      await h.deps.db
        .insertInto('webhook_events')
        .values({
          id,
          gateway_id: ids.gateway,
          event_id: 'evt_bad_input_replay',
          type: 'customer.created',
          object_type: 'customer',
          object_id: 'cus_1',
          api_version: null,
          livemode: false,
          event_created_at: now,
          payload: JSON.stringify({
            id: 'evt_bad_input_replay',
            type: 'customer.created',
            data: { object: { id: 'cus_1', object: 'customer' } },
          }),
          status: 'not_supported',
          attempts: 1,
          deliveries: 1,
          received_at: now,
          last_received_at: now,
          process_after: now,
          updated_at: now,
        })
        .execute();
      const attempts = async () =>
        (await h.deps.db.selectFrom('webhook_events').select('attempts').where('id', '=', id).executeTakeFirstOrThrow())
          .attempts;
      const first = await send({
        method: 'POST',
        url: `/v1/webhook-events/${id}/replay`,
        headers: { 'idempotency-key': 'replay-once' },
      });
      expect(first.status).toBe(200);
      expect(await attempts()).toBe(2);
      const second = await send({
        method: 'POST',
        url: `/v1/webhook-events/${id}/replay`,
        headers: { 'idempotency-key': 'replay-once' },
      });
      expect(second.status).toBe(200);
      expect(second.headers['idempotency-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(await attempts()).toBe(2);

      const range = {
        received_after: new Date(now.getTime() - 1000).toISOString(),
        received_before: new Date(now.getTime() + 1000).toISOString(),
      };
      const firstRange = await send({
        method: 'POST',
        url: '/v1/webhook-events/replay',
        body: range,
        headers: { 'idempotency-key': 'replay-range-once' },
      });
      expect(firstRange.status).toBe(200);
      expect(firstRange.body.reset).toBe(1);
      expect(await attempts()).toBe(3);
      const secondRange = await send({
        method: 'POST',
        url: '/v1/webhook-events/replay',
        body: range,
        headers: { 'idempotency-key': 'replay-range-once' },
      });
      expect(secondRange.headers['idempotency-replayed']).toBe('true');
      expect(secondRange.body).toEqual(firstRange.body);
      expect(await attempts()).toBe(3);
    });
  },
  { emulator: true },
);
