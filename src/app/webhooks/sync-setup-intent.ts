// SetupIntent events (saved cards, R5): `setup_intent.succeeded` once the holder authenticated a card Settle was
// saving (and `.setup_failed`, `.canceled`, `.requires_action`). The SetupIntent is read again (an event's copy may be
// stale) and the payment methods it saves follow it: `valid` with the saved card's details when it succeeded,
// `invalid` when it failed (app/saved-cards.ts). A method is found by the SetupIntent's id, or by Settle's id in its
// metadata (a save whose first answer was lost has no SetupIntent id recorded yet).
//
// No read (W2) when the events cannot change anything: no payment method of this ledger is saved by that
// SetupIntent (found by its id or by the reference in the event's own metadata), or every one that is has already
// seen it succeed (succeeded is final for a SetupIntent, so any event about it shows that or an earlier state).
// Settle's own saves answer synchronously, so their events cost nothing.
import { findPaymentMethodsBySetup } from '../../store/payment-methods-repo.js';
import type { WebhookEventRow } from '../../store/schema.js';
import { collectGatewayLogs, insertGatewayLogs } from '../gateway-log.js';
import { SETUP_REFERENCE_METADATA_KEY } from '../gateway-port.js';
import { applySetupRead } from '../saved-cards.js';
import { resultOf, type SyncContext } from './sync-context.js';

export async function syncSetupIntent(ctx: SyncContext, setupIntentId: string): Promise<string> {
  const { value: outcome, records } = await collectGatewayLogs(async () => {
    const read = await ctx.gateway.retrieveSetupIntent(setupIntentId);
    resultOf(read, `setup intent ${setupIntentId}`); // unreachable or refused: ApplyFailed
    return read;
  });
  await ctx.deps.db.transaction().execute((trx) => insertGatewayLogs(trx, records));
  const setup = resultOf(outcome, `setup intent ${setupIntentId}`);
  const rows = await findPaymentMethodsBySetup(ctx.deps.db, setup.id, setup.reference);
  if (rows.length === 0) return `setup intent ${setup.id} saves no payment method of this ledger (nothing to update)`;
  await applySetupRead(ctx.deps, rows, outcome);
  return `setup intent ${setup.id} is ${setup.status}: applied to ${rows.map((r) => r.id).join(', ')}`;
}

/** The outcome when the group's events need no read (see the header), else null. */
export async function setupIntentWithoutRead(
  ctx: SyncContext,
  setupIntentId: string,
  events: readonly Pick<WebhookEventRow, 'payload'>[],
): Promise<string | null> {
  const references = new Set<string>();
  for (const event of events) {
    const data = event.payload.data;
    const object = typeof data === 'object' && data !== null ? (data as { object?: unknown }).object : undefined;
    const metadata = typeof object === 'object' && object !== null ? (object as { metadata?: unknown }).metadata : null;
    const reference =
      typeof metadata === 'object' && metadata !== null
        ? (metadata as Record<string, unknown>)[SETUP_REFERENCE_METADATA_KEY]
        : undefined;
    if (typeof reference === 'string' && reference !== '') references.add(reference);
  }
  if (references.size > 1) return null; // not one of Settle's saves as it makes them: read it
  const rows = await findPaymentMethodsBySetup(ctx.deps.db, setupIntentId, [...references][0] ?? null);
  if (rows.length === 0) return `setup intent ${setupIntentId} saves no payment method of this ledger (no read)`;
  if (rows.every((row) => row.setup_intent === setupIntentId && row.setup_status === 'succeeded')) {
    return `setup intent ${setupIntentId} already succeeded for ${rows.map((r) => r.id).join(', ')} (no read)`;
  }
  return null;
}
