// Test helpers: events stored in webhook_events as the intake stores them (pending, due now), either a whole event
// (as the emulator made it) or one built around an object.
import Stripe from 'stripe';
import { newId } from '../../src/app/ids.js';
import type { Harness } from '../support/harness.js';

export function emulatorOf(h: Harness) {
  if (!h.emulator) throw new Error('this suite needs the emulator');
  return h.emulator;
}

export const stripeFor = (h: Harness) =>
  new Stripe('sk_test_x', { host: '127.0.0.1', port: emulatorOf(h).port, protocol: 'http', maxNetworkRetries: 0 });

export interface EventLike {
  id: string;
  type: string;
  created: number;
  data: { object: { id: string; object: string } & Record<string, unknown> };
}

/** Stores `event` as received now; returns the row id. The same event stored twice is two rows only in tests. */
export async function storeStripeEvent(h: Harness, event: EventLike): Promise<string> {
  const gateway = await h.deps.db
    .selectFrom('gateways')
    .select('id')
    .where('is_default', '=', true)
    .executeTakeFirstOrThrow();
  const now = h.clock.now();
  const id = newId('webhook_event', now.getTime());
  await h.deps.db
    .insertInto('webhook_events')
    .values({
      id,
      gateway_id: gateway.id,
      event_id: event.id,
      type: event.type,
      object_type: event.data.object.object,
      object_id: event.data.object.id,
      api_version: '2026-10-28.endive',
      livemode: false,
      event_created_at: new Date(event.created * 1000),
      payload: JSON.stringify({ ...event, object: 'event', livemode: false }),
      status: 'pending',
      received_at: now,
      last_received_at: now,
      process_after: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc
        .columns(['gateway_id', 'event_id'])
        .doUpdateSet((eb) => ({ deliveries: eb('webhook_events.deliveries', '+', 1) })),
    )
    .execute();
  return (
    await h.deps.db.selectFrom('webhook_events').select('id').where('event_id', '=', event.id).executeTakeFirstOrThrow()
  ).id;
}

let sequence = 0;

/** An event of `type` about `object`, created at `createdSeconds` (default: now). */
export function storeEvent(
  h: Harness,
  type: string,
  object: { id: string; object: string },
  createdSeconds?: number,
): Promise<string> {
  sequence += 1;
  const id = `evt_test${String(sequence).padStart(6, '0')}${Math.random().toString(36).slice(2, 8)}`;
  const created = createdSeconds ?? Math.floor(h.clock.now().getTime() / 1000);
  return storeStripeEvent(h, { id, type, created, data: { object: object } });
}

/** Every event the emulator holds, oldest first. */
export async function allEmulatorEvents(h: Harness): Promise<EventLike[]> {
  const events: EventLike[] = [];
  await stripeFor(h)
    .events.list({ limit: 100 })
    .autoPagingEach((event) => {
      events.push(event as unknown as EventLike);
    });
  return events.reverse();
}
