// Stripe webhook verification (W1; docs/STRIPE.md, "Webhooks"): the `Stripe-Signature` header is checked over the RAW
// bytes received (never a re-serialised body) with the official SDK's HMAC check, then the timestamp against Settle's
// clock in both directions (the SDK only rejects old ones; a timestamp far in the future is rejected here too), and
// only then is the body read as an event. Every rejection is a 400 with its own code; nothing is stored.
import Stripe from 'stripe';
import type { ParsedEvent, WebhookVerifier } from '../../app/webhooks/intake.js';
import { ValidationError } from '../../domain/errors.js';

/** Stripe's own default tolerance (seconds), applied to the past and, here, to the future as well. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** The latest `created` accepted (9999-12-31T23:59:59Z), so that every stored instant is a valid timestamp. */
const MAX_CREATED = 253_402_300_799;
const MAX_EVENT_ID_LENGTH = 255;

const signatureHelper = (() => {
  const helper = Stripe.webhooks.signature;
  if (!helper) throw new Error('the stripe SDK has no webhook signature helper');
  return helper;
})();

/** The parts of a `Stripe-Signature` header (`t=<unix seconds>,v1=<hex>[,v1=...]`), or undefined when unusable. */
export function parseSignatureHeader(header: string): { timestamp: number; signatures: string[] } | undefined {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const [key, value, ...rest] = item.trim().split('=');
    if (rest.length > 0 || value === undefined) continue;
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (key === 'v1' && /^[0-9a-f]+$/i.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp, signatures };
}

const invalid = (code: string, message: string, param?: string) => new ValidationError(code, message, param);

/**
 * Checks `header` against `rawBody` with `secret`, at `nowMs` (Settle's clock). Throws a 400 ValidationError:
 * signature_missing, signature_invalid (unparseable), signature_mismatch, timestamp_outside_tolerance.
 */
export function verifyStripeSignature(
  rawBody: Buffer,
  header: string | string[] | undefined,
  secret: string,
  nowMs: number,
): void {
  if (header === undefined || header === '' || (Array.isArray(header) && header.length === 0)) {
    throw invalid(
      'signature_missing',
      'The Stripe-Signature header is missing: only events signed by the gateway are accepted.',
      'Stripe-Signature',
    );
  }
  if (Array.isArray(header)) {
    throw invalid('signature_invalid', 'Send exactly one Stripe-Signature header.', 'Stripe-Signature');
  }
  const parsed = parseSignatureHeader(header);
  if (!parsed) {
    throw invalid(
      'signature_invalid',
      'The Stripe-Signature header must look like t=<unix seconds>,v1=<hex signature>.',
      'Stripe-Signature',
    );
  }
  if (rawBody.length === 0) throw invalid('payload_missing', 'The request has no body: send the event as JSON.');
  try {
    signatureHelper.verifyHeader(rawBody, header, secret, SIGNATURE_TOLERANCE_SECONDS, undefined, nowMs);
  } catch (error) {
    if (!(error instanceof Stripe.errors.StripeSignatureVerificationError)) throw error;
    if (/tolerance/i.test(error.message)) throw outsideTolerance(parsed.timestamp, nowMs);
    throw invalid(
      'signature_mismatch',
      "No signature in the Stripe-Signature header matches this body and the gateway's webhook secret.",
      'Stripe-Signature',
    );
  }
  // The SDK checks only the past (docs/STRIPE.md, "Webhooks"); a timestamp from the future is refused as well.
  if (parsed.timestamp - Math.floor(nowMs / 1000) > SIGNATURE_TOLERANCE_SECONDS)
    throw outsideTolerance(parsed.timestamp, nowMs);
}

function outsideTolerance(timestamp: number, nowMs: number): ValidationError {
  const skew = timestamp - Math.floor(nowMs / 1000);
  const when = skew > 0 ? `${skew} seconds in the future` : `${-skew} seconds old`;
  return invalid(
    'timestamp_outside_tolerance',
    `The Stripe-Signature timestamp is ${when}; at most ${SIGNATURE_TOLERANCE_SECONDS} seconds either way is accepted (check the server clocks).`,
    'Stripe-Signature',
  );
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const notAnEvent = (message: string, param: string) =>
  invalid('invalid_event', `The body is not a Stripe event: ${message}`, param);

/** Reads a verified body as a Stripe event; a 400 invalid_json or invalid_event (naming the field) otherwise. */
export function parseStripeEvent(rawBody: Buffer): ParsedEvent {
  let text: string;
  let body: unknown;
  try {
    text = decoder.decode(rawBody);
    body = JSON.parse(text);
  } catch {
    throw invalid('invalid_json', 'The body is not valid JSON (UTF-8).');
  }
  if (!isObject(body)) throw notAnEvent('it must be a JSON object.', 'body');
  const { id, type, created, data, livemode, api_version: apiVersion, account } = body;
  if (typeof id !== 'string' || !/^evt_[A-Za-z0-9_]+$/.test(id) || id.length > MAX_EVENT_ID_LENGTH) {
    throw notAnEvent(`id must be an event id (evt_...), at most ${MAX_EVENT_ID_LENGTH} characters.`, 'id');
  }
  if (typeof type !== 'string' || type === '' || type.length > 200)
    throw notAnEvent('type must be a non-empty string.', 'type');
  if (typeof created !== 'number' || !Number.isInteger(created) || created < 0 || created > MAX_CREATED) {
    throw notAnEvent('created must be a whole number of seconds since 1970.', 'created');
  }
  if (!isObject(data) || !isObject(data.object)) throw notAnEvent('data.object must be an object.', 'data.object');
  if (typeof livemode !== 'boolean') throw notAnEvent('livemode must be true or false.', 'livemode');
  // Connect (M6): an event about a connected account names it in `account` (Events.d.ts `Event.account`).
  if (
    account !== undefined &&
    account !== null &&
    (typeof account !== 'string' || !/^acct_[A-Za-z0-9]+$/.test(account))
  )
    throw notAnEvent('account must be a connected account id (acct_...) when present.', 'account');
  const object = data.object;
  return {
    event_id: id,
    type,
    object_type: typeof object.object === 'string' ? object.object : null,
    object_id: typeof object.id === 'string' ? object.id : null,
    api_version: typeof apiVersion === 'string' ? apiVersion : null,
    livemode,
    created: new Date(created * 1000),
    account: typeof account === 'string' ? account : null,
    text,
  };
}

/** The intake's verifier for Stripe gateways: the signature first, then the event. */
export const stripeWebhookVerifier: WebhookVerifier = {
  verify(rawBody, headers, secret, nowMs) {
    verifyStripeSignature(rawBody, headers['stripe-signature'], secret, nowMs);
    return parseStripeEvent(rawBody);
  },
};
