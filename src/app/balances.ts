// Balances (M5): for each Stripe gateway and settlement currency, the gateway's `available` and `pending`, the
// ledger's own figure, their difference, and the balance transactions Settle has not linked that explain it.
// `GET /v1/balances` computes it now; the daily `balances` job stores it as a snapshot and flags a difference the
// unlinked items do not explain.
//
// What is read, per gateway: GET /v1/balance once (docs.stripe.com/api/balance/balance_retrieve), then the account's
// balance transactions, newest first, 100 a page (docs.stripe.com/api/balance_transactions/list), through the
// gateway's rate limiter like every other call. Each page is matched against the ledger with one query for the rows
// that carry those ids and one for the objects they came from. The same pages refresh `balance_status` and
// `available_on` of the rows they match (M5: a charge still `pending` after its funds became available): one
// compare-and-set per row that changed, with its history row; a row that moved meanwhile is left for the next run.
//
// Which items explain a difference (docs/ARCHITECTURE.md, "Fees, conversion and balances", lists the categories):
// Settle records charges, refunds, disputes, transfers and payouts, so an unlinked item in one of those reporting
// categories is something the ledger should have and does not: it is listed, and it does NOT explain the difference
// (the job flags it). Items of the other categories (Stripe's own fees, top-ups, reserves, other adjustments, Connect
// fees) are outside what Settle records: they are listed and explain their part.
//
// Settle never computes an amount here other than sums and differences of the gateway's own integer figures.
import { SettleError } from '../domain/errors.js';
import {
  insertBalanceSnapshots,
  knownSources,
  type LedgerFigure,
  ledgerFigures,
  type NewBalanceSnapshotRow,
  rowsWithBalanceTransactions,
  stripeGateways,
} from '../store/balances-repo.js';
import type { Db, GatewayRow, TransactionRow } from '../store/schema.js';
import { compareAndSetTransaction } from '../store/transactions-repo.js';
import type { Deps } from './deps.js';
import type { Gateway, GatewayAccountBalance, GatewayBalance, GatewayOutcome } from './gateway-port.js';
import { newId } from './ids.js';

/**
 * Reporting categories (docs.stripe.com/reports/reporting-categories) of what Settle records: an unlinked item in one
 * of these is missing from the ledger and does not explain a difference.
 */
export const RECORDED_CATEGORIES: ReadonlySet<string> = new Set([
  'charge',
  'refund',
  'partial_capture_reversal',
  'refund_failure',
  'dispute',
  'dispute_reversal',
  'transfer',
  'transfer_reversal',
  'payout',
  'payout_reversal',
  'payout_failure',
]);

export interface UnlinkedItem {
  /** The gateway's balance transaction id (txn_...). */
  balance_transaction: string;
  type: string;
  reporting_category: string;
  source: string | null;
  amount: number;
  fee: number;
  net: number;
  currency: string;
  status: 'available' | 'pending';
  created: string;
  /** True when the item is of a kind Settle does not record (it explains its part of the difference). */
  explains: boolean;
}

export interface BalanceEntry {
  gateway_id: string;
  currency: string;
  available: number;
  pending: number;
  ledger: { available: number; pending: number };
  /** (available + pending) - (ledger.available + ledger.pending). */
  difference: number;
  /** The net of the unlinked items that explain (kinds Settle does not record). */
  explained: number;
  /** difference - explained: what nothing listed explains. */
  unexplained: number;
  flagged: boolean;
  unlinked_items: UnlinkedItem[];
}

export interface GatewayBalances {
  entries: BalanceEntry[];
  /** Rows whose balance_status or available_on this read refreshed. */
  refreshed: number;
}

const PAGE = 100;

function gatewayResult<T>(outcome: GatewayOutcome<T>, what: string): T {
  if (outcome.kind === 'succeeded') return outcome.result;
  const message = 'error' in outcome ? outcome.error.message : outcome.kind;
  throw new SettleError(
    'unavailable',
    'gateway_unavailable',
    `Reading ${what} from the gateway failed (${message}); nothing was changed. Try again later.`,
  );
}

const day = (date: Date): string => date.toISOString().slice(0, 10);

/**
 * M5: moves `balance_status` and `available_on` of the rows that carry these balance transactions to what the gateway
 * says, forward only (a balance transaction never goes from available back to pending). Payout rows keep their own
 * `available_on` (the arrival date). One compare-and-set per changed row, with its history row; a row that moved
 * meanwhile is left as it is for the next read. Any path that has read balance transactions can call it (the
 * `balances` job does; payout reconciliation's reads can).
 */
export async function refreshBalanceStatuses(
  db: Db,
  gatewayId: string,
  balances: readonly GatewayBalance[],
  actor: string,
): Promise<number> {
  const rows = await rowsWithBalanceTransactions(
    db,
    gatewayId,
    balances.map((b) => b.id),
  );
  return refreshRows(db, rows, balances, actor);
}

async function refreshRows(
  db: Db,
  rows: readonly TransactionRow[],
  balances: readonly GatewayBalance[],
  actor: string,
): Promise<number> {
  const byBt = new Map(rows.map((r) => [r.gateway_balance_transaction, r]));
  let refreshed = 0;
  for (const bt of balances) {
    const row = byBt.get(bt.id);
    if (!row || row.record_type === 'payout') continue;
    const availableOn = day(bt.available_on);
    if (row.balance_status === bt.balance_status && row.available_on === availableOn) continue;
    if (row.balance_status === 'available' && bt.balance_status === 'pending') continue;
    const saved = await compareAndSetTransaction(
      db,
      row,
      { balance_status: bt.balance_status, available_on: availableOn },
      actor,
      `balance transaction ${bt.id} ${bt.balance_status} at the gateway`,
    );
    if (saved) refreshed += 1;
  }
  return refreshed;
}

/** One page: refreshes the rows it matches and returns the items no row and no known object accounts for. */
async function matchPage(
  deps: Deps,
  gateway: GatewayRow,
  page: readonly GatewayBalance[],
  /** Who refreshes statuses; null: read only. */
  actor: string | null,
): Promise<{ unlinked: GatewayBalance[]; throughSources: GatewayBalance[]; refreshed: number }> {
  const rows = await rowsWithBalanceTransactions(
    deps.db,
    gateway.id,
    page.map((b) => b.id),
  );
  const byBt = new Map(rows.map((r) => [r.gateway_balance_transaction, r]));
  const refreshed = actor === null ? 0 : await refreshRows(deps.db, rows, page, actor);
  const rest = page.filter((bt) => !byBt.has(bt.id));
  const known = await knownSources(
    deps.db,
    gateway.id,
    rest.map((bt) => bt.source).filter((s): s is string => s !== null),
  );
  const unlinked: GatewayBalance[] = [];
  const throughSources: GatewayBalance[] = [];
  for (const bt of rest) {
    // The release of an uncaptured remainder is already in its charge's net_amount (apply-outcome.ts balanceFields).
    if (bt.reporting_category === 'partial_capture_reversal') continue;
    if (bt.source !== null && known.has(bt.source)) throughSources.push(bt);
    else unlinked.push(bt);
  }
  return { unlinked, throughSources, refreshed };
}

function toItem(bt: GatewayBalance): UnlinkedItem {
  return {
    balance_transaction: bt.id,
    type: bt.type,
    reporting_category: bt.reporting_category,
    source: bt.source,
    amount: bt.amount,
    fee: bt.gateway_fee,
    net: bt.net_amount,
    currency: bt.currency,
    status: bt.balance_status,
    created: bt.created.toISOString(),
    explains: !RECORDED_CATEGORIES.has(bt.reporting_category),
  };
}

/** Dispute items without a row of their own (no fee): linked through their dispute, counted at the gateway's net. */
function throughDisputes(items: readonly GatewayBalance[]): GatewayBalance[] {
  return items.filter((bt) => bt.reporting_category === 'dispute' || bt.reporting_category === 'dispute_reversal');
}

/** The balances of one gateway, read now. Throws gateway_unavailable (503) when a read fails. */
export async function readGatewayBalances(
  deps: Deps,
  gatewayRow: GatewayRow,
  options: { refresh: false } | { refresh: true; actor: string },
  gateway: Gateway = deps.gateways.forRecord(gatewayRow),
): Promise<GatewayBalances> {
  if (!gateway.retrieveBalance)
    throw new SettleError('unavailable', 'gateway_unavailable', `Gateway ${gatewayRow.id} cannot report its balance.`);
  const account: GatewayAccountBalance[] = gatewayResult(await gateway.retrieveBalance(), 'the balance');
  const unlinked: GatewayBalance[] = [];
  const disputeExtras: GatewayBalance[] = [];
  let refreshed = 0;
  let startingAfter: string | undefined;
  for (;;) {
    const page = gatewayResult(
      await gateway.listBalanceTransactions({ limit: PAGE, ...(startingAfter ? { startingAfter } : {}) }),
      'the balance transactions',
    );
    const matched = await matchPage(deps, gatewayRow, page.data, options.refresh ? options.actor : null);
    unlinked.push(...matched.unlinked);
    disputeExtras.push(...throughDisputes(matched.throughSources));
    refreshed += matched.refreshed;
    const last = page.data.at(-1);
    if (!page.has_more || last === undefined) break;
    startingAfter = last.id;
  }
  const ledger = new Map<string, LedgerFigure>();
  for (const f of await ledgerFigures(deps.db, gatewayRow.id)) ledger.set(f.currency, f);
  for (const bt of disputeExtras) {
    const f = ledger.get(bt.currency) ?? { currency: bt.currency, available: 0, pending: 0 };
    if (bt.balance_status === 'available') f.available += bt.net_amount;
    else f.pending += bt.net_amount;
    ledger.set(bt.currency, f);
  }
  const currencies = new Set<string>([
    ...account.map((a) => a.currency),
    ...ledger.keys(),
    ...unlinked.map((u) => u.currency),
  ]);
  const entries: BalanceEntry[] = [...currencies].sort().map((currency) => {
    const gw = account.find((a) => a.currency === currency) ?? { available: 0, pending: 0 };
    const own = ledger.get(currency) ?? { available: 0, pending: 0 };
    const items = unlinked.filter((u) => u.currency === currency).map(toItem);
    const difference = gw.available + gw.pending - (own.available + own.pending);
    const explained = items.filter((i) => i.explains).reduce((sum, i) => sum + i.net, 0);
    const unexplained = difference - explained;
    return {
      gateway_id: gatewayRow.id,
      currency,
      available: gw.available,
      pending: gw.pending,
      ledger: { available: own.available, pending: own.pending },
      difference,
      explained,
      unexplained,
      flagged: unexplained !== 0,
      unlinked_items: items,
    };
  });
  return { entries, refreshed };
}

export interface BalanceReadError {
  gateway_id: string;
  code: string;
  message: string;
}

/**
 * `GET /v1/balances`: every Stripe gateway (or the one asked for), read now. It writes nothing (the job refreshes
 * statuses); a gateway that cannot be read is listed in `errors` and the others are still shown.
 */
export async function listBalances(
  deps: Deps,
  gatewayId?: string,
): Promise<{ object: 'list'; data: BalanceEntry[]; errors: BalanceReadError[] }> {
  const gateways = await stripeGateways(deps.db, gatewayId);
  if (gatewayId !== undefined && gateways.length === 0)
    throw new SettleError('not_found', 'resource_missing', `No Stripe gateway ${gatewayId}.`, {
      param: 'gateway_id',
    });
  const data: BalanceEntry[] = [];
  const errors: BalanceReadError[] = [];
  for (const g of gateways) {
    try {
      data.push(...(await readGatewayBalances(deps, g, { refresh: false })).entries);
    } catch (error) {
      errors.push(readError(g.id, error));
    }
  }
  return { object: 'list', data, errors };
}

function readError(gatewayId: string, error: unknown): BalanceReadError {
  if (error instanceof SettleError) return { gateway_id: gatewayId, code: error.code, message: error.message };
  return {
    gateway_id: gatewayId,
    code: 'internal_error',
    message: error instanceof Error ? error.message : String(error),
  };
}

/** The `balances` job: reads every Stripe gateway and stores one snapshot row per gateway and currency. */
export async function snapshotBalances(
  deps: Deps,
  actor: string,
  gatewayFor: (row: GatewayRow) => Gateway = (row) => deps.gateways.forRecord(row),
): Promise<{ entries: BalanceEntry[]; refreshed: number; failures: BalanceReadError[] }> {
  const entries: BalanceEntry[] = [];
  const failures: BalanceReadError[] = [];
  let refreshed = 0;
  const now = deps.clock.now();
  for (const g of await stripeGateways(deps.db)) {
    try {
      const read = await readGatewayBalances(deps, g, { refresh: true, actor }, gatewayFor(g));
      entries.push(...read.entries);
      refreshed += read.refreshed;
      const rows: NewBalanceSnapshotRow[] = read.entries.map((e) => ({
        id: newId('balance_snapshot', now.getTime()),
        gateway_id: g.id,
        currency: e.currency,
        taken_at: now,
        gateway_available: e.available,
        gateway_pending: e.pending,
        ledger_available: e.ledger.available,
        ledger_pending: e.ledger.pending,
        difference: e.difference,
        explained: e.explained,
        unexplained: e.unexplained,
        flagged: e.flagged,
        items: JSON.stringify(e.unlinked_items),
        job_run_id: null,
      }));
      await insertBalanceSnapshots(deps.db, rows);
    } catch (error) {
      failures.push(readError(g.id, error));
    }
  }
  return { entries, refreshed, failures };
}
