// What the Transactions pages read from the API (GET /v1/transactions and its actions; the schema is
// src/http/schemas/transaction.ts) and the fixed lists they offer as filters. Kept free of React so the list page
// stays light.

export interface Transaction {
  id: string;
  object: 'transaction';
  record_type: string;
  transaction_type: string;
  status: string;
  payment_status: string | null;
  amount: number;
  currency: string;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  disputed_amount: number;
  retained_amount: number;
  non_gateway: boolean;
  sub_type: string | null;
  auto_process: boolean;
  authorize: boolean;
  capture: boolean;
  refund: boolean;
  due_date: string | null;
  date_to_process: string | null;
  payment_method_id: string | null;
  account_id: string | null;
  contact_id: string | null;
  gateway_id: string | null;
  original_transaction_id: string | null;
  reattempt_of_id: string | null;
  reattempt_number: number;
  uncaptured_method: string | null;
  source: string;
  processing_mode: string;
  gateway_ref: {
    payment_intent: string | null;
    charge: string | null;
    balance_transaction: string | null;
    refund: string | null;
    payout: string | null;
    transfer: string | null;
  };
  payout_id: string | null;
  connected_account_id: string | null;
  transfer_group: string | null;
  parent_id: string | null;
  invoice_id: string | null;
  schedule_id: string | null;
  order_id: string | null;
  source_transaction_id: string | null;
  authorization_expires_at: string | null;
  gateway_fee: number | null;
  application_fee: number | null;
  net_amount: number | null;
  settlement_currency: string | null;
  settlement_amount: number | null;
  exchange_rate: string | null;
  balance_status: string | null;
  available_on: string | null;
  error_code: string | null;
  decline_code: string | null;
  error_message: string | null;
  error_type: string | null;
  advice_code: string | null;
  network_status: string | null;
  risk_level: string | null;
  to_fix: string | null;
  invalid_payment_method: boolean;
  description: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
  processed_at: string | null;
}

/** The list views of GET /v1/transactions `view`, with their labels; 'all' sends no view. */
export const VIEWS = [
  ['all', 'All'],
  ['open', 'Open'],
  ['due_today', 'Due today'],
  ['overdue', 'Overdue'],
  ['scheduled', 'Scheduled'],
  ['to_fix', 'To fix'],
  ['failed', 'Failed'],
  ['authorized_uncaptured', 'Authorized uncaptured'],
  ['refunds', 'Refunds'],
  ['scheduled_reattempts', 'Scheduled reattempts'],
] as const;

export const STATUSES = [
  'open',
  'process',
  'pending',
  'pending_payment_intent',
  'completed',
  'on_hold',
  'canceled',
  'needs_review',
  'failed',
];
export const PAYMENT_STATUSES = [
  'authorized',
  'captured',
  'partially_captured',
  'refunded',
  'partially_refunded',
  'uncaptured',
  'disputed',
  'dispute_warning',
  'in_transit',
  'paid',
  'transferred',
  'partially_reversed',
  'reversed',
];
export const RECORD_TYPES = ['charge', 'payout', 'transfer', 'adjustment'];
export const TRANSACTION_TYPES = ['normal', 'refund', 'reversal', 'write_off'];

/** The API's `sort` values of GET /v1/transactions; '-created' is the default and is not sent. */
export type SortKey = 'created' | 'amount' | 'due_date';
export const DEFAULT_SORT = '-created';
export const SORTS = ['-created', 'created', 'amount', '-amount', 'due_date', '-due_date'];

/** The most ids POST /v1/transactions/capture takes at once. */
export const MAX_BATCH_CAPTURE = 200;

export interface BatchCaptureItem {
  id: string;
  status_code: number;
  transaction: Transaction | null;
  error: { type: string; code: string; message: string } | null;
}

export interface HistoryEntry {
  id: number;
  object: 'transaction_history';
  transaction_id: string;
  at: string;
  actor: string;
  action: string;
  changes: Record<string, [unknown, unknown]>;
}

export interface GatewayLog {
  id: string;
  interaction_type: string;
  interaction_status: string;
  result_code: string;
  gateway_ref_number: string | null;
  gateway_message: string | null;
  gateway_result_code: string | null;
  http_method: string | null;
  http_path: string | null;
  http_status: number | null;
  is_notification: boolean;
  latency_ms: number;
  created_at: string;
}

/** 'open', 'completed/authorized': the state machine's labels. */
export function stateLabel(t: Pick<Transaction, 'status' | 'payment_status'>): string {
  return t.payment_status === null ? t.status : `${t.status}/${t.payment_status}`;
}

export const humanize = (value: string): string => {
  const text = value.replaceAll('_', ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
};

/** WCAG AA: a light Alert's coloured title (3.8:1 on its fill for green) in dark text instead. */
export const READABLE_ALERT = { title: { color: 'var(--mantine-color-dark-8)' } } as const;
