// SetupIntent events (saved cards, R5): `setup_intent.succeeded` once the holder authenticated a card Settle was
// saving (and `.setup_failed`, `.canceled`, `.requires_action`). The SetupIntent is read again (an event's copy may be
// stale) and the payment methods it saves follow it: `valid` with the saved card's details when it succeeded,
// `invalid` when it failed (app/saved-cards.ts). A method is found by the SetupIntent's id, or by Settle's id in its
// metadata (a save whose first answer was lost has no SetupIntent id recorded yet).
import { findPaymentMethodsBySetup } from '../../store/payment-methods-repo.js';
import { collectGatewayLogs, insertGatewayLogs } from '../gateway-log.js';
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
