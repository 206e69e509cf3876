// The API's records as these pages read them (the fields they show; the API sends more).
import type { TotalsEntry } from './shared';

export interface PaymentMethod {
  id: string;
  gateway_token: string;
  type: string;
  status: string;
  usable: boolean;
  brand: string | null;
  last4: string | null;
  exp_month: number | null;
  exp_year: number | null;
  funding: string | null;
  fingerprint: string | null;
  account_id: string | null;
  contact_id: string | null;
  billing_email: string | null;
  is_default: boolean;
  gateway_id: string | null;
  gateway_customer: string | null;
  setup_intent: string | null;
  setup_status: string | null;
  created_at: string;
  updated_at: string;
}

export interface Account {
  id: string;
  name: string;
  email: string | null;
  default_payment_method_id: string | null;
  totals: TotalsEntry[];
  created_at: string;
  updated_at: string;
}

export interface Contact {
  id: string;
  account_id: string | null;
  first_name: string | null;
  last_name: string;
  email: string | null;
  default_payment_method_id: string | null;
  totals: TotalsEntry[];
  created_at: string;
  updated_at: string;
}

export interface Parent {
  id: string;
  type: string;
  external_id: string | null;
  name: string | null;
  account_id: string | null;
  contact_id: string | null;
  totals: TotalsEntry[];
  created_at: string;
  updated_at: string;
}

export interface Invoice {
  id: string;
  number: string;
  account_id: string | null;
  contact_id: string | null;
  currency: string;
  total: number;
  issued_on: string | null;
  due_date: string | null;
  timezone: string | null;
  status: string;
  past_due: boolean;
  balance_paid: number;
  write_off_amount: number;
  balance_due: number;
  payment_status: string;
  allocations_count: number;
  description: string | null;
  totals: TotalsEntry[];
  created_at: string;
  updated_at: string;
}

export interface Allocation {
  id: string;
  transaction_id: string;
  invoice_id: string;
  kind: string;
  amount: number;
  applied_amount: number;
  created_at: string;
}

export interface PaymentRecord {
  id: string;
  kind: 'authorization' | 'payment' | 'refund';
  transaction_id: string;
  amount: number;
  status: string;
  result_code: string | null;
  gateway_ref_number: string | null;
  processing_mode: string;
  payment_intent: string | null;
  gateway_date: string | null;
  created_at: string;
}

export interface PaymentSummary {
  id: string;
  order_id: string;
  payment_method_id: string;
  currency: string;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  pending_amount: number;
  available_to_capture: number;
  available_to_refund: number;
  balance: number;
  authorizations: PaymentRecord[];
  payments: PaymentRecord[];
  refunds: PaymentRecord[];
}

export interface Order {
  id: string;
  external_id: string | null;
  account_id: string | null;
  currency: string;
  total: number;
  description: string | null;
  totals: TotalsEntry[];
  payment_summaries: PaymentSummary[];
  created_at: string;
  updated_at: string;
}

export interface GatewayLog {
  id: string;
  transaction_id: string | null;
  interaction_type: string;
  interaction_status: string;
  result_code: string;
  gateway_ref_number: string | null;
  gateway_message: string | null;
  http_method: string | null;
  http_path: string | null;
  http_status: number | null;
  latency_ms: number;
  order_payment_summary_id: string | null;
  created_at: string;
}

export interface Payout {
  id: string;
  gateway_id: string | null;
  gateway_payout: string | null;
  amount: number;
  currency: string;
  status: string;
  arrival_date: string | null;
  automatic: boolean | null;
  method: string | null;
  reconciliation_status: string;
  gateway_reconciliation_status: string | null;
  items_count: number;
  items_total: number;
  unmatched_count: number;
  missing_count: number;
  mismatch_reason: string | null;
  reconciled_at: string | null;
  failure_code: string | null;
  failure_message: string | null;
  payout_id: string | null;
  created_at: string;
}

export interface PayoutItem {
  id: string;
  gateway_balance_transaction: string;
  type: string;
  reporting_category: string;
  source: string | null;
  amount: number;
  fee: number;
  net: number;
  currency: string;
  transaction_id: string | null;
  fee_transaction_id: string | null;
  unmatched_reason: string | null;
  gateway_created_at: string;
}

export interface Dispute {
  id: string;
  gateway_id: string;
  gateway_dispute: string;
  transaction_id: string;
  status: string;
  reason: string;
  amount: number;
  currency: string;
  amount_withdrawn: number;
  amount_reinstated: number;
  fee: number;
  fee_reinstated: number;
  evidence_due_by: string | null;
  is_charge_refundable: boolean;
  gateway_created_at: string;
  closed_at: string | null;
  created_at: string;
}

export const PAYMENT_METHOD_TYPES = ['card', 'us_bank_account'] as const;
export const PAYMENT_METHOD_STATUSES = [
  'valid',
  'invalid',
  'expired',
  'one_time',
  'new',
  'pending',
  'verified',
  'verification_failed',
  'errored',
  'deleted_from_gateway',
] as const;
export const INVOICE_STATUSES = ['draft', 'open', 'void'] as const;
export const INVOICE_PAYMENT_STATUSES = [
  'unpaid',
  'past_due',
  'partially_paid',
  'paid',
  'refunded',
  'partially_refunded',
  'overpaid',
] as const;
export const RECONCILIATION_STATUSES = ['pending', 'reconciled', 'mismatch', 'not_applicable'] as const;
export const DISPUTE_STATUSES = [
  'warning_needs_response',
  'warning_under_review',
  'warning_closed',
  'needs_response',
  'under_review',
  'appeal_needs_response',
  'appeal_under_review',
  'won',
  'lost',
  'prevented',
] as const;
