// POST /v1/webhooks/:gateway_id (W1): the gateway's notifications. No API key: the signature is the
// authentication. This plugin replaces the JSON parser for its own route only (Fastify encapsulation): the body
// arrives as the raw bytes, up to 1 MB, so the signature is checked over exactly what was sent.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { WebhookIntake } from '../../app/webhooks/intake.js';
import { ErrorResponse } from '../schemas/common.js';
import { IntakeAnswerSchema, IntakeHeaders, IntakeParams } from '../schemas/webhook-event.js';

/** Largest notification accepted (Stripe's events are far smaller). */
export const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;

const EMPTY = Buffer.alloc(0);

export function webhookIntakeRoutes(intake: WebhookIntake): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT_BYTES }, (_request, body, done) =>
      done(null, body),
    );

    app.post(
      '/v1/webhooks/:gateway_id',
      {
        bodyLimit: WEBHOOK_BODY_LIMIT_BYTES,
        config: { public: true },
        schema: {
          tags: ['webhooks'],
          summary: "Receive a gateway's event (the gateway calls this)",
          description:
            "Register this URL with the gateway (Stripe: a webhook endpoint). Authenticated by the Stripe-Signature header only (no API key): an HMAC of the raw body with the gateway's signing secret, whose timestamp may be at most 300 seconds old or ahead. The event is stored once per (gateway, event id) and acknowledged at once; processing follows separately (GET /v1/webhook-events). A duplicate delivery is counted and answered 200 with duplicate: true. Errors: 404 unknown gateway; 503 webhook_secret_not_configured (the message names the variable to set); 400 signature_missing, signature_invalid, signature_mismatch, timestamp_outside_tolerance, payload_missing, invalid_json, invalid_event; 413 over 1 MB. Nothing is stored on an error.",
          security: [],
          params: IntakeParams,
          headers: IntakeHeaders,
          response: {
            200: IntakeAnswerSchema,
            400: ErrorResponse,
            404: ErrorResponse,
            413: ErrorResponse,
            503: ErrorResponse,
          },
        },
      },
      async (request) => {
        const body = Buffer.isBuffer(request.body) ? request.body : EMPTY;
        return intake.receive(request.params.gateway_id, body, request.headers);
      },
    );
  };
}
