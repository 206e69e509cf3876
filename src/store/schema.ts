// Kysely's view of the database (one Database interface). Column types match migrations/: int8 money
// columns arrive as safe JS numbers and dates as 'YYYY-MM-DD' strings on both drivers (see database.ts).
import type { ColumnType, Generated, GeneratedAlways, Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { DisputeStatus } from '../domain/disputes.js';
import type { PaymentStatus, RecordType, TransactionStatus } from '../domain/transaction-state.js';

// Status and enum columns are unions: the domain's own types where it has them, else these, which repeat the
// CHECK constraints of migrations/ (a value outside them is a compile error here rather than a 500 there).
export type TransactionType = 'normal' | 'refund' | 'reversal' | 'write_off';
export type TransactionSource = 'api' | 'console' | 'batch' | 'webhook' | 'paylink' | 'sync' | 'import';
export type ProcessingMode = 'platform' | 'external';
export type UncapturedMethod = 'manual' | 'automatic';
export type BalanceStatus = 'pending' | 'available';
export type PaymentMethodType = 'card' | 'us_bank_account';
export type PaymentMethodStatus =
  | 'valid'
  | 'invalid'
  | 'expired'
  | 'one_time'
  | 'new'
  | 'pending'
  | 'verified'
  | 'verification_failed'
  | 'errored'
  | 'deleted_from_gateway';
export type GatewayProvider = 'stripe' | 'spreedly';
export type GatewayMode = 'test' | 'live';
export type GatewayAction = 'authorize' | 'charge' | 'capture' | 'release' | 'refund';
export type AttemptState = 'in_flight' | 'succeeded' | 'failed' | 'reverted' | 'needs_review';
export type LogInteractionType =
  'authorization' | 'authorization_reversal' | 'capture' | 'sale' | 'referenced_refund' | 'void' | 'tokenize' | 'sync';
export type LogInteractionStatus = 'initiated' | 'success' | 'failed' | 'timeout' | 'noop';
export type LogResultCode =
  'success' | 'decline' | 'indeterminate' | 'permanent_fail' | 'requires_review' | 'system_error' | 'validation_error';
export type WebhookEventStatus = 'pending' | 'processed' | 'failed' | 'not_supported';
export type JobRunStatus = 'running' | 'succeeded' | 'failed' | 'abandoned';
export type JobTrigger = 'schedule' | 'api' | 'cli';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface SettingsTable {
  key: string;
  value: Json<unknown>;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  digest: string;
  scopes: Json<string[]>;
  created_at: Timestamp;
  revoked_at: Date | null;
  /** When the key was last used, to the minute (written at most once a minute per key). */
  last_used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** A change of configuration (settings, gateways, API keys), written in the same transaction as the change. */
export interface AuditEventsTable {
  id: string;
  /** key_... (the API key), `cli` or `system`. */
  actor: string;
  action: string;
  object_type: string;
  object_id: string;
  before: ColumnType<unknown, string | null, string | null>;
  after: ColumnType<unknown, string | null, string | null>;
  created_at: Timestamp;
}

export interface IdempotencyKeysTable {
  api_key_id: string;
  key: string;
  request_method: string;
  request_path: string;
  request_hash: string;
  state: 'in_progress' | 'running' | 'done';
  response_status: number | null;
  response_body: ColumnType<unknown, string | null, string | null>;
  created_at: Timestamp;
}

export interface AccountsTable {
  id: string;
  name: string;
  email: string | null;
  default_payment_method_id: string | null;
  metadata: Json<Record<string, string>>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ContactsTable {
  id: string;
  account_id: string | null;
  first_name: string | null;
  last_name: string;
  email: string | null;
  default_payment_method_id: string | null;
  metadata: Json<Record<string, string>>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PaymentMethodsTable {
  id: string;
  gateway_token: string;
  type: PaymentMethodType;
  status: PaymentMethodStatus;
  brand: string | null;
  last4: string | null;
  exp_month: number | null;
  exp_year: number | null;
  funding: string | null;
  fingerprint: string | null;
  account_id: string | null;
  contact_id: string | null;
  billing_email: string | null;
  metadata: Json<Record<string, string>>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** Migration 0010: the gateway and Customer a saved card is attached to, and the SetupIntent that saved it. */
  gateway_id: Generated<string | null>;
  gateway_customer: Generated<string | null>;
  setup_intent: Generated<string | null>;
  setup_status: Generated<SetupStatus | null>;
}

export type SetupStatus = 'unknown' | 'requires_action' | 'processing' | 'succeeded' | 'failed';
export type GatewayCustomerOwnerType = 'account' | 'contact';

/** Migration 0010: the gateway Customer mirroring an account or a contact, one per gateway and owner. */
export interface GatewayCustomersTable {
  gateway_id: string;
  owner_type: GatewayCustomerOwnerType;
  owner_id: string;
  customer_id: string;
  created_at: Timestamp;
}

export interface TransactionsTable {
  id: string;
  record_type: RecordType;
  transaction_type: TransactionType;
  status: TransactionStatus;
  payment_status: PaymentStatus | null;
  previous_status: TransactionStatus | null;
  previous_payment_status: PaymentStatus | null;
  amount: number;
  currency: string;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  non_gateway: boolean;
  sub_type: string | null;
  auto_process: boolean;
  authorize: boolean;
  capture: boolean;
  refund: boolean;
  due_date: string | null;
  date_to_process: string | null;
  payment_method_id: string | null;
  dont_auto_update_payment_method: boolean;
  account_id: string | null;
  contact_id: string | null;
  gateway_id: string | null;
  original_transaction_id: string | null;
  reattempt_of_id: string | null;
  reattempt_number: number;
  uncaptured_method: UncapturedMethod | null;
  source: TransactionSource;
  processing_mode: ProcessingMode;
  gateway_payment_intent: string | null;
  gateway_charge: string | null;
  gateway_balance_transaction: string | null;
  gateway_refund: string | null;
  /** A payout transaction's payout id (po_...). */
  gateway_payout: string | null;
  /** What disputes have withdrawn and not reinstated (minor units); retained = captured - refunded - disputed. */
  disputed_amount: number;
  authorization_expires_at: Date | null;
  gateway_fee: number | null;
  application_fee: number | null;
  net_amount: number | null;
  exchange_rate: string | null;
  balance_status: BalanceStatus | null;
  available_on: string | null;
  error_code: string | null;
  decline_code: string | null;
  error_message: string | null;
  error_type: string | null;
  /** The gateway's advice on a decline (Stripe's advice_code, e.g. do_not_try_again). */
  advice_code: string | null;
  /** Migration 0010: the charge's outcome at the card network (Stripe's outcome.network_status, e.g. declined_by_network). */
  network_status: string | null;
  /** Migration 0010: the gateway's risk evaluation of the charge (Stripe's outcome.risk_level: normal, elevated, highest). */
  risk_level: string | null;
  /** Migration 0014: the currency and gross of the transaction's own balance transaction (M4); see the migration. */
  settlement_currency: string | null;
  settlement_amount: number | null;
  /** Migration 0014: fees given back by refunds of a charge, in the settlement currency (M3). */
  refunded_gateway_fee: Generated<number>;
  refunded_application_fee: Generated<number>;
  /** Migration 0014: on a charge, the `net` of its refunds' and its disputes' balance transactions (<= 0). */
  refunds_net_amount: Generated<number>;
  disputes_net_amount: Generated<number>;
  description: string | null;
  metadata: Json<Record<string, string>>;
  version: number;
  created_at: Timestamp;
  updated_at: Timestamp;
  processed_at: Date | null;
  /** Migration 0013: the payout transaction whose payout settled this transaction (payout reconciliation, M2). */
  payout_id: Generated<string | null>;
  /** Migration 0015 (Connect, M6): the connected account (cac_) a transfer goes to, a payout or direct charge is on. */
  connected_account_id: Generated<string | null>;
  transfer_group: Generated<string | null>;
  /** Migration 0015: the charge a transfer is funded from (Stripe's `source_transaction`). */
  source_transaction_id: Generated<string | null>;
  /** Migration 0015: a transfer's tr_... id, or a transfer reversal's trr_... id. */
  gateway_transfer: Generated<string | null>;
  /** Migration 0016: when (Settle's clock) a Connect send (a transfer, a reversal) was first made; recovery's key window. */
  sent_at: Generated<Date | null>;
  /** Migration 0020: the parent (par_), invoice (inv_) and payment schedule (sch_) a transaction belongs to. */
  parent_id: Generated<string | null>;
  invoice_id: Generated<string | null>;
  schedule_id: Generated<string | null>;
  /** Migration 0020: which occurrence of its schedule (1, 2, ...) a generated transaction is; one transaction each. */
  schedule_occurrence: Generated<number | null>;
  /** Migration 0022: the order (ord_) a transaction pays for; a refund inherits its charge's. */
  order_id: Generated<string | null>;
}

export interface TransactionHistoryTable {
  id: Generated<number>;
  transaction_id: string;
  at: Timestamp;
  actor: string;
  action: string;
  changes: Json<Record<string, [unknown, unknown]>>;
}

export interface GatewaysTable {
  id: string;
  name: string;
  provider: GatewayProvider;
  mode: GatewayMode;
  is_default: Generated<boolean>;
  settlement_currency: string;
  rate_limit_per_second: number;
  /** Requests per second to any one endpoint (method and path template); 0: no per-endpoint limit (G5). */
  endpoint_rate_limit_per_second: Generated<number>;
  /** The NAME of the environment variable holding the API key (never the key). */
  secret_key_env: string | null;
  /** The NAME of the environment variable holding the webhook signing secret. */
  webhook_secret_env: string | null;
  api_base: string | null;
  is_emulator: Generated<boolean>;
  /** Migration 0015: the NAME of the variable holding the Connect webhook endpoint's signing secret (M6). */
  connect_webhook_secret_env: Generated<string | null>;
  metadata: Json<Record<string, string>>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** The gateway log (P13): one row per interaction with a gateway; bodies are stored with secrets removed. */
export interface GatewayLogsTable {
  id: string;
  gateway_id: string;
  transaction_id: string | null;
  interaction_type: LogInteractionType;
  interaction_status: LogInteractionStatus;
  result_code: LogResultCode;
  gateway_ref_number: string | null;
  gateway_auth_code: string | null;
  gateway_date: Date | null;
  gateway_message: string | null;
  gateway_result_code: string | null;
  gateway_result_code_description: string | null;
  idempotency_key: string | null;
  is_notification: Generated<boolean>;
  http_method: string | null;
  http_path: string | null;
  http_status: number | null;
  request_id: string | null;
  request_body: ColumnType<unknown, string | null, string | null>;
  response_body: ColumnType<unknown, string | null, string | null>;
  latency_ms: number;
  created_at: Timestamp;
  /** Migration 0022: the order payment summary (ops_) of the row's transaction, when it is on an order. */
  order_payment_summary_id: Generated<string | null>;
}

export interface GatewayAttemptsTable {
  id: string;
  transaction_id: string;
  charge_transaction_id: string | null;
  gateway_id: string;
  action: GatewayAction;
  idempotency_key: string;
  request: Json<Record<string, unknown>>;
  state: AttemptState;
  last_outcome: string | null;
  error_message: string | null;
  recovery_tries: number;
  previous_status: TransactionStatus;
  previous_payment_status: PaymentStatus | null;
  revert_status: 'open' | 'completed' | 'failed';
  api_key_id: string | null;
  api_idempotency_key: string | null;
  response_status: number;
  created_at: Timestamp;
  updated_at: Timestamp;
  resolved_at: Date | null;
}

/** An event a gateway sent (W1, W2, W4): stored once per (gateway, event id), applied by the processor. */
export interface WebhookEventsTable {
  id: string;
  gateway_id: string;
  event_id: string;
  type: string;
  object_type: string | null;
  object_id: string | null;
  api_version: string | null;
  livemode: boolean;
  event_created_at: Timestamp;
  payload: Json<Record<string, unknown>>;
  status: WebhookEventStatus;
  /** What processing did, in words (e.g. "trx_... captured"); null while pending. */
  outcome: string | null;
  error: string | null;
  retryable: boolean | null;
  attempts: Generated<number>;
  /** How many times the gateway sent it (duplicates are counted here, never stored twice). */
  deliveries: Generated<number>;
  received_at: Timestamp;
  last_received_at: Timestamp;
  process_after: Timestamp;
  claimed_until: Date | null;
  processed_at: Date | null;
  /** The gateway object the processor applied it for (e.g. payment:pi_...), and when it read that object. */
  target: string | null;
  read_at: Date | null;
  /** The read included the payment's refunds. */
  read_refunds: boolean | null;
  updated_at: Timestamp;
}

/** A dispute (M7) on a charge transaction. Amounts in the charge's currency, fees in the dispute's balance currency. */
export interface DisputesTable {
  id: string;
  gateway_id: string;
  gateway_dispute: string;
  transaction_id: string;
  status: DisputeStatus;
  reason: string;
  amount: number;
  currency: string;
  amount_withdrawn: number;
  amount_reinstated: number;
  fee: number;
  fee_reinstated: number;
  evidence_due_by: Date | null;
  is_charge_refundable: boolean;
  gateway_created_at: Timestamp;
  closed_at: Date | null;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A run of a job (S3): who started it, for which schedule slot, its counts and (a bounded list of) its errors. */
export interface JobRunsTable {
  id: string;
  job: string;
  trigger: JobTrigger;
  slot: string | null;
  status: JobRunStatus;
  started_by: string;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
  finished_at: Date | null;
  total: number | null;
  picked: Generated<number>;
  succeeded: Generated<number>;
  failed: Generated<number>;
  skipped: Generated<number>;
  error_count: Generated<number>;
  errors: ColumnType<JobRunError[], string | undefined, string>;
  summary: string | null;
}

export interface JobRunError {
  transaction_id: string | null;
  code: string;
  message: string;
}

/** A transaction a run has taken (claimed until expires_at, or done). */
export interface JobClaimsTable {
  run_id: string;
  transaction_id: string;
  worker: string;
  state: 'claimed' | 'done';
  expires_at: Timestamp;
}

/** Migration 0012: a backfill run (W6): its range, the object types asked for, and per type its cursor and counts. */
export interface SyncRunsTable {
  id: string;
  gateway_id: string;
  since: Timestamp;
  until: Date | null;
  objects: ColumnType<string[], string, string>;
  status: SyncRunStatus;
  trigger: 'api' | 'cli';
  started_by: string;
  progress: ColumnType<SyncProgress, string, string>;
  pages: Generated<number>;
  error: string | null;
  worker: string | null;
  lease_until: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  finished_at: Date | null;
}

export type SyncRunStatus = 'running' | 'completed' | 'failed' | 'canceled';

/** Per object type: the last object id whose page was applied, whether the type is done, and what was done. */
export type SyncProgress = Record<string, SyncObjectProgress>;

export interface SyncObjectProgress {
  after: string | null;
  done: boolean;
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  last_skip: string | null;
}

/** Shares of a gateway's rate limit taken by processes on one PostgreSQL database. */
export interface RateLimitGrantsTable {
  id: Generated<string>;
  gateway_id: string;
  granted_at: Timestamp;
  tokens: number;
}

/** W2: per gateway object, the `created` of the last event whose snapshot was applied without a read. */
export interface GatewaySnapshotsTable {
  gateway_id: string;
  object_id: string;
  created: Date;
  event_id: string;
  applied_at: Date;
}

export type ReconciliationStatus = 'pending' | 'reconciled' | 'mismatch' | 'not_applicable';

/** Migration 0013: a payout's reconciliation (M2): what the gateway said, Settle's verdict and the last run's counts. */
export interface PayoutReconciliationsTable {
  transaction_id: string;
  gateway_id: string;
  automatic: boolean;
  /** Stripe's `Payout.method`: standard or instant. */
  method: string;
  /** Stripe's `Payout.reconciliation_status` as last read: in_progress, completed or not_applicable. */
  gateway_reconciliation_status: string;
  reconciliation_status: ReconciliationStatus;
  /** The gateway finished its reconciliation and Settle has not run since: the job's selection. */
  due: Generated<boolean>;
  items_count: Generated<number>;
  items_total: Generated<number>;
  unmatched_count: Generated<number>;
  /** Transactions naming this payout in `payout_id` whose balance transaction the payout no longer lists. */
  missing_count: Generated<number>;
  mismatch_reason: string | null;
  reconciled_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Migration 0013: one balance transaction a payout settled (`rcn_`), linked to the Settle transaction it came from. */
export interface PayoutItemsTable {
  id: string;
  payout_transaction_id: string;
  gateway_balance_transaction: string;
  type: string;
  reporting_category: string;
  source: string | null;
  amount: number;
  fee: number;
  net: number;
  currency: string;
  /** A kind Settle records (charge, refund, dispute, transfer, payout_failure): unmatched, it is a mismatch. */
  recorded_kind: boolean;
  transaction_id: string | null;
  fee_transaction_id: string | null;
  unmatched_reason: string | null;
  gateway_created_at: Timestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface Database {
  settings: SettingsTable;
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
  accounts: AccountsTable;
  contacts: ContactsTable;
  payment_methods: PaymentMethodsTable;
  gateway_customers: GatewayCustomersTable;
  transactions: TransactionsTable;
  transaction_history: TransactionHistoryTable;
  gateways: GatewaysTable;
  gateway_logs: GatewayLogsTable;
  gateway_attempts: GatewayAttemptsTable;
  webhook_events: WebhookEventsTable;
  disputes: DisputesTable;
  job_runs: JobRunsTable;
  job_claims: JobClaimsTable;
  rate_limit_grants: RateLimitGrantsTable;
  sync_runs: SyncRunsTable;
  audit_events: AuditEventsTable;
  gateway_snapshots: GatewaySnapshotsTable;
  payout_reconciliations: PayoutReconciliationsTable;
  payout_items: PayoutItemsTable;
  balance_snapshots: BalanceSnapshotsTable;
  connected_accounts: ConnectedAccountsTable;
  parents: ParentsTable;
  invoices: InvoicesTable;
  allocations: AllocationsTable;
  totals: TotalsTable;
  payment_schedules: PaymentSchedulesTable;
  orders: OrdersTable;
  order_payment_summaries: OrderPaymentSummariesTable;
  order_payment_records: OrderPaymentRecordsTable;
  order_requests: OrderRequestsTable;
  users: UsersTable;
  sessions: SessionsTable;
  sign_in_failures: SignInFailuresTable;
}

/** Migration 0020: a record transactions belong to (an opportunity, a subscription, ...: any lower-case type). */
export interface ParentsTable {
  id: string;
  type: string;
  external_id: string | null;
  name: string | null;
  account_id: string | null;
  contact_id: string | null;
  metadata: Json<Record<string, string>>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type InvoiceStatus = 'draft' | 'open' | 'void';
export type InvoicePaymentStatus =
  'unpaid' | 'past_due' | 'partially_paid' | 'paid' | 'refunded' | 'partially_refunded' | 'overpaid';

/** Migration 0020: an invoice. The allocated_* sums are kept by the allocation triggers; the rest is generated. */
export interface InvoicesTable {
  id: string;
  number: string;
  account_id: string | null;
  contact_id: string | null;
  currency: string;
  total: number;
  issued_on: string | null;
  due_date: string | null;
  timezone: string | null;
  status: Generated<InvoiceStatus>;
  past_due: Generated<boolean>;
  allocations_count: Generated<number>;
  allocated_payments: Generated<number>;
  allocated_refunds: Generated<number>;
  allocated_write_offs: Generated<number>;
  allocated_write_off_reversals: Generated<number>;
  balance_paid: GeneratedAlways<number>;
  write_off_amount: GeneratedAlways<number>;
  balance_due: GeneratedAlways<number>;
  payment_status: GeneratedAlways<InvoicePaymentStatus>;
  description: string | null;
  metadata: Json<Record<string, string>>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type AllocationKind = 'payment' | 'refund' | 'write_off' | 'write_off_reversal';

/** Migration 0020: a transaction's money assigned to an invoice; applied_amount is what of it counts now. */
export interface AllocationsTable {
  id: string;
  transaction_id: string;
  invoice_id: string;
  kind: AllocationKind;
  amount: number;
  applied_amount: Generated<number>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Migration 0020: one owner's (acc_, con_, par_, inv_) totals in one currency, kept by the transactions trigger. */
export interface TotalsTable {
  owner_id: string;
  currency: string;
  open_amount: number;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  retained_amount: number;
  non_gateway_amount: number;
  written_off_amount: number;
  gateway_fee: number;
  net_amount: number;
  disputed_amount: number;
  count_open: number;
  count_completed: number;
  count_failed: number;
  last_payment_at: Date | null;
  next_due_date: string | null;
}

export type ScheduleInterval = 'week' | 'month' | 'quarter' | 'year';
export type ScheduleStatus = 'active' | 'paused' | 'completed' | 'canceled';

/** Migration 0020: a payment schedule (X6); its occurrences are open transactions generated ahead. */
export interface PaymentSchedulesTable {
  id: string;
  amount: number;
  currency: string;
  payment_method_id: string | null;
  account_id: string | null;
  contact_id: string | null;
  parent_id: string | null;
  invoice_id: string | null;
  interval: ScheduleInterval;
  interval_count: number;
  start_date: string;
  end_date: string | null;
  occurrences: number | null;
  generated_count: Generated<number>;
  status: Generated<ScheduleStatus>;
  description: string | null;
  metadata: Json<Record<string, string>>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Migration 0015: a connected account of a gateway (`cac_`), with the gateway's own id (`acct_...`). */
export interface ConnectedAccountsTable {
  id: string;
  gateway_id: string;
  gateway_account: string;
  type: string | null;
  country: string | null;
  email: string | null;
  default_currency: string | null;
  charges_enabled: boolean;
  payouts_enabled: boolean;
  metadata: Json<Record<string, string>>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Migration 0014: one row per gateway, settlement currency and run of the `balances` job (M5). */
export interface BalanceSnapshotsTable {
  id: string;
  gateway_id: string;
  currency: string;
  taken_at: Timestamp;
  gateway_available: number;
  gateway_pending: number;
  ledger_available: number;
  ledger_pending: number;
  difference: number;
  explained: number;
  unexplained: number;
  flagged: boolean;
  items: Json<unknown[]>;
  job_run_id: string | null;
}

export type TransactionRow = Selectable<TransactionsTable>;
export type NewTransactionRow = Insertable<TransactionsTable>;
export type PaymentMethodRow = Selectable<PaymentMethodsTable>;
export type GatewayCustomerRow = Selectable<GatewayCustomersTable>;
export type AccountRow = Selectable<AccountsTable>;
export type ContactRow = Selectable<ContactsTable>;
export type GatewayRow = Selectable<GatewaysTable>;
export type GatewayLogRow = Selectable<GatewayLogsTable>;
export type NewGatewayLogRow = Insertable<GatewayLogsTable>;
export type GatewayAttemptRow = Selectable<GatewayAttemptsTable>;
export type NewGatewayAttemptRow = Insertable<GatewayAttemptsTable>;
export type WebhookEventRow = Selectable<WebhookEventsTable>;
export type NewWebhookEventRow = Insertable<WebhookEventsTable>;
export type DisputeRow = Selectable<DisputesTable>;
export type NewDisputeRow = Insertable<DisputesTable>;
export type JobRunRow = Selectable<JobRunsTable>;
export type SyncRunRow = Selectable<SyncRunsTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type PayoutReconciliationRow = Selectable<PayoutReconciliationsTable>;
export type PayoutItemRow = Selectable<PayoutItemsTable>;
export type NewPayoutItemRow = Insertable<PayoutItemsTable>;
export type ConnectedAccountRow = Selectable<ConnectedAccountsTable>;
export type ParentRow = Selectable<ParentsTable>;
export type InvoiceRow = Selectable<InvoicesTable>;
export type AllocationRow = Selectable<AllocationsTable>;
export type TotalsRow = Selectable<TotalsTable>;
export type PaymentScheduleRow = Selectable<PaymentSchedulesTable>;

/** The database, for code outside the store that passes it on to store functions (and so imports nothing of Kysely). */
export type Db = Kysely<Database>;
/** A database transaction, likewise. */
export type Tx = Transaction<Database>;

/** Migration 0022: an order (O1): what a storefront sold; its transactions carry order_id. */
export interface OrdersTable {
  id: string;
  external_id: string | null;
  account_id: string | null;
  currency: string;
  total: number;
  description: string | null;
  metadata: Json<Record<string, string>>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Migration 0022: one per order and payment method; the amounts are sums over its records, kept by the database. */
export interface OrderPaymentSummariesTable {
  id: string;
  order_id: string;
  payment_method_id: string;
  currency: string;
  authorized_amount: Generated<number>;
  captured_amount: Generated<number>;
  refunded_amount: Generated<number>;
  pending_amount: Generated<number>;
  available_to_capture: Generated<number>;
  refunding_amount: Generated<number>;
  balance: GeneratedAlways<number>;
  available_to_refund: GeneratedAlways<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type OrderRecordKind = 'authorization' | 'payment' | 'refund';
export type OrderRecordStatus = 'draft' | 'pending' | 'processed' | 'canceled' | 'failed';

/** Migration 0022: a payment authorization, payment or refund under a summary (O2), derived by the database. */
export interface OrderPaymentRecordsTable {
  id: string;
  summary_id: string;
  order_id: string;
  transaction_id: string;
  attempt_id: string | null;
  gateway_log_id: string | null;
  kind: OrderRecordKind;
  amount: number;
  status: OrderRecordStatus;
  result_code: LogResultCode | null;
  processing_mode: ProcessingMode;
  gateway_ref_number: string | null;
  payment_intent: string | null;
  gateway_date: Date | null;
  capturable: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type OrderRow = Selectable<OrdersTable>;
export type OrderPaymentSummaryRow = Selectable<OrderPaymentSummariesTable>;
export type OrderPaymentRecordRow = Selectable<OrderPaymentRecordsTable>;

/**
 * Migration 0022: the gateway attempts one ensure-funds or ensure-refunds request started (keyed by its API key and
 * Idempotency-Key), so that a retry after a crash answers from them instead of planning again.
 */
export interface OrderRequestsTable {
  api_key_id: string;
  idempotency_key: string;
  order_id: string;
  kind: 'capture' | 'refund';
  attempt_ids: string[];
  amounts: number[];
  created_at: Generated<Timestamp>;
}

export type UserRole = 'admin' | 'operator' | 'viewer';

/** Migration 0023: a console user (usr_). */
export interface UsersTable {
  id: string;
  email: string;
  role: UserRole;
  password_hash: string;
  must_change_password: Generated<boolean>;
  disabled: Generated<boolean>;
  last_sign_in_at: Date | null;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Migration 0023: a signed-in console session (ses_); only digests of its tokens are stored. */
export interface SessionsTable {
  id: string;
  token_digest: string;
  csrf_digest: string;
  user_id: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Date | null;
}

/** Migration 0023: one failed sign-in for an email (lower-case), for the back-off. */
export interface SignInFailuresTable {
  email: string;
  at: Timestamp;
}

export type UserRow = Selectable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
