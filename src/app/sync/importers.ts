// One page of each object type of the backfill (W6): the gateway is read first, outside any database transaction,
// and the page is then applied inside the transaction that also records the run's cursor (backfill.ts). Applying
// goes through the webhook path's apply functions (app/webhooks/), so an imported payment, refund, dispute or payout
// ends exactly as the same object arriving by webhook would: known rows move forward only along the transition
// table, a row Settle already has keeps its id, source, links and business fields, and unknown ones are created
// with source `sync`. What a page did is counted from the versions of the rows it touched, read before and after.
import { findOwnerOfCustomer, insertGatewayCustomer } from '../../store/gateway-customers-repo.js';
import { findCustomerRow, insertAccount } from '../../store/customers-repo.js';
import { insertPaymentMethod, lockPaymentMethodsByToken, updateCardDetails } from '../../store/payment-methods-repo.js';
import type { Db } from '../../store/schema.js';
import {
  chargeVersions,
  disputeVersions,
  lockTransactionsByBalanceTransaction,
  paymentMethodVersions,
  versionsByGatewayRef,
} from '../../store/sync-runs-repo.js';
import { compareAndSetTransaction, lockByGatewayRefs } from '../../store/transactions-repo.js';
import type {
  CreatedRange,
  GatewayCustomerDetails,
  GatewayPayment,
  GatewayPaymentMethodDetails,
  GatewayRefund,
} from '../gateway-port.js';
import { ID_PREFIXES, newId } from '../ids.js';
import { ApplyFailed, Deferred, lockChargeOfPayment, resultOf, type SyncContext } from '../webhooks/sync-context.js';
import { applyDispute } from '../webhooks/sync-dispute.js';
import { applyPayment } from '../webhooks/sync-payment.js';
import { applyPayout } from '../webhooks/sync-payout.js';
import type { SyncObject } from './sync-input.js';

export interface PageCounts {
  created: number;
  updated: number;
  unchanged: number;
  /** Read but not imported (a type Settle does not keep, a payment naming a transaction this ledger lacks, ...). */
  skipped: number;
  /** Why the last skipped object was skipped. */
  lastSkip: string | null;
}

export interface FetchedPage {
  /** The cursor once this page is applied (the gateway id of its last object); null when the page was empty. */
  lastId: string | null;
  hasMore: boolean;
  read: number;
  /** Applies the page inside the page's database transaction. */
  apply(trx: Db): Promise<PageCounts>;
}

export interface ImportContext {
  sync: SyncContext;
  range: CreatedRange;
  pageSize: number;
}

type Importer = (ctx: ImportContext, after: string | null) => Promise<FetchedPage>;

/** Tallies a page from the versions of its rows before and after. */
class Tally implements PageCounts {
  created = 0;
  updated = 0;
  unchanged = 0;
  skipped = 0;
  lastSkip: string | null = null;

  count(id: string, before: Map<string, number>, after: Map<string, number>): void {
    const was = before.get(id);
    const now = after.get(id);
    if (now === undefined) this.skip(`${id}: nothing recorded`);
    else if (was === undefined) this.created += 1;
    else if (was !== now) this.updated += 1;
    else this.unchanged += 1;
  }

  skip(reason: string): void {
    this.skipped += 1;
    this.lastSkip = reason;
  }
}

/**
 * Runs one object's apply; an object that cannot be applied (ApplyFailed: it names a transaction this ledger lacks;
 * Deferred: Settle's own call for it is still under way, which recovery or its webhook resolves) is skipped with the
 * reason instead of failing the page. Both are raised before any write of that object, so the page goes on.
 */
async function orSkip(tally: Tally, id: string, apply: () => Promise<unknown>): Promise<boolean> {
  try {
    await apply();
    return true;
  } catch (error) {
    if (error instanceof ApplyFailed || error instanceof Deferred) {
      tally.skip(`${id}: ${error.message}`);
      return false;
    }
    throw error;
  }
}

/** A listed page's cursor and counts, with what applies it. */
const fetched = (
  listed: { last_id: string | null; has_more: boolean; data: readonly unknown[] },
  apply: FetchedPage['apply'],
): FetchedPage => ({ lastId: listed.last_id, hasMore: listed.has_more, read: listed.data.length, apply });

const page = (ctx: ImportContext, after: string | null) => ({
  ...(ctx.range.gte === undefined && ctx.range.lt === undefined ? {} : { created: ctx.range }),
  ...(after === null ? {} : { startingAfter: after }),
  limit: ctx.pageSize,
});

const payments: Importer = async (ctx, after) => {
  const listed = resultOf(await ctx.sync.gateway.listPayments(page(ctx, after)), 'the payments');
  return fetched(listed, async (trx) => {
    const tally = new Tally();
    const ids = listed.data.map((p) => p.refs.payment_intent ?? '');
    await lockByGatewayRefs(trx, 'gateway_payment_intent', ids);
    const before = await chargeVersions(trx, ids);
    const applied = new Set<string>();
    // Oldest first, as they happened (the list is newest first).
    for (const p of [...listed.data].reverse()) {
      const id = p.refs.payment_intent ?? '';
      if (await orSkip(tally, id, () => applyPayment(trx, ctx.sync, p, null))) applied.add(id);
    }
    const now = await chargeVersions(trx, ids);
    for (const id of applied) tally.count(id, before, now);
    return tally;
  });
};

/**
 * Refunds created in the range, each with its payment as the gateway holds it now (expanded in the same list), applied
 * together as the webhook path does: a payment made before the range is recorded too, so its refund has a charge.
 */
const refunds: Importer = async (ctx, after) => {
  const listed = resultOf(await ctx.sync.gateway.listRefundsCreated(page(ctx, after)), 'the refunds');
  return fetched(listed, async (trx) => {
    const tally = new Tally();
    const groups = new Map<string, { payment: GatewayPayment; refunds: GatewayRefund[] }>();
    for (const { refund, payment } of [...listed.data].reverse()) {
      const pi = payment?.refs.payment_intent;
      if (!payment || !pi) {
        tally.skip(`${refund.refs.refund ?? '?'}: a refund without a PaymentIntent (a Charges API payment)`);
        continue;
      }
      const group = groups.get(pi) ?? { payment, refunds: [] };
      group.refunds.push(refund);
      groups.set(pi, group);
    }
    await lockByGatewayRefs(trx, 'gateway_payment_intent', [...groups.keys()]);
    const ids = [...groups.values()].flatMap((g) => g.refunds.map((r) => r.refs.refund ?? ''));
    const before = await versionsByGatewayRef(trx, 'gateway_refund', ids);
    const applied: string[] = [];
    for (const [pi, group] of groups) {
      const refundIds = group.refunds.map((r) => r.refs.refund ?? '');
      if (await orSkip(tally, pi, () => applyPayment(trx, ctx.sync, group.payment, group.refunds)))
        applied.push(...refundIds);
    }
    const now = await versionsByGatewayRef(trx, 'gateway_refund', ids);
    for (const id of applied) {
      // A release of an uncaptured amount is booked as a refund by Stripe but is no refund (sync-refunds.ts).
      if (!before.has(id) && !now.has(id)) tally.unchanged += 1;
      else tally.count(id, before, now);
    }
    return tally;
  });
};

/** Disputes in the range; a disputed payment the ledger lacks is read first (outside the transaction) and recorded. */
const disputes: Importer = async (ctx, after) => {
  const gateway = ctx.sync.gateway;
  const listed = resultOf(await gateway.listDisputes(page(ctx, after)), 'the disputes');
  const pis = listed.data.flatMap((d) => (d.payment_intent === null ? [] : [d.payment_intent]));
  const known = await chargeVersions(ctx.sync.deps.db, pis);
  const missing = new Map<string, { payment: GatewayPayment; refunds: GatewayRefund[] | null }>();
  for (const pi of pis) {
    if (known.has(pi) || missing.has(pi)) continue;
    const payment = resultOf(await gateway.retrieve(pi), `payment ${pi}`);
    const paymentRefunds =
      payment.refunded_amount > 0 ? resultOf(await gateway.listRefunds(pi), `the refunds of ${pi}`) : null;
    missing.set(pi, { payment, refunds: paymentRefunds });
  }
  return fetched(listed, async (trx) => {
    const tally = new Tally();
    await lockByGatewayRefs(trx, 'gateway_payment_intent', pis);
    const ids = listed.data.map((d) => d.id);
    const before = await disputeVersions(trx, ctx.sync.gatewayRow.id, ids);
    const applied: string[] = [];
    for (const d of [...listed.data].reverse()) {
      const ok = await orSkip(tally, d.id, async () => {
        const first = d.payment_intent === null ? undefined : missing.get(d.payment_intent);
        if (first) await applyPayment(trx, ctx.sync, first.payment, first.refunds);
        const charge = await lockChargeOfPayment(trx, null, d.payment_intent);
        if (!charge)
          throw new ApplyFailed(
            `the disputed payment ${d.payment_intent ?? d.charge ?? '?'} is not in the ledger`,
            false,
          );
        await applyDispute(trx, ctx.sync, charge, d);
      });
      if (ok) applied.push(d.id);
    }
    const now = await disputeVersions(trx, ctx.sync.gatewayRow.id, ids);
    for (const id of applied) tally.count(id, before, now);
    return tally;
  });
};

const payouts: Importer = async (ctx, after) => {
  const listed = resultOf(await ctx.sync.gateway.listPayouts(page(ctx, after)), 'the payouts');
  return fetched(listed, async (trx) => {
    const tally = new Tally();
    const ids = listed.data.map((p) => p.id);
    await lockByGatewayRefs(trx, 'gateway_payout', ids);
    const before = await versionsByGatewayRef(trx, 'gateway_payout', ids);
    for (const p of [...listed.data].reverse()) await applyPayout(trx, ctx.sync, p);
    const now = await versionsByGatewayRef(trx, 'gateway_payout', ids);
    for (const id of ids) tally.count(id, before, now);
    return tally;
  });
};

/**
 * Balance transactions in the range: the ledger rows they belong to (charges, refunds, payouts, fee adjustments: by
 * `gateway_balance_transaction`) become `available` once the gateway says so. Only that moves, and only forward;
 * fees and net came with the object itself. A balance transaction no row records (Stripe's own fees, transfers) is
 * left alone (counted unchanged).
 */
const balanceTransactions: Importer = async (ctx, after) => {
  const listed = resultOf(await ctx.sync.gateway.listBalanceTransactions(page(ctx, after)), 'the balance transactions');
  return {
    lastId: listed.data.at(-1)?.id ?? null,
    hasMore: listed.has_more,
    read: listed.data.length,
    async apply(trx) {
      const tally = new Tally();
      const rows = await lockTransactionsByBalanceTransaction(
        trx,
        listed.data.map((b) => b.id),
      );
      for (const bt of listed.data) {
        let moved = false;
        for (const row of rows.filter((r) => r.gateway_balance_transaction === bt.id)) {
          if (row.balance_status !== 'pending' || bt.balance_status !== 'available') continue;
          const saved = await compareAndSetTransaction(
            trx,
            row,
            { balance_status: 'available', available_on: bt.available_on.toISOString().slice(0, 10) },
            ctx.sync.actor,
            `balance transaction ${bt.id} available at the gateway`,
          );
          if (!saved) throw new Error(`transaction ${row.id} changed under its row lock`);
          moved = true;
        }
        if (moved) tally.updated += 1;
        else tally.unchanged += 1;
      }
      return tally;
    },
  };
};

/**
 * The Settle owner of a gateway Customer: the recorded mapping; else the account or contact Settle created it for
 * (its `settle_reference` metadata), whose mapping is recorded now ('linked'); else none.
 */
async function ownerOf(trx: Db, ctx: SyncContext, c: GatewayCustomerDetails): Promise<'known' | 'linked' | null> {
  if (await findOwnerOfCustomer(trx, ctx.gatewayRow.id, c.id)) return 'known';
  const ref = c.reference;
  const kind: 'account' | 'contact' | null = ref?.startsWith(`${ID_PREFIXES.account}_`)
    ? 'account'
    : ref?.startsWith(`${ID_PREFIXES.contact}_`)
      ? 'contact'
      : null;
  if (ref === null || kind === null) return null;
  if (!(await findCustomerRow(trx, kind === 'account' ? 'accounts' : 'contacts', ref))) return null;
  const row = {
    gateway_id: ctx.gatewayRow.id,
    owner_type: kind,
    owner_id: ref,
    customer_id: c.id,
    created_at: ctx.now,
  };
  return (await insertGatewayCustomer(trx, row)) ? 'linked' : null;
}

/**
 * Customers in the range. One no account or contact holds becomes an account (its name, else its email, else its id;
 * its email), mirrored in gateway_customers so its payment methods and payments find it.
 */
const customers: Importer = async (ctx, after) => {
  const listed = resultOf(await ctx.sync.gateway.listCustomers(page(ctx, after)), 'the customers');
  return fetched(listed, async (trx) => {
    const tally = new Tally();
    const now = ctx.sync.now;
    for (const c of [...listed.data].reverse()) {
      const owner = await ownerOf(trx, ctx.sync, c);
      if (owner !== null) {
        if (owner === 'known') tally.unchanged += 1;
        else tally.updated += 1;
        continue;
      }
      const account = await insertAccount(trx, {
        id: newId('account', now.getTime()),
        name: c.name ?? c.email ?? c.id,
        email: c.email,
        metadata: JSON.stringify({ gateway_customer: c.id }),
        default_payment_method_id: null,
        created_at: now,
        updated_at: now,
      });
      await insertGatewayCustomer(trx, {
        gateway_id: ctx.sync.gatewayRow.id,
        owner_type: 'account',
        owner_id: account.id,
        customer_id: c.id,
        created_at: now,
      });
      tally.created += 1;
    }
    return tally;
  });
};

const KEPT_TYPES: ReadonlySet<string> = new Set(['card', 'us_bank_account']);

/**
 * Payment methods of the Customers in the range (Stripe lists a customer's methods, not methods by date): a page of
 * Customers, then each one's methods. A method Settle has keeps its row (its card details follow the gateway); a new
 * one belongs to the Customer's account or contact.
 */
const paymentMethods: Importer = async (ctx, after) => {
  const gateway = ctx.sync.gateway;
  const listed = resultOf(await gateway.listCustomers(page(ctx, after)), 'the customers');
  const methods: { customer: string; pm: GatewayPaymentMethodDetails }[] = [];
  for (const c of listed.data) {
    let cursor: string | undefined;
    for (;;) {
      const pms = resultOf(
        await gateway.listCustomerPaymentMethods(c.id, {
          limit: 100,
          ...(cursor === undefined ? {} : { startingAfter: cursor }),
        }),
        `the payment methods of ${c.id}`,
      );
      methods.push(...pms.data.map((pm) => ({ customer: c.id, pm })));
      if (!pms.has_more || pms.last_id === null) break;
      cursor = pms.last_id;
    }
  }
  return {
    lastId: listed.last_id,
    hasMore: listed.has_more,
    read: methods.length,
    async apply(trx) {
      const tally = new Tally();
      const now = ctx.sync.now;
      const tokens = methods.map((m) => m.pm.id);
      const before = await paymentMethodVersions(trx, tokens);
      const applied: string[] = [];
      for (const { customer, pm } of methods) {
        if (!KEPT_TYPES.has(pm.type)) {
          tally.skip(`${pm.id}: a ${pm.type} payment method (Settle keeps cards and US bank accounts)`);
          continue;
        }
        applied.push(pm.id);
        const details = { brand: pm.brand, last4: pm.last4, exp_month: pm.exp_month, exp_year: pm.exp_year };
        const existing = await lockPaymentMethodsByToken(trx, pm.id);
        if (existing.length > 0) {
          for (const row of existing) {
            const same = (Object.keys(details) as (keyof typeof details)[]).every((k) => row[k] === details[k]);
            if (!same && row.type === 'card') await updateCardDetails(trx, row, details, now);
          }
          continue;
        }
        const owner = await findOwnerOfCustomer(trx, ctx.sync.gatewayRow.id, customer);
        await insertPaymentMethod(trx, {
          id: newId('payment_method', now.getTime()),
          gateway_token: pm.id,
          type: pm.type as 'card' | 'us_bank_account',
          status: pm.type === 'card' ? 'valid' : 'verified',
          ...details,
          account_id: owner?.owner_type === 'account' ? owner.owner_id : null,
          contact_id: owner?.owner_type === 'contact' ? owner.owner_id : null,
          gateway_id: ctx.sync.gatewayRow.id,
          gateway_customer: customer,
          metadata: '{}',
          created_at: now,
          updated_at: now,
        });
      }
      const after = await paymentMethodVersions(trx, tokens);
      for (const id of applied) tally.count(id, before, after);
      return tally;
    },
  };
};

export const IMPORTERS: Record<SyncObject, Importer> = {
  customers,
  payment_methods: paymentMethods,
  payments,
  refunds,
  disputes,
  payouts,
  balance_transactions: balanceTransactions,
};
