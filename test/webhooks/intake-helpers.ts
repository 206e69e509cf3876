// Helpers of the webhook intake tests: Stripe-shaped events, signatures made with the SDK's test helper, a
// gateway whose secret is in an environment variable, sending without an API key, and counting stored events.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { sql } from 'kysely';
import Stripe from 'stripe';
import type { Harness } from '../support/harness.js';

export const signHeader = (payload: string, secret: string, timestamp: number): string =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });

export const unixSeconds = (h: Harness): number => Math.floor(h.clock.now().getTime() / 1000);

let counter = 0;
export const newEventId = (): string =>
  `evt_test${Date.now().toString(36)}${(counter++).toString(36)}${randomBytes(3).toString('hex')}`;

/** A Stripe event as Stripe sends it (pretty-printed, as Stripe's bodies are). */
export function stripeEvent(
  over: Record<string, unknown> = {},
  object: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: newEventId(),
    object: 'event',
    api_version: '2025-09-30.clover',
    created: 1_795_000_000,
    data: {
      object: {
        id: `pi_${randomBytes(6).toString('hex')}`,
        object: 'payment_intent',
        amount: 1050,
        currency: 'usd',
        status: 'succeeded',
        ...object,
      },
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'payment_intent.succeeded',
    ...over,
  };
}

export const eventText = (event: Record<string, unknown>): string => JSON.stringify(event, null, 2);

/** A Stripe gateway whose webhook secret is in the environment variable `env` (set to `secret` when given). */
export async function gatewayWithSecret(h: Harness, env: string | null, secret?: string): Promise<string> {
  if (env !== null && secret !== undefined) process.env[env] = secret;
  const res = await h.request('POST', '/v1/gateways', {
    name: `webhooks ${randomBytes(3).toString('hex')}`,
    provider: 'stripe',
    settlement_currency: 'usd',
    secret_key_env: 'SETTLE_GATEWAY_TEST_UNUSED_KEY',
    ...(env === null ? {} : { webhook_secret_env: env }),
  });
  if (res.status !== 201) throw new Error(`gateway: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

export interface Sent {
  status: number;
  body: any;
}

/** POSTs raw bytes to the intake, with no API key. */
export async function sendRaw(
  h: Harness,
  gatewayId: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Sent> {
  const response = await h.app.inject({
    method: 'POST',
    url: `/v1/webhooks/${gatewayId}`,
    headers: { 'content-type': 'application/json', ...headers },
    payload: body,
  });
  return { status: response.statusCode, body: response.body === '' ? undefined : JSON.parse(response.body) };
}

/** Signs `body` with `secret` at `timestamp` (default: the harness clock) and sends it. */
export function sendSigned(
  h: Harness,
  gatewayId: string,
  body: string,
  secret: string,
  timestamp = unixSeconds(h),
  headers: Record<string, string> = {},
): Promise<Sent> {
  return sendRaw(h, gatewayId, body, { 'stripe-signature': signHeader(body, secret, timestamp), ...headers });
}

export async function countEvents(h: Harness, gatewayId?: string): Promise<number> {
  const where = gatewayId === undefined ? sql`true` : sql`gateway_id = ${gatewayId}`;
  const result = await sql<{ n: number }>`select count(*)::int8 as n from webhook_events where ${where}`.execute(
    h.deps.db,
  );
  return result.rows[0]?.n ?? 0;
}

/** A keep-alive HTTP client for sending to a listening server over a real socket (the storm test, the benchmark). */
export function socketSender(
  baseUrl: string,
  sockets: number,
): {
  send(path: string, body: string, headers: Record<string, string>): Promise<Sent>;
  close(): void;
} {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const url = new URL(baseUrl);
  return {
    send: (path, body, headers) =>
      new Promise<Sent>((resolve, reject) => {
        const request = http.request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              try {
                resolve({ status: response.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) });
              } catch (error) {
                reject(error);
              }
            });
            response.on('error', reject);
          },
        );
        request.on('error', reject);
        request.end(body);
      }),
    close: () => agent.destroy(),
  };
}
