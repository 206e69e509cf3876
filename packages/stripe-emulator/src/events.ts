// Events (docs.stripe.com/webhooks; Events.d.ts). Every change the emulator makes records an Event holding a deep
// copy of
// the object as rendered at that moment, `previous_attributes` for `*.updated` events, the originating request
// (`request.id` null for what the emulator does by itself: clock-driven changes, dashboard actions) and
// `pending_webhooks` = the number of enabled endpoints it was queued for (decremented as deliveries succeed).
// Events are stored with the other objects, so they persist in the state file and `reset()` forgets them.
import { invalidRequest, resourceMissing } from './errors.js';
import type { FormObject } from './form.js';
import { checkKnown, optBool, optString, stringList } from './params.js';
import { rangeFilter } from './range-filter.js';
import { expansions, render, renderList } from './render.js';
import type { EmulatorState } from './state.js';
import type { AnyStripeObject, StripeEvent, WebhookEndpoint } from './types.js';

export const API_VERSION = '2026-10-28.endive';

type Json = Record<string, unknown>;

/**
 * Whether an endpoint takes an event. Connect: an endpoint created with `connect: true` "notifies the specified url
 * about events from all connected accounts", any other "only about events from your account" (WebhookEndpoints.d.ts,
 * WebhookEndpointCreateParams.connect): the event's `account` (set on connected accounts' events) picks the kind.
 */
export function endpointWants(
  state: EmulatorState,
  endpoint: WebhookEndpoint,
  event: { type: string; account?: string },
): boolean {
  const connect = state.internal.get(endpoint.id)?.connect === true;
  return (
    endpoint.status === 'enabled' &&
    connect === (event.account !== undefined) &&
    (endpoint.enabled_events.includes('*') || endpoint.enabled_events.includes(event.type))
  );
}

/** Records an event whose data.object is `object` (already rendered: the caller may adjust the view). */
export function emitJson(state: EmulatorState, type: string, object: Json, previous?: Json): StripeEvent {
  // An event on a connected account carries its id (Events.d.ts `account`); the platform's have no such field.
  const account = typeof state.account === 'string' ? state.account : undefined;
  const endpoints = state
    .all<WebhookEndpoint>('webhook_endpoint')
    .filter((e) => endpointWants(state, e, { type, ...(account === undefined ? {} : { account }) }));
  const event: StripeEvent = {
    id: state.newId('evt'),
    object: 'event',
    api_version: API_VERSION,
    created: state.nowSeconds(),
    data: previous === undefined ? { object } : { object, previous_attributes: previous },
    livemode: false,
    pending_webhooks: endpoints.length,
    request: { ...state.request },
    type,
    ...(account === undefined ? {} : { account }),
  };
  state.put(event);
  state.scheduleSave();
  state.onEvent?.(event);
  return event;
}

export function emit(state: EmulatorState, type: string, obj: AnyStripeObject): StripeEvent {
  return emitJson(state, type, render(state, obj));
}

/** A rendered copy of an object, to compare with after a change (see emitUpdated). */
export function snapshot(state: EmulatorState, obj: AnyStripeObject): Json {
  return render(state, obj);
}

const isPlain = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Stripe's previous_attributes: the old values of what changed; nested hashes carry only their changed keys. */
export function previousAttributes(before: Json, after: Json): Json | undefined {
  const out: Json = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[key];
    const b = after[key];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (isPlain(a) && isPlain(b)) {
      const nested = previousAttributes(a, b);
      if (nested) out[key] = nested;
    } else out[key] = a === undefined ? null : a;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Emits `type` (an `*.updated` event) with previous_attributes, if anything changed since `before`. */
export function emitUpdated(
  state: EmulatorState,
  type: string,
  obj: AnyStripeObject,
  before: Json,
): StripeEvent | undefined {
  const after = render(state, obj);
  const previous = previousAttributes(before, after);
  return previous === undefined ? undefined : emitJson(state, type, after, previous);
}

/** `type` accepts `*` as a wildcard (e.g. `charge.*`), as Stripe's list filter does. */
function typeMatcher(pattern: string): (type: string) => boolean {
  if (!pattern.includes('*')) return (t) => t === pattern;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return (t) => re.test(t);
}

export function listEvents(state: EmulatorState, params: FormObject): Json {
  checkKnown(params, [
    'type',
    'types',
    'created',
    'delivery_success',
    'limit',
    'starting_after',
    'ending_before',
    'expand',
  ]);
  const type = optString(params, 'type');
  const types = stringList(params, 'types');
  if (type !== undefined && types.length > 0)
    throw invalidRequest('Pass either type or types, not both.', 'parameter_invalid_string', 'types');
  if (types.length > 20)
    throw invalidRequest('types takes at most 20 event types.', 'parameter_invalid_string', 'types');
  const matchType = type === undefined ? undefined : typeMatcher(type);
  const created = rangeFilter(params, 'created');
  const delivered = optBool(params, 'delivery_success');
  const events = state
    .all<StripeEvent>('event')
    .filter(
      (e) =>
        (matchType === undefined || matchType(e.type)) &&
        (types.length === 0 || types.includes(e.type)) &&
        created(e.created) &&
        (delivered === undefined || (e.pending_webhooks === 0) === delivered),
    );
  return renderList(state, events, '/v1/events', params);
}

export function retrieveEvent(state: EmulatorState, params: FormObject, id: string): Json {
  checkKnown(params, ['expand']);
  const event = state.find<StripeEvent>(id, 'event');
  if (!event) throw resourceMissing('event', id);
  return render(state, event, expansions(params));
}
