// Webhook endpoints (WebhookEndpoints.d.ts; docs.stripe.com/api/webhook_endpoints). The signing secret
// (`whsec_…`) is returned only by the create call, as on Stripe; the emulator keeps it in its hidden
// bookkeeping to sign deliveries. `enabled_events: ['*']` subscribes to every event type. Updating takes url,
// enabled_events, disabled (status `disabled` stops deliveries), description and metadata. Create takes `connect`
// (Connect endpoints receive only connected accounts' events; the others only the platform's).
import { invalidRequest, resourceMissing } from './errors.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optBool, optString, reqString, stringList } from './params.js';
import { expansions, render, renderList } from './render.js';
import { randomToken, type EmulatorState } from './state.js';
import type { WebhookEndpoint } from './types.js';

type Json = Record<string, unknown>;

const EVENT_TYPE = /^(\*|[a-z_]+(\.[a-z_]+)+)$/;

function urlParam(params: FormObject): string {
  const url = reqString(params, 'url');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidRequest(`Invalid URL: ${url}`, 'url_invalid', 'url');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw invalidRequest(`Invalid URL: ${url} (http or https only)`, 'url_invalid', 'url');
  return url;
}

function eventsParam(params: FormObject): string[] {
  const events = stringList(params, 'enabled_events');
  if (events.length === 0)
    throw invalidRequest('Missing required param: enabled_events.', 'parameter_missing', 'enabled_events');
  for (const e of events) {
    if (!EVENT_TYPE.test(e))
      throw invalidRequest(`Invalid event type: ${e}`, 'parameter_invalid_string', 'enabled_events');
  }
  return events;
}

export function requireEndpoint(state: EmulatorState, id: string): WebhookEndpoint {
  const endpoint = state.find<WebhookEndpoint>(id, 'webhook_endpoint');
  if (!endpoint) throw resourceMissing('webhook_endpoint', id);
  return endpoint;
}

export function endpointSecret(state: EmulatorState, id: string): string | undefined {
  return state.internal.get(id)?.secret;
}

export function createEndpoint(state: EmulatorState, params: FormObject): Json {
  checkKnown(params, ['url', 'enabled_events', 'description', 'metadata', 'api_version', 'connect', 'expand']);
  const url = urlParam(params);
  const enabled = eventsParam(params);
  // `connect: true`: a Connect endpoint, fed only connected accounts' events (events.ts endpointWants). The object
  // has no field for it (WebhookEndpoints.d.ts), so it is kept in the hidden bookkeeping.
  const connect = optBool(params, 'connect') === true;
  const endpoint: WebhookEndpoint = {
    id: state.newId('we'),
    object: 'webhook_endpoint',
    api_version: optString(params, 'api_version') ?? null,
    application: null,
    created: state.nowSeconds(),
    description: optString(params, 'description') ?? null,
    enabled_events: enabled,
    livemode: false,
    metadata: metadataParam(params),
    status: 'enabled',
    url,
  };
  const secret = `whsec_${randomToken(32)}`;
  state.meta(endpoint.id).secret = secret;
  if (connect) state.meta(endpoint.id).connect = true;
  state.put(endpoint);
  return { ...render(state, endpoint, expansions(params)), secret };
}

export function updateEndpoint(state: EmulatorState, id: string, params: FormObject): Json {
  checkKnown(params, ['url', 'enabled_events', 'disabled', 'description', 'metadata', 'expand']);
  const endpoint = requireEndpoint(state, id);
  if (params.url !== undefined) endpoint.url = urlParam(params);
  if (params.enabled_events !== undefined) endpoint.enabled_events = eventsParam(params);
  const disabled = optBool(params, 'disabled');
  if (disabled !== undefined) endpoint.status = disabled ? 'disabled' : 'enabled';
  if (params.description !== undefined) endpoint.description = optString(params, 'description') ?? null;
  endpoint.metadata = metadataParam(params, endpoint.metadata as Record<string, string>);
  return render(state, endpoint, expansions(params));
}

export function deleteEndpoint(state: EmulatorState, id: string): Json {
  const endpoint = requireEndpoint(state, id);
  state.remove(endpoint.id);
  state.internal.delete(endpoint.id);
  return { id: endpoint.id, object: 'webhook_endpoint', deleted: true };
}

export function listEndpoints(state: EmulatorState, params: FormObject): Json {
  checkKnown(params, ['limit', 'starting_after', 'ending_before', 'expand']);
  return renderList(state, state.all<WebhookEndpoint>('webhook_endpoint'), '/v1/webhook_endpoints', params);
}
