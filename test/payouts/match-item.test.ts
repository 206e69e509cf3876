// Payout reconciliation's linking rules (M2), pure: each kind of balance transaction, what it is matched by, which
// transaction gets `payout_id`, and the reasons given when nothing matches.
import { describe, expect, it } from 'vitest';
import { addKeys, emptyKeys, itemKind, linkItem, type ListedItem } from '../../src/app/payouts/match-item.js';
import type { GatewayBalance } from '../../src/app/gateway-port.js';
import type { MatchCandidates } from '../../src/store/payout-items-repo.js';

function bt(type: string, category: string, source: string | null, fee = 0): GatewayBalance {
  return {
    id: `txn_${type}_${category}`,
    type,
    reporting_category: category,
    source,
    currency: 'USD',
    amount: 1000,
    gateway_fee: fee,
    net_amount: 1000 - fee,
    exchange_rate: null,
    balance_status: 'available',
    available_on: new Date(0),
    created: new Date(0),
  };
}

const item = (balance: GatewayBalance, extra: Partial<ListedItem> = {}): ListedItem => ({
  balance,
  kind: itemKind(balance),
  ...extra,
});

function candidates(partial: Partial<MatchCandidates> = {}): MatchCandidates {
  return {
    byCharge: new Map(),
    byRefund: new Map(),
    byBalanceTransaction: new Map(),
    byPayout: new Map(),
    byDispute: new Map(),
    ...partial,
  };
}

describe('payout items: kinds', () => {
  it.each([
    ['charge', 'charge', 'charge'],
    ['payment', 'charge', 'charge'],
    ['refund', 'refund', 'refund'],
    ['payment_refund', 'refund', 'refund'],
    ['refund', 'partial_capture_reversal', 'partial_capture_reversal'],
    ['adjustment', 'dispute', 'dispute'],
    ['adjustment', 'dispute_reversal', 'dispute'],
    ['transfer', 'transfer', 'transfer'],
    ['payout_failure', 'payout_reversal', 'payout_failure'],
    ['stripe_fee', 'fee', null],
    ['topup', 'topup', null],
    ['reserve_transaction', 'other_adjustment', null],
    ['adjustment', 'other_adjustment', null],
  ])('%s / %s is %s', (type, category, kind) => {
    expect(itemKind({ type, reporting_category: category })).toBe(kind);
  });
});

describe('payout items: links', () => {
  it('a charge links by its charge id, else by its balance transaction, and owns its payout_id', () => {
    const byCharge = linkItem(
      item(bt('charge', 'charge', 'ch_1')),
      candidates({ byCharge: new Map([['ch_1', 'trx_c']]) }),
    );
    expect(byCharge).toEqual({
      transaction_id: 'trx_c',
      fee_transaction_id: null,
      unmatched_reason: null,
      owner: 'trx_c',
    });
    const b = bt('charge', 'charge', 'ch_2');
    const byBt = linkItem(
      item(b),
      candidates({ byBalanceTransaction: new Map([[b.id, { id: 'trx_d', record_type: 'charge' }]]) }),
    );
    expect(byBt.transaction_id).toBe('trx_d');
  });

  it('a released remainder links to its charge without owning its payout_id', () => {
    const link = linkItem(
      item(bt('refund', 'partial_capture_reversal', 're_1'), { releaseCharge: 'ch_1' }),
      candidates({ byCharge: new Map([['ch_1', 'trx_c']]) }),
    );
    expect(link).toMatchObject({ transaction_id: 'trx_c', owner: null });
  });

  it('a dispute links its amount to the charge and its fee to the adjustment, which owns the payout_id', () => {
    const b = bt('adjustment', 'dispute', 'du_1', 1500);
    const c = candidates({
      byDispute: new Map([['du_1', 'trx_c']]),
      byBalanceTransaction: new Map([[b.id, { id: 'trx_fee', record_type: 'adjustment' }]]),
    });
    expect(linkItem(item(b), c)).toEqual({
      transaction_id: 'trx_c',
      fee_transaction_id: 'trx_fee',
      unmatched_reason: null,
      owner: 'trx_fee',
    });
    // A fee no adjustment records is not matched.
    expect(linkItem(item(b), candidates({ byDispute: new Map([['du_1', 'trx_c']]) }))).toMatchObject({
      transaction_id: null,
      unmatched_reason: expect.stringContaining('fee of 1500'),
    });
  });

  it('a payout_failure links to the failed payout, which owns the payout_id', () => {
    const link = linkItem(
      item(bt('payout_failure', 'payout_reversal', 'po_1')),
      candidates({ byPayout: new Map([['po_1', 'trx_po']]) }),
    );
    expect(link).toMatchObject({ transaction_id: 'trx_po', owner: 'trx_po' });
  });

  it('kinds Settle does not record are listed with a reason; recorded ones that match nothing say what is missing', () => {
    expect(linkItem(item(bt('stripe_fee', 'fee', null)), candidates()).unmatched_reason).toMatch(
      /does not record Stripe's stripe_fee/,
    );
    expect(linkItem(item(bt('charge', 'charge', 'ch_9')), candidates()).unmatched_reason).toMatch(/charge ch_9/);
    expect(linkItem(item(bt('refund', 'refund', 're_9')), candidates()).unmatched_reason).toMatch(/refund re_9/);
  });

  it('gathers the lookup keys of a batch by kind', () => {
    const keys = emptyKeys();
    addKeys(keys, item(bt('charge', 'charge', 'ch_1')));
    addKeys(keys, item(bt('refund', 'refund', 're_1')));
    addKeys(keys, item(bt('refund', 'partial_capture_reversal', 're_2'), { releaseCharge: 'ch_2' }));
    addKeys(keys, item(bt('adjustment', 'dispute', 'du_1')));
    addKeys(keys, item(bt('payout_failure', 'payout_reversal', 'po_1')));
    expect(keys).toMatchObject({
      charges: ['ch_1', 'ch_2'],
      refunds: ['re_1'],
      disputes: ['du_1'],
      payouts: ['po_1'],
    });
    expect(keys.balanceTransactions).toHaveLength(5);
  });
});
