// Which handler an event goes to, and the gateway object it is about (W2, W3). Events about one object are applied
// together: the handler reads that object once and applies what the gateway holds now.
export type EventTarget =
  | { kind: 'payment'; id: string }
  | { kind: 'dispute'; id: string }
  | { kind: 'payout'; id: string }
  | { kind: 'payment_method'; id: string }
  | { kind: 'setup_intent'; id: string }
  | { kind: 'not_supported'; reason: string };

const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** The target of an event, from its type and its object (`data.object`). */
export function routeEvent(type: string, object: Record<string, unknown>): EventTarget {
  const id = str(object.id);
  const paymentIntent = object.object === 'payment_intent' ? id : str(object.payment_intent);
  if (type.startsWith('charge.dispute.'))
    return id ? { kind: 'dispute', id } : { kind: 'not_supported', reason: 'a dispute event without a dispute id' };
  if (type.startsWith('payment_intent.') || type.startsWith('charge.') || type.startsWith('refund.')) {
    return paymentIntent
      ? { kind: 'payment', id: paymentIntent }
      : {
          kind: 'not_supported',
          reason: `a ${String(object.object)} without a PaymentIntent (Settle works with PaymentIntents)`,
        };
  }
  if (type.startsWith('payout.'))
    return id ? { kind: 'payout', id } : { kind: 'not_supported', reason: 'a payout event without a payout id' };
  if (type === 'payment_method.updated' || type === 'payment_method.automatically_updated') {
    return id
      ? { kind: 'payment_method', id }
      : { kind: 'not_supported', reason: 'a payment method event without an id' };
  }
  // Saved cards: a card whose holder had to authenticate becomes valid (or invalid) with its SetupIntent.
  if (type.startsWith('setup_intent.')) {
    return id ? { kind: 'setup_intent', id } : { kind: 'not_supported', reason: 'a setup intent event without an id' };
  }
  return { kind: 'not_supported', reason: `Settle does not act on ${type} events` };
}

export const targetKey = (t: EventTarget): string =>
  t.kind === 'not_supported' ? `not_supported` : `${t.kind}:${t.id}`;
