// The connect-time guard of the gateway HTTP client (gateway-adapters/host-policy.ts in paced-http-client.ts): every
// refused host, in every spelling, and every name that resolves to a refused address (including one that answers
// 127.0.0.1 first and 169.254.169.254 next: DNS rebinding), fails before a connection is opened.
//
// How the test can tell: a fake lookup maps names to addresses, and a fake connector (the agents' createConnection)
// sends every connection to one listener on 127.0.0.1, whatever address was asked for or resolved (through the
// lookup it is given, as net.connect does). So without the guard each refused request would arrive there; the
// listener counts connections and bytes, and must see none. No connection leaves 127.0.0.1.
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectPolicy } from '../../src/domain/host-policy.js';
import { HostRefusedError, hostRefusalOf } from '../../src/gateway-adapters/host-policy.js';
import { unlimited } from '../../src/gateway-adapters/stripe/rate-limiter.js';
import { PacedHttpClient, wasNotSent } from '../../src/gateway-adapters/stripe/paced-http-client.js';
import { StripeGateway } from '../../src/gateway-adapters/stripe/stripe-gateway.js';
import { stripeWebhookEndpoints } from '../../src/gateway-adapters/stripe/webhook-endpoints.js';

/** The one place any connection of this file can reach: counts what arrives and answers `{}`. */
const listener = { connections: 0, bytes: 0, port: 0 };
let server: net.Server;
beforeAll(async () => {
  server = net.createServer((socket) => {
    listener.connections += 1;
    socket.on('data', (chunk) => {
      listener.bytes += chunk.length;
      if (chunk.includes('\r\n\r\n'))
        socket.end(
          'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
        );
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  listener.port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  listener.connections = 0;
  listener.bytes = 0;
});

/** Names and what they resolve to; a list answers in turn (the last one repeats), as a rebinding DNS server would. */
const ZONE: Record<string, string[] | string[][]> = {
  'metadata.example': ['169.254.169.254'],
  'metadata6.example': ['fd00:ec2::254'],
  'linklocal6.example': ['fe80::1'],
  'intranet.example': ['10.0.0.5'], // private, not listed
  'listed.example': ['10.0.0.7'], // private, listed: allowed
  'listed-metadata.example': ['169.254.169.254'], // listed, but link-local: refused anyway
  'mapped.example': ['::ffff:169.254.169.254'],
  'zero.example': ['0.0.0.0'],
  'mixed.example': [['127.0.0.1', '169.254.169.254']], // one good and one bad address at once
  'rebind.example': [['127.0.0.1'], ['169.254.169.254']],
  'rebind-listed.example': [['10.0.0.7'], ['169.254.169.254']],
  'loopback.example': ['127.0.0.1'],
};
const answered = new Map<string, number>();

const fakeLookup: LookupFunction = (hostname, options, callback) => {
  const entry = ZONE[hostname];
  if (entry === undefined) {
    callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    return;
  }
  const turn = answered.get(hostname) ?? 0;
  answered.set(hostname, turn + 1);
  const current = Array.isArray(entry[0])
    ? (entry as string[][])[Math.min(turn, entry.length - 1)]!
    : (entry as string[]);
  const list: LookupAddress[] = current.map((address) => ({ address, family: net.isIP(address) }));
  if (options.all) callback(null, list);
  else callback(null, list[0]!.address, list[0]!.family);
};

/**
 * The fake connector: like net.connect it resolves a name through the lookup it is handed (the guard's, which
 * wraps fakeLookup), then connects, but always to the listener. An IP literal (net makes no lookup) goes there too.
 */
class RedirectingAgent extends http.Agent {
  constructor() {
    super({ keepAlive: false });
  }

  override createConnection(options: net.NetConnectOpts & { host?: string; lookup?: LookupFunction }): net.Socket {
    const given = options.lookup ?? fakeLookup;
    const toListener: LookupFunction = (hostname, lookupOptions, callback) =>
      given(hostname, lookupOptions, (error, address, family) => {
        if (error) return callback(error, address, family);
        if (lookupOptions.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      });
    const host = options.host ?? 'localhost';
    return net.createConnection({
      host: net.isIP(host.replace(/^\[|\]$/g, '')) ? '127.0.0.1' : host,
      port: listener.port,
      lookup: toListener,
    });
  }
}

const agents = () => ({ http: new RedirectingAgent(), https: new https.Agent() });
const policy = connectPolicy({
  allow: ['listed.example', 'listed-metadata.example', 'rebind-listed.example', '10.0.0.9'],
});

async function send(host: string): Promise<unknown> {
  const client = new PacedHttpClient(unlimited, agents(), { policy, lookup: fakeLookup });
  try {
    const response = await client.makeRequest(
      host,
      '80',
      '/v1/charges',
      'POST',
      { Authorization: 'Bearer sk_test_must_not_leave' },
      'amount=100',
      'http',
      2000,
    );
    return await response.toJSON();
  } catch (error) {
    return error;
  }
}

const REFUSED = [
  '169.254.169.254',
  '2852039166', // decimal
  '0251.0376.0251.0376', // octal
  '0xa9fea9fe', // hex
  '0xa9.0xfe.0xa9.0xfe',
  '169.254.43518', // short form
  '[::ffff:169.254.169.254]',
  '::ffff:a9fe:a9fe',
  '[fe80::1]',
  'fe80::abcd',
  '[fd00:ec2::254]',
  '100.100.100.200',
  '0.0.0.0',
  '0',
  '10.0.0.1', // private, not listed
  '192.168.1.1',
  '8.8.8.8', // public, not listed
  '224.0.0.1',
  'metadata.example',
  'metadata6.example',
  'linklocal6.example',
  'intranet.example',
  'listed-metadata.example',
  'mapped.example',
  'zero.example',
  'mixed.example',
  'unknown.example', // no such name: the lookup fails, nothing is opened either
];

describe('the connect guard', () => {
  it.each(REFUSED)('refuses %s before connecting: the listener sees no connection and no byte', async (host) => {
    const result = await send(host);
    expect(result).toBeInstanceOf(Error);
    expect(wasNotSent(result)).toBe(true);
    if (host !== 'unknown.example') expect(hostRefusalOf(result)).toBeInstanceOf(HostRefusedError);
    expect(String((result as Error).message)).not.toContain('sk_test_must_not_leave');
    expect(listener).toMatchObject({ connections: 0, bytes: 0 });
  });

  it('lets loopback and listed hosts through (so the refusals above are the guard, not the fakes)', async () => {
    for (const host of ['127.0.0.1', '127.1', '[::ffff:127.0.0.1]', 'loopback.example', 'listed.example', '10.0.0.9']) {
      expect(await send(host), host).toEqual({});
    }
    expect(listener.connections).toBe(6);
  });

  it('checks every connection again: a name that answered 127.0.0.1 and then 169.254.169.254 (DNS rebinding)', async () => {
    for (const name of ['rebind.example', 'rebind-listed.example']) {
      answered.delete(name);
      listener.connections = 0;
      listener.bytes = 0;
      expect(await send(name)).toEqual({});
      expect(listener.connections).toBe(1);
      const bytesOfFirst = listener.bytes;
      const second = await send(name);
      expect(hostRefusalOf(second)?.message).toContain('169.254.169.254');
      expect(wasNotSent(second)).toBe(true);
      expect(listener).toMatchObject({ connections: 1, bytes: bytesOfFirst });
    }
  });

  it('makes a refusal a configuration outcome of the adapter: not retried, not unknown, nothing sent', async () => {
    answered.delete('listed-metadata.example');
    const gateway = new StripeGateway({
      secretKey: 'sk_test_must_not_leave',
      apiBase: 'http://listed-metadata.example',
      timeoutMs: 2000,
      rateLimitPerSecond: 100,
      maxRetries: 2,
      connectPolicy: policy,
      lookup: fakeLookup,
      agents: agents(),
    });
    const outcome = await gateway.authorize({
      idempotencyKey: 'guard-1',
      transactionId: 'trx_guard',
      amount: 1000,
      currency: 'USD',
      paymentMethod: 'pm_card_visa',
    });
    expect(outcome.kind).toBe('configuration');
    if (outcome.kind === 'configuration') {
      expect(outcome.error.code).toBe('gateway_host_refused');
      expect(outcome.error.message).toContain('169.254.169.254');
    }
    expect(answered.get('listed-metadata.example')).toBe(1); // asked once: no retry
    expect(listener).toMatchObject({ connections: 0, bytes: 0 });
  });

  it('guards the webhook-endpoint registration client the same way', async () => {
    const api = stripeWebhookEndpoints({
      secretKey: 'sk_test_must_not_leave',
      apiBase: 'http://metadata.example',
      lookup: fakeLookup,
      agents: agents(),
    });
    await expect(api.create('http://127.0.0.1:3000/v1/webhooks/gw_x', 'test')).rejects.toBeInstanceOf(HostRefusedError);
    expect(listener).toMatchObject({ connections: 0, bytes: 0 });
  });
});
