// Stripe webhook endpoints (POST/GET /v1/webhook_endpoints) through the official SDK: how Settle registers its
// intake URL with a Stripe-compatible API (the emulator) and learns the endpoint's signing secret. The SDK is
// built as the adapter builds its client (stripe-client.ts): same host options, no SDK retries, a timeout, and the
// same guarded transport: connections go only where the gateway's ConnectPolicy allows (gateway-adapters/host-policy.ts).
import type { LookupFunction } from 'node:net';
import Stripe from 'stripe';
import type { WebhookEndpointApi } from '../../app/webhooks/secrets.js';
import { type GatewayHostRules, NO_EXTRA_HOSTS } from '../../domain/host-policy.js';
import { gatewayConnectPolicy, hostRefusalOf, systemLookup } from '../host-policy.js';
import { PacedHttpClient } from './paced-http-client.js';
import { unlimited } from './rate-limiter.js';
import { hostOptions } from './stripe-client.js';

export interface WebhookEndpointApiOptions {
  secretKey: string;
  /** e.g. http://127.0.0.1:12111; undefined = api.stripe.com. */
  apiBase?: string | undefined;
  timeoutMs?: number;
  /**
   * The operator's host rules (Deps.gatewayHosts): an apiBase equal to STRIPE_API_BASE is trusted, others must be
   * loopback or listed. Default: none, so only loopback (or api.stripe.com without apiBase).
   */
  hosts?: GatewayHostRules | undefined;
  /** dns.lookup-compatible resolver (tests). */
  lookup?: LookupFunction;
  /** Connection agents (tests: a connector of their own). Default: the shared keep-alive agents. */
  agents?: ConstructorParameters<typeof PacedHttpClient>[1];
}

/** A refused connection says so (the SDK's own message would only say that the connection failed). */
async function plainRefusal<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw hostRefusalOf(error) ?? error;
  }
}

/**
 * create: every event type (`enabled_events: ['*']`), rendered in the SDK's pinned API version (`api_version`), so
 * that events can be applied from their own copy of the object without a read (app/webhooks/apply-snapshots.ts);
 * the whsec_ secret is in Stripe's answer to the create only.
 * retrieve: undefined on a 404 (deleted, or never there); other failures throw. update: a new URL, enabled.
 */
export function stripeWebhookEndpoints(options: WebhookEndpointApiOptions): WebhookEndpointApi {
  const guard = {
    policy: gatewayConnectPolicy(options.apiBase ?? null, options.hosts ?? NO_EXTRA_HOSTS),
    lookup: options.lookup ?? systemLookup,
  };
  const sdk = new Stripe(options.secretKey, {
    ...hostOptions(options.apiBase),
    maxNetworkRetries: 0,
    timeout: options.timeoutMs ?? 10_000,
    telemetry: false,
    httpClient: new PacedHttpClient(unlimited, options.agents, guard),
  });
  return {
    async create(url, description) {
      const endpoint = await plainRefusal(() =>
        sdk.webhookEndpoints.create({ url, enabled_events: ['*'], description, api_version: Stripe.API_VERSION }),
      );
      if (typeof endpoint.secret !== 'string' || endpoint.secret === '') {
        throw new Error(`the webhook endpoint ${endpoint.id} was created without a signing secret in the answer`);
      }
      return { id: endpoint.id, url: endpoint.url, secret: endpoint.secret };
    },
    async update(id, url) {
      await plainRefusal(() => sdk.webhookEndpoints.update(id, { url, disabled: false }));
    },
    async retrieve(id) {
      try {
        const endpoint = await plainRefusal(() => sdk.webhookEndpoints.retrieve(id));
        return { id: endpoint.id, url: endpoint.url, status: endpoint.status };
      } catch (error) {
        if (error instanceof Stripe.errors.StripeError && error.statusCode === 404) return undefined;
        throw error;
      }
    },
  };
}
