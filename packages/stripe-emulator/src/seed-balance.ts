// A benchmark control: many available `charge` balance transactions at once (POST /_emulator/balance/seed
// {count, amount?, fee?, prefix}), so that the next automatic payout (POST /_emulator/payouts/run) pays out
// `count` of them. Their sources are `ch_<prefix>_<i>`, ids the caller can name without reading them back; no Charge
// objects are made (a balance transaction's `source` is only expanded on request). Settle's payout-reconciliation
// benchmark uses it to build a payout of 100,000 balance transactions in seconds.
import { build } from './balance.js';
import type { EmulatorState } from './state.js';

export function seedBalanceTransactions(
  state: EmulatorState,
  params: Record<string, unknown>,
): { count: number; net: number } {
  const count = Number(params.count);
  const amount = Number(params.amount ?? 1000);
  const fee = Number(params.fee ?? 59);
  const prefix = typeof params.prefix === 'string' ? params.prefix : 'seed';
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new Error('count must be 1 to 1,000,000');
  if (!Number.isInteger(amount) || !Number.isInteger(fee) || fee >= amount) throw new Error('amount > fee, integers');
  for (let i = 0; i < count; i += 1) {
    build(state, {
      amount,
      currency: 'usd',
      fee,
      source: `ch_${prefix}_${i}`,
      type: 'charge',
      reporting_category: 'charge',
      description: null,
      availableAfterS: 0,
      convert: false,
    });
  }
  state.scheduleSave();
  return { count, net: count * (amount - fee) };
}
