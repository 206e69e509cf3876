// Payment-method events (W3): the card updater (or an edit at the gateway) changed a saved method; the method is
// read again and Settle's copy of its brand, last four digits and expiry follow.
import { lockPaymentMethodsByToken, updateCardDetails } from '../../store/payment-methods-repo.js';
import { collectGatewayLogs, insertGatewayLogs } from '../gateway-log.js';
import { resultOf, type SyncContext } from './sync-context.js';

export async function syncPaymentMethod(ctx: SyncContext, paymentMethodId: string): Promise<string> {
  const { value: pm, records } = await collectGatewayLogs(async () =>
    resultOf(await ctx.gateway.retrievePaymentMethod(paymentMethodId), `payment method ${paymentMethodId}`),
  );
  return ctx.deps.db.transaction().execute(async (trx) => {
    await insertGatewayLogs(trx, records);
    const rows = await lockPaymentMethodsByToken(trx, pm.id);
    if (rows.length === 0) return `payment method ${pm.id} is not in the ledger (nothing to update)`;
    const notes: string[] = [];
    for (const row of rows) {
      const next = {
        brand: pm.brand ?? row.brand,
        last4: pm.last4 ?? row.last4,
        exp_month: pm.exp_month ?? row.exp_month,
        exp_year: pm.exp_year ?? row.exp_year,
      };
      if (
        next.brand === row.brand &&
        next.last4 === row.last4 &&
        next.exp_month === row.exp_month &&
        next.exp_year === row.exp_year
      ) {
        notes.push(`${row.id}: already up to date`);
        continue;
      }
      await updateCardDetails(trx, row, next, ctx.now);
      notes.push(
        `${row.id}: updated from the gateway (${next.brand ?? '?'} ${next.last4 ?? '?'} ${next.exp_month ?? '?'}/${next.exp_year ?? '?'})`,
      );
    }
    return notes.join('; ');
  });
}
