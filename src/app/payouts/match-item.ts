// Payout reconciliation (M2): what kind of balance transaction an item is, which gateway ids can find the Settle
// transaction it came from, and the link it gets. Pure: the lookups are done by the caller, a batch at a time.
//
// Kinds (Stripe's balance transaction `type` and `reporting_category`: BalanceTransactions.d.ts, and
// docs.stripe.com/reports/reporting-categories):
// - charge (`charge`, `payment`; category charge): the charge transaction (by `gateway_charge`, else by its
//   balance transaction); that transaction gets `payout_id`.
// - refund (`refund`, `payment_refund`; category refund): the refund transaction (by `gateway_refund`, else by its
//   balance transaction); it gets `payout_id`.
// - partial capture reversal (`refund`, category partial_capture_reversal): the release of an uncaptured remainder,
//   which Settle keeps on the charge, not as a refund; linked to the charge (read from the refund's `charge`). The
//   charge's `payout_id` is its own charge item's.
// - dispute (`adjustment`, category dispute or dispute_reversal; source du_...): the disputed charge for its amount
//   (`transaction_id`, through the dispute record) and the dispute-fee adjustment for its fee (`fee_transaction_id`,
//   the adjustment that keeps this balance transaction); the adjustment gets `payout_id`.
// - transfer (`transfer`, `transfer_cancel`, `transfer_failure`, `transfer_refund`; categories transfer,
//   transfer_reversal): the transaction that keeps this balance transaction; it gets `payout_id`.
// - payout_failure (`payout_failure`, category payout_reversal; source po_...): the funds of a failed payout returned
//   to the balance; linked to the failed payout's transaction, which gets `payout_id` (the payout that paid them).
// Every other kind (Stripe's own fees `stripe_fee`, `topup`, `reserve_transaction`, `adjustment` of other
// categories, ...) is not recorded by Settle: listed with an `unmatched_reason`, never a mismatch.
import type { GatewayBalance } from '../gateway-port.js';
import type { MatchCandidates, MatchKeys } from '../../store/payout-items-repo.js';

export type ItemKind = 'charge' | 'refund' | 'partial_capture_reversal' | 'dispute' | 'transfer' | 'payout_failure';

const CHARGE_TYPES = new Set(['charge', 'payment']);
const REFUND_TYPES = new Set(['refund', 'payment_refund']);
const TRANSFER_TYPES = new Set(['transfer', 'transfer_cancel', 'transfer_failure', 'transfer_refund']);
const DISPUTE_CATEGORIES = new Set(['dispute', 'dispute_reversal']);

/** The kind of a balance transaction, or null for a kind Settle does not record. */
export function itemKind(b: Pick<GatewayBalance, 'type' | 'reporting_category'>): ItemKind | null {
  if (b.reporting_category === 'partial_capture_reversal') return 'partial_capture_reversal';
  if (CHARGE_TYPES.has(b.type)) return 'charge';
  if (REFUND_TYPES.has(b.type)) return 'refund';
  if (DISPUTE_CATEGORIES.has(b.reporting_category)) return 'dispute';
  if (TRANSFER_TYPES.has(b.type) || b.reporting_category === 'transfer' || b.reporting_category === 'transfer_reversal')
    return 'transfer';
  if (b.type === 'payout_failure') return 'payout_failure';
  return null;
}

/** A balance transaction read from the payout, with the charge of a released remainder when it was read. */
export interface ListedItem {
  balance: GatewayBalance;
  kind: ItemKind | null;
  /** partial_capture_reversal: the charge (ch_...) of the refund that released the remainder. */
  releaseCharge?: string | null;
}

export function addKeys(keys: MatchKeys, item: ListedItem): void {
  const { balance: b } = item;
  keys.balanceTransactions.push(b.id);
  if (b.source === null) return;
  switch (item.kind) {
    case 'charge':
      keys.charges.push(b.source);
      break;
    case 'refund':
      keys.refunds.push(b.source);
      break;
    case 'partial_capture_reversal':
      if (item.releaseCharge) keys.charges.push(item.releaseCharge);
      break;
    case 'dispute':
      keys.disputes.push(b.source);
      break;
    case 'payout_failure':
      keys.payouts.push(b.source);
      break;
    case 'transfer':
    case null:
      break;
  }
}

export function emptyKeys(): MatchKeys {
  return { charges: [], refunds: [], balanceTransactions: [], payouts: [], disputes: [] };
}

export interface ItemLink {
  transaction_id: string | null;
  fee_transaction_id: string | null;
  unmatched_reason: string | null;
  /** The transaction whose `payout_id` this item sets (null: none). */
  owner: string | null;
}

const unmatched = (reason: string): ItemLink => ({
  transaction_id: null,
  fee_transaction_id: null,
  unmatched_reason: reason,
  owner: null,
});

/** Links one item with the candidates found for its batch. */
export function linkItem(item: ListedItem, c: MatchCandidates): ItemLink {
  const { balance: b } = item;
  const byBt = c.byBalanceTransaction.get(b.id);
  const source = b.source ?? '(none)';
  const found = (id: string, owner: boolean): ItemLink => ({
    transaction_id: id,
    fee_transaction_id: null,
    unmatched_reason: null,
    owner: owner ? id : null,
  });
  switch (item.kind) {
    case null:
      return unmatched(
        `Settle does not record Stripe's ${b.type} balance transactions (reporting category ${b.reporting_category}).`,
      );
    case 'charge': {
      const id = (b.source !== null ? c.byCharge.get(b.source) : undefined) ?? byBt?.id;
      return id !== undefined ? found(id, true) : unmatched(`No Settle transaction has the charge ${source}.`);
    }
    case 'refund': {
      const id = (b.source !== null ? c.byRefund.get(b.source) : undefined) ?? byBt?.id;
      return id !== undefined ? found(id, true) : unmatched(`No Settle transaction has the refund ${source}.`);
    }
    case 'partial_capture_reversal': {
      const charge = item.releaseCharge ? c.byCharge.get(item.releaseCharge) : undefined;
      return charge !== undefined
        ? found(charge, false)
        : unmatched(`No Settle charge has the charge ${item.releaseCharge ?? '?'} whose remainder ${source} released.`);
    }
    case 'dispute': {
      const charge = b.source !== null ? c.byDispute.get(b.source) : undefined;
      const fee = byBt !== undefined && byBt.record_type === 'adjustment' ? byBt.id : null;
      if (charge === undefined) return unmatched(`No Settle dispute record has the dispute ${source}.`);
      if (b.gateway_fee !== 0 && fee === null)
        return unmatched(`The dispute ${source} has a fee of ${b.gateway_fee} that no Settle adjustment records.`);
      return { transaction_id: charge, fee_transaction_id: fee, unmatched_reason: null, owner: fee };
    }
    case 'transfer':
      return byBt !== undefined
        ? found(byBt.id, true)
        : unmatched(`No Settle transaction has the transfer balance transaction ${b.id} (${source}).`);
    case 'payout_failure': {
      const id = b.source !== null ? c.byPayout.get(b.source) : undefined;
      return id !== undefined ? found(id, true) : unmatched(`No Settle payout transaction has the payout ${source}.`);
    }
  }
}
