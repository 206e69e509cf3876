// Stripe webhook endpoints (POST/GET /v1/webhook_endpoints) through the official SDK: how Settle registers its
// intake URL with a Stripe-compatible API (the emulator) and learns the endpoint's signing secret. The SDK is
// built as the adapter builds its client (stripe-client.ts): same host options, no SDK retries, a timeout.
import Stripe from 'stripe';
import type { WebhookEndpointApi } from '../../app/webhooks/secrets.js';
import { hostOptions } from './stripe-client.js';

export interface WebhookEndpointApiOptions {
  secretKey: string;
  /** e.g. http://127.0.0.1:12111; undefined = api.stripe.com. */
  apiBase?: string | undefined;
  timeoutMs?: number;
}

/**
 * create: every event type (`enabled_events: ['*']`); the whsec_ secret is in Stripe's answer to the create only.
 * retrieve: undefined on a 404 (deleted, or never there); other failures throw. update: a new URL, enabled.
 */
export function stripeWebhookEndpoints(options: WebhookEndpointApiOptions): WebhookEndpointApi {
  const sdk = new Stripe(options.secretKey, {
    ...hostOptions(options.apiBase),
    maxNetworkRetries: 0,
    timeout: options.timeoutMs ?? 10_000,
    telemetry: false,
  });
  return {
    async create(url, description) {
      const endpoint = await sdk.webhookEndpoints.create({ url, enabled_events: ['*'], description });
      if (typeof endpoint.secret !== 'string' || endpoint.secret === '') {
        throw new Error(`the webhook endpoint ${endpoint.id} was created without a signing secret in the answer`);
      }
      return { id: endpoint.id, url: endpoint.url, secret: endpoint.secret };
    },
    async update(id, url) {
      await sdk.webhookEndpoints.update(id, { url, disabled: false });
    },
    async retrieve(id) {
      try {
        const endpoint = await sdk.webhookEndpoints.retrieve(id);
        return { id: endpoint.id, url: endpoint.url, status: endpoint.status };
      } catch (error) {
        if (error instanceof Stripe.errors.StripeError && error.statusCode === 404) return undefined;
        throw error;
      }
    },
  };
}
