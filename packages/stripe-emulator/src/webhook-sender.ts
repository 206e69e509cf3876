// One webhook HTTP delivery: POST the event JSON with Stripe's signature header (docs.stripe.com/webhooks):
//   Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of `${t}.${body}` keyed with the endpoint secret>
// The timestamp is always the WALL clock (Date.now), never the emulator's shifted clock: receivers check it
// against their own clock (stripe-node rejects signatures older than 300 s).
//
// Connections are kept alive between deliveries (WebhookAgents): a new TCP connection per event cost both the
// emulator and the receiver a connect/accept per delivery, the largest single item in the emulator's CPU profile of
// the scheduled-charges-webhooks benchmark (docs/PERFORMANCE.md in Settle). An idle connection is closed after
// IDLE_SOCKET_MS, before common servers' own keep-alive timeouts (Node's default is 5 s), and a request that fails
// with ECONNRESET on a reused connection (the receiver closed it as the request left) is sent once more on a new
// one: nothing of it was answered.
import { createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** How long an idle kept-alive connection to an endpoint stays open. */
export const IDLE_SOCKET_MS = 4_000;

export function signatureHeader(body: string, secret: string, nowMs = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/** The kept-alive connections of one dispatcher; destroy() closes them all (the emulator's close()). */
export class WebhookAgents {
  readonly http = new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  readonly https = new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });

  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

function postOnce(
  target: URL,
  body: string,
  secret: string,
  timeoutMs: number,
  track: Set<ClientRequest>,
  agents: WebhookAgents,
): Promise<{ status: number } | { error: Error; reused: boolean }> {
  return new Promise((resolve) => {
    const https = target.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: 'POST',
        agent: https ? agents.https : agents.http,
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': Buffer.byteLength(body),
          'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'Stripe-Signature': signatureHeader(body, secret),
        },
      },
      (res) => {
        res.resume();
        track.delete(req);
        resolve({ status: res.statusCode ?? 0 });
      },
    );
    track.add(req);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (error) => {
      track.delete(req);
      resolve({ error, reused: req.reusedSocket });
    });
    req.end(body);
  });
}

/** POSTs and resolves with the HTTP status, or rejects on a connection error or after timeoutMs. */
export async function postWebhook(
  url: string,
  body: string,
  secret: string,
  timeoutMs: number,
  track: Set<ClientRequest>,
  agents: WebhookAgents,
): Promise<number> {
  const target = new URL(url);
  let result = await postOnce(target, body, secret, timeoutMs, track, agents);
  if ('error' in result && result.reused && (result.error as NodeJS.ErrnoException).code === 'ECONNRESET')
    result = await postOnce(target, body, secret, timeoutMs, track, agents);
  if ('error' in result) throw result.error;
  return result.status;
}
