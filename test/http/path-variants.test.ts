// Variants of a path (encoded, doubled slashes, dot segments, other case, absolute-form...) must never reach a /v1
// handler without a key, nor another handler than the canonical path's. Every request here is written by hand on a
// real socket, as `curl --path-as-is` sends it: app.inject() would normalise some of these targets before Fastify saw
// them. Each variant is sent without a key and with a read-only key; none may answer 2xx, and the writes change nothing.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/harness.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/** Sends one request exactly as given (request line included) and reads the answer until the server closes. */
function sendRaw(
  port: number,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no answer to ${method} ${target}`)));
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...headerLines] = text.slice(0, split).split('\r\n');
      const parsed: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const raw = text.slice(split + 4);
      let parsedBody: unknown = raw;
      if ((parsed['content-type'] ?? '').includes('application/json') && raw !== '') parsedBody = JSON.parse(raw);
      resolve({ status: Number(statusLine.split(' ')[1]), headers: parsed, body: parsedBody });
    });
    const lines = [`${method} ${target} HTTP/1.1`, 'Host: localhost', 'Connection: close'];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (body !== undefined) lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`);
    // Not end(): a half-closed connection makes Node's server abort a request still in progress. Connection: close
    // has the server close it once it has answered.
    socket.write(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`);
  });
}

interface Expected {
  status: number;
  /** The error codes accepted (Node's HTTP parser refuses some targets itself, before Fastify). */
  codes: string[];
}

const PATH: Expected = { status: 400, codes: ['invalid_path'] };
const TARGET: Expected = { status: 400, codes: ['invalid_request_target'] };
const NO_ROUTE: Expected = { status: 404, codes: ['route_not_found'] };
/** Not even HTTP: Node's parser refuses it (400 malformed_request) unless it lets it through to the target check. */
const UNPARSED: Expected = { status: 400, codes: ['invalid_request_target', 'malformed_request'] };

/** Variants of GET /v1/transactions (and of other paths reached through dot segments). */
const READ_VARIANTS: [string, Expected][] = [
  ['/%761/transactions', PATH],
  ['/v%31/transactions', PATH],
  ['/v1%2Ftransactions', PATH],
  ['/v1%2ftransactions', PATH],
  ['//v1/transactions', PATH],
  ['/v1//transactions', PATH],
  ['/v1/transactions//', PATH],
  ['/v1/./transactions', PATH],
  ['/v1/x/../transactions', PATH],
  ['/v1/transactions/.', PATH],
  ['/v1/transactions/..', PATH],
  ['/v1/transactions/%2e%2e/gateways', PATH],
  ['/v1/transactions/%2E%2E/gateways', PATH],
  ['/v1/transactions%20', PATH],
  ['/v1/transactions%09', PATH],
  ['/v1/transactions;x', PATH],
  ['/v1/transactions;', PATH],
  ['/v1/transactions%00', PATH],
  ['/v1/transactions%3b', PATH],
  ['/v1\\transactions', PATH],
  ['/v1/transactions\\..\\gateways', PATH],
  ['/v1/transactions#x', PATH],
  ['/v1/transactions/trx_1%2F..%2F..%2Fgateways', PATH],
  // The docs' static files (a wildcard route) must not be walked out of either.
  ['/docs/static/../../package.json', PATH],
  ['/docs/static/%2e%2e/%2e%2e/package.json', PATH],
  ['/docs/static/..%2f..%2fpackage.json', PATH],
  ['http://localhost/v1/transactions', TARGET],
  ['HTTP://LOCALHOST/v1/transactions', TARGET],
  ['http://localhost//v1/transactions', TARGET],
  ['*', TARGET],
  ['v1/transactions', UNPARSED],
  ['/V1/transactions', NO_ROUTE],
  ['/v1/Transactions', NO_ROUTE],
  ['/V1/TRANSACTIONS', NO_ROUTE],
];

const SETTINGS_PATCH = JSON.stringify({ timezone: 'Pacific/Auckland' });

/** Variants of PATCH /v1/settings (admin only) and POST /v1/transactions (write). */
const WRITE_VARIANTS: [string, string, Expected][] = [
  ['PATCH', '/%761/settings', PATH],
  ['PATCH', '/v1/%73ettings', PATH],
  ['PATCH', '//v1/settings', PATH],
  ['PATCH', '/v1/./settings', PATH],
  ['PATCH', '/v1/transactions/../settings', PATH],
  ['PATCH', '/v1/settings;x', PATH],
  ['PATCH', '/v1/settings%00', PATH],
  ['PATCH', 'http://localhost/v1/settings', TARGET],
  ['PATCH', '/V1/settings', NO_ROUTE],
  ['POST', '/%761/transactions', PATH],
  ['POST', '/v1//transactions', PATH],
  ['POST', 'http://localhost/v1/transactions', TARGET],
];

describeEachDatabase('path variants on a real socket', (get) => {
  let port = 0;
  let readKey = '';

  beforeAll(async () => {
    const h = get();
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    port = (h.app.server.address() as AddressInfo).port;
    readKey = await h.keyWith(['read']);
  });

  it('the canonical paths work over the same socket (the helper reaches the app): 401 without a key, 200 with one', async () => {
    const none = await sendRaw(port, 'GET', '/v1/transactions');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('api_key_missing');
    expect((await sendRaw(port, 'GET', '/v1/transactions', { Authorization: `Bearer ${readKey}` })).status).toBe(200);
    // Percent-encoding in the query string is still fine: only the path is held to the canonical form.
    expect(
      (await sendRaw(port, 'GET', '/v1/transactions?limit=%32', { Authorization: `Bearer ${readKey}` })).status,
    ).toBe(200);
  });

  describe.each([
    ['without a key', () => ({})],
    ['with a read-only key', () => ({ Authorization: `Bearer ${readKey}` })],
  ])('%s', (_label, headers) => {
    it.each(READ_VARIANTS)('GET %s is refused, not served', async (target, expected) => {
      const answer = await sendRaw(port, 'GET', target, headers());
      expect(answer.status).toBe(expected.status);
      expect(answer.body.error.type).toBe('invalid_request_error');
      expect(expected.codes).toContain(answer.body.error.code);
      expect(typeof answer.body.error.message).toBe('string');
    });

    it('no write variant answers 2xx, and nothing changed', async () => {
      const h = get();
      const settingsBefore = await h.deps.settings.get();
      const countBefore = await h.deps.db
        .selectFrom('transactions')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      for (const [method, target, expected] of WRITE_VARIANTS) {
        const body = target.includes('settings') ? SETTINGS_PATCH : JSON.stringify({ amount: 100, currency: 'USD' });
        const answer = await sendRaw(port, method, target, headers(), body);
        expect({ method, target, status: answer.status }).toEqual({ method, target, status: expected.status });
        expect(expected.codes).toContain(answer.body.error?.code);
      }
      expect(await h.deps.settings.get()).toEqual(settingsBefore);
      expect((await h.deps.settings.get()).timezone).not.toBe('Pacific/Auckland');
      const countAfter = await h.deps.db
        .selectFrom('transactions')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(countAfter.n)).toBe(Number(countBefore.n));
    });
  });
});
