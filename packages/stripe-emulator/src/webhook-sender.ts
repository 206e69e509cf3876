// One webhook HTTP delivery: POST the event JSON with Stripe's signature header (docs.stripe.com/webhooks):
//   Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of `${t}.${body}` keyed with the endpoint secret>
// The timestamp is always the WALL clock (Date.now), never the emulator's shifted clock: receivers check it
// against their own clock (stripe-node rejects signatures older than 300 s).
import { createHmac } from 'node:crypto';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export function signatureHeader(body: string, secret: string, nowMs = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/** POSTs and resolves with the HTTP status, or rejects on a connection error or after timeoutMs. */
export function postWebhook(
  url: string,
  body: string,
  secret: string,
  timeoutMs: number,
  track: Set<ClientRequest>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: 'POST',
        agent: false,
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
        resolve(res.statusCode ?? 0);
      },
    );
    track.add(req);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (err) => {
      track.delete(req);
      reject(err);
    });
    req.end(body);
  });
}
