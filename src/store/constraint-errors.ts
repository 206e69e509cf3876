// Database constraint violations, told apart by the constraint's NAME (not by SQLSTATE alone), and the domain error
// each one means. One table (CONSTRAINTS) holds every named constraint of the migrations in ./migrations/, as
// PostgreSQL names it (an index made by CREATE UNIQUE INDEX reports the index's name as the constraint); PGlite
// reports the same names. test/store/constraint-errors.test.ts checks that the table lists exactly the constraints a
// migrated database has, and provokes each one on both databases.
//
// Four kinds of rule:
// - input: a value a request gave breaks a rule the domain also checks (400, with the field as `param`);
// - conflict: another write got there first, or the row already exists (409);
// - reference: a foreign key. A row naming a missing one is a 404 on that field; deleting a row that others still
//   name is a 409;
// - invariant: a rule only a bug can break (the state machine, amounts, generated ids). A 500 whose message is
//   generic; the constraint and the rule go to the log through the error's details.
// A violation of a constraint the table does not know (and a NOT NULL one, which PostgreSQL reports by column) is a
// 500 the same way, with what the database named in the details.
import { SettleError } from '../domain/errors.js';

export type ConstraintRule =
  | { type: 'input'; code: string; param: string; message: string }
  | { type: 'conflict'; code: string; message: string }
  | { type: 'reference'; param: string; what: string; whenDeleted: { code: string; message: string } }
  | { type: 'invariant'; rule: string };

const input = (code: string, param: string, message: string): ConstraintRule => ({
  type: 'input',
  code,
  param,
  message,
});
const conflict = (code: string, message: string): ConstraintRule => ({ type: 'conflict', code, message });
const invariant = (rule: string): ConstraintRule => ({ type: 'invariant', rule });
const reference = (param: string, what: string, whenDeleted: { code: string; message: string }): ConstraintRule => ({
  type: 'reference',
  param,
  what,
  whenDeleted,
});
const oneOf = (param: string, values: string) =>
  input('parameter_invalid_value', param, `${param} must be one of: ${values}.`);
const generatedId = invariant('ids are generated and never repeat');

const TRANSACTION_REFERENCED = {
  code: 'transaction_has_dependents',
  message:
    'Other records (refunds, reattempts, gateway attempts, disputes) point to this transaction; it cannot be deleted.',
};
const PAYMENT_METHOD_REFERENCED = {
  code: 'payment_method_in_use',
  message: 'Other records point to this payment method; it cannot be deleted.',
};
const ACCOUNT_REFERENCED = {
  code: 'account_in_use',
  message: 'Other records point to this account; it cannot be deleted.',
};
const CONTACT_REFERENCED = {
  code: 'contact_in_use',
  message: 'Other records point to this contact; it cannot be deleted.',
};
const GATEWAY_REFERENCED = {
  code: 'gateway_in_use',
  message: 'Gateway attempts, webhook events or disputes point to this gateway; it cannot be deleted.',
};
const PARENT_REFERENCED = {
  code: 'parent_in_use',
  message: 'Transactions or schedules point to this parent; it cannot be deleted.',
};
const INVOICE_REFERENCED = {
  code: 'invoice_in_use',
  message: 'Transactions, allocations or schedules point to this invoice; it cannot be deleted.',
};
const ORDER_REFERENCED = {
  code: 'order_in_use',
  message: 'Transactions or payment summaries point to this order; it cannot be deleted.',
};
const JOB_RUN_REFERENCED = { code: 'job_run_in_use', message: 'Claims point to this job run; it cannot be deleted.' };
const ALREADY_RECORDED = 'gateway_object_recorded';

export const CONSTRAINTS = {
  // 0001: the ledger
  settings_pkey: conflict(
    'concurrent_update',
    'Another request wrote the same setting at the same moment; retry the request.',
  ),
  api_keys_pkey: generatedId,
  api_keys_digest_key: invariant('API key secrets are random, so no two keys share a digest'),
  idempotency_keys_pkey: conflict(
    'idempotency_key_in_use',
    'A request with this Idempotency-Key is still being processed; retry after it has finished.',
  ),
  idempotency_keys_state_check: invariant("an idempotency key's state is in_progress, running or done"),
  accounts_pkey: generatedId,
  accounts_default_payment_method_fk: reference(
    'default_payment_method_id',
    'payment method',
    PAYMENT_METHOD_REFERENCED,
  ),
  contacts_pkey: generatedId,
  contacts_account_id_fkey: reference('account_id', 'account', ACCOUNT_REFERENCED),
  contacts_default_payment_method_fk: reference(
    'default_payment_method_id',
    'payment method',
    PAYMENT_METHOD_REFERENCED,
  ),
  payment_methods_pkey: generatedId,
  payment_methods_type_check: oneOf('type', 'card, us_bank_account'),
  payment_methods_status_check: input('invalid_status', 'status', 'status is not a payment method status.'),
  payment_methods_last4_check: input('invalid_last4', 'last4', 'last4 must be exactly 4 digits.'),
  payment_methods_exp_month_check: input(
    'invalid_exp_month',
    'exp_month',
    'exp_month must be a month number from 1 to 12.',
  ),
  payment_methods_exp_year_check: input('invalid_exp_year', 'exp_year', 'exp_year must be a 4-digit year.'),
  payment_methods_account_id_fkey: reference('account_id', 'account', ACCOUNT_REFERENCED),
  payment_methods_contact_id_fkey: reference('contact_id', 'contact', CONTACT_REFERENCED),
  transactions_pkey: generatedId,
  transactions_record_type_check: oneOf('record_type', 'charge, payout, transfer, adjustment'),
  transactions_transaction_type_check: oneOf('transaction_type', 'normal, refund, reversal, write_off'),
  transactions_status_check: input('invalid_status', 'status', 'status is not a transaction status.'),
  transactions_payment_status_check: invariant('payment_status is one of the payment statuses or null'),
  transactions_currency_check: input(
    'invalid_currency',
    'currency',
    'currency must be a three-letter ISO currency code.',
  ),
  transactions_reattempt_number_check: invariant('reattempt_number >= 0'),
  transactions_uncaptured_method_check: invariant('uncaptured_method is manual, automatic or null'),
  transactions_source_check: oneOf('source', 'api, console, batch, webhook, paylink, sync, import'),
  transactions_processing_mode_check: oneOf('processing_mode', 'platform, external'),
  transactions_balance_status_check: invariant('balance_status is pending, available or null'),
  transactions_payment_status_iff_completed: invariant(
    'a transaction has a payment_status exactly when it is completed',
  ),
  transactions_amounts_non_negative: invariant('authorized, captured and refunded amounts are never negative'),
  transactions_captured_le_authorized: invariant('captured_amount <= authorized_amount'),
  transactions_refunded_le_captured: invariant(
    "refunded_amount <= captured_amount (a transfer's: what was reversed <= its amount, migration 0016)",
  ),
  transactions_refund_sign: input(
    'invalid_amount',
    'amount',
    'A refund or a reversal has a negative amount and any other transaction a positive one.',
  ),
  transactions_refund_has_original: input(
    'original_required',
    'original_transaction_id',
    'A refund needs original_transaction_id: the charge it refunds.',
  ),
  transactions_write_off_non_gateway: input(
    'write_off_must_be_non_gateway',
    'non_gateway',
    'A write-off records money outside the gateway: non_gateway must be true.',
  ),
  transactions_payment_method_id_fkey: reference('payment_method_id', 'payment method', PAYMENT_METHOD_REFERENCED),
  transactions_account_id_fkey: reference('account_id', 'account', ACCOUNT_REFERENCED),
  transactions_contact_id_fkey: reference('contact_id', 'contact', CONTACT_REFERENCED),
  transactions_original_transaction_id_fkey: reference(
    'original_transaction_id',
    'transaction',
    TRANSACTION_REFERENCED,
  ),
  transactions_reattempt_of_id_fkey: reference('reattempt_of_id', 'transaction', TRANSACTION_REFERENCED),
  transaction_history_pkey: generatedId,
  // 0002: gateways
  gateways_pkey: generatedId,
  gateways_provider_check: oneOf('provider', 'stripe, spreedly'),
  gateways_mode_check: oneOf('mode', 'test, live'),
  gateways_settlement_currency_check: input(
    'invalid_currency',
    'settlement_currency',
    'settlement_currency must be a three-letter ISO currency code.',
  ),
  gateways_rate_limit_per_second_check: input(
    'invalid_rate_limit',
    'rate_limit_per_second',
    'rate_limit_per_second must be a whole number from 1 to 10000.',
  ),
  gateways_secret_key_env_check: input(
    'invalid_env_var_name',
    'secret_key_env',
    'secret_key_env must be an environment variable name (capital letters, digits, underscores).',
  ),
  gateways_webhook_secret_env_check: input(
    'invalid_env_var_name',
    'webhook_secret_env',
    'webhook_secret_env must be an environment variable name (capital letters, digits, underscores).',
  ),
  gateways_api_base_check: input('invalid_api_base', 'api_base', 'api_base must be an http or https URL.'),
  gateways_live_https: input('invalid_api_base', 'api_base', "A live gateway's api_base must be an https URL."),
  gateways_emulator_test_mode: input(
    'parameter_invalid_value',
    'mode',
    'The built-in emulator gateway is always in test mode.',
  ),
  gateways_one_default: conflict(
    'concurrent_update',
    'Another gateway was made the default at the same moment; retry the request.',
  ),
  gateways_one_emulator: conflict(
    'emulator_gateway_exists',
    'There is already a built-in emulator gateway; there is only ever one.',
  ),
  // 0003: gateway logs
  gateway_logs_pkey: generatedId,
  gateway_logs_interaction_type_check: invariant("a gateway log's interaction_type is one of the interaction types"),
  gateway_logs_interaction_status_check: invariant(
    "a gateway log's interaction_status is one of the interaction statuses",
  ),
  gateway_logs_result_code_check: invariant("a gateway log's result_code is one of the result codes"),
  gateway_logs_latency_ms_check: invariant('latency_ms >= 0'),
  // 0004: gateway attempts
  gateway_attempts_pkey: generatedId,
  gateway_attempts_idempotency_key_key: invariant("a gateway attempt's idempotency key is derived from its unique id"),
  gateway_attempts_action_check: invariant(
    "a gateway attempt's action is authorize, charge, capture, release or refund",
  ),
  gateway_attempts_state_check: invariant("a gateway attempt's state is one of its states"),
  gateway_attempts_recovery_tries_check: invariant('recovery_tries >= 0'),
  gateway_attempts_revert_status_check: invariant('revert_status is open, completed or failed'),
  gateway_attempts_refund_has_charge: invariant('a refund attempt names its charge transaction'),
  gateway_attempts_resolved: invariant('an attempt has resolved_at exactly when it is resolved'),
  gateway_attempts_transaction_id_fkey: reference('transaction_id', 'transaction', TRANSACTION_REFERENCED),
  gateway_attempts_charge_transaction_id_fkey: reference(
    'charge_transaction_id',
    'transaction',
    TRANSACTION_REFERENCED,
  ),
  gateway_attempts_gateway_id_fkey: reference('gateway_id', 'gateway', GATEWAY_REFERENCED),
  gateway_attempts_one_unresolved: conflict(
    'transaction_in_flight',
    'A gateway call for this transaction is still under way or in doubt; wait until it is resolved.',
  ),
  // 0005: webhooks, disputes, gateway ids
  webhook_events_pkey: generatedId,
  webhook_events_one_per_event: conflict(ALREADY_RECORDED, 'This gateway event is already stored.'),
  webhook_events_status_check: invariant("a webhook event's status is pending, processed, failed or not_supported"),
  webhook_events_attempts_check: invariant('attempts >= 0'),
  webhook_events_deliveries_check: invariant('deliveries >= 1'),
  webhook_events_failed_has_error: invariant('a failed webhook event has its error and whether it is retryable'),
  webhook_events_gateway_id_fkey: reference('gateway_id', 'gateway', GATEWAY_REFERENCED),
  disputes_pkey: generatedId,
  disputes_one_per_gateway_dispute: conflict(ALREADY_RECORDED, "The gateway's dispute is already recorded."),
  disputes_status_check: invariant("a dispute's status is one of Stripe's dispute statuses"),
  disputes_amount_check: invariant('a dispute amount >= 0'),
  disputes_amount_withdrawn_check: invariant('amount_withdrawn >= 0'),
  disputes_amount_reinstated_check: invariant('amount_reinstated >= 0'),
  disputes_fee_check: invariant('a dispute fee >= 0'),
  disputes_fee_reinstated_check: invariant('fee_reinstated >= 0'),
  disputes_gateway_id_fkey: reference('gateway_id', 'gateway', GATEWAY_REFERENCED),
  disputes_transaction_id_fkey: reference('transaction_id', 'transaction', TRANSACTION_REFERENCED),
  transactions_disputed_amount_check: invariant('disputed_amount >= 0'),
  transactions_one_charge_per_payment_intent: conflict(
    ALREADY_RECORDED,
    "The gateway's payment is already recorded by another charge.",
  ),
  transactions_one_per_refund: conflict(
    ALREADY_RECORDED,
    "The gateway's refund is already recorded by another transaction.",
  ),
  transactions_one_per_payout: conflict(
    ALREADY_RECORDED,
    "The gateway's payout is already recorded by another transaction.",
  ),
  transactions_one_adjustment_per_balance_transaction: conflict(
    ALREADY_RECORDED,
    "The gateway's balance transaction is already recorded by another adjustment.",
  ),
  // 0006: jobs
  job_runs_pkey: generatedId,
  job_runs_trigger_check: invariant("a job run's trigger is schedule, api or cli"),
  job_runs_status_check: invariant("a job run's status is running, succeeded, failed or abandoned"),
  job_runs_total_check: invariant('total >= 0'),
  job_runs_picked_check: invariant('picked >= 0'),
  job_runs_succeeded_check: invariant('succeeded >= 0'),
  job_runs_failed_check: invariant('failed >= 0'),
  job_runs_skipped_check: invariant('skipped >= 0'),
  job_runs_error_count_check: invariant('error_count >= 0'),
  job_runs_one_running: conflict('job_already_running', 'This job is already running; it is not started twice.'),
  job_runs_slot: conflict('job_slot_taken', "This job's scheduled run for that slot has already started."),
  job_claims_pkey: conflict('concurrent_update', 'Another worker claimed the same item at the same moment.'),
  job_claims_state_check: invariant("a job claim's state is claimed or done"),
  job_claims_run_id_fkey: reference('run_id', 'job run', JOB_RUN_REFERENCED),
  job_claims_transaction_id_fkey: reference('transaction_id', 'transaction', TRANSACTION_REFERENCED),
  rate_limit_grants_pkey: generatedId,
  rate_limit_grants_tokens_check: invariant('a rate limit grant has tokens > 0'),
  transactions_one_reattempt: conflict(
    'already_reattempted',
    'This failed transaction was already reattempted; reattempt that one if it fails too.',
  ),
  // 0009: keys and audit
  audit_events_pkey: generatedId,
  // 0010: saved cards
  gateway_customers_pkey: conflict(
    'gateway_customer_exists',
    'This account or contact already has a Customer at this gateway; the existing one is used.',
  ),
  gateway_customers_one_per_customer: conflict(
    'gateway_customer_taken',
    'This gateway Customer already mirrors another account or contact.',
  ),
  gateway_customers_owner_type_check: invariant("a gateway customer's owner_type is account or contact"),
  gateway_customers_gateway_id_fkey: reference('gateway_id', 'gateway', GATEWAY_REFERENCED),
  payment_methods_gateway_id_fkey: reference('gateway_id', 'gateway', GATEWAY_REFERENCED),
  payment_methods_setup_status_check: invariant(
    "a payment method's setup_status is unknown, requires_action, processing, succeeded or failed",
  ),
  // 0011: applied webhook snapshots (W2), per-endpoint limits (G5)
  gateways_endpoint_rate_limit_per_second_check: input(
    'invalid_rate_limit',
    'endpoint_rate_limit_per_second',
    'endpoint_rate_limit_per_second must be a whole number from 0 (off) to 10000.',
  ),
  gateway_snapshots_pkey: invariant('one applied-snapshot row per gateway object, written by upsert'),
  gateway_snapshots_gateway_id_fkey: reference('gateway_id', 'gateway', GATEWAY_REFERENCED),
  // 0012: backfill runs (W6)
  sync_runs_pkey: generatedId,
  sync_runs_gateway_id_fkey: reference('gateway_id', 'gateway', GATEWAY_REFERENCED),
  sync_runs_status_check: invariant("a sync run's status is running, completed, failed or canceled"),
  sync_runs_trigger_check: invariant("a sync run's trigger is api or cli"),
  sync_runs_range_check: input('parameter_invalid_value', 'until', 'until must be later than since.'),
  sync_runs_pages_check: invariant('pages >= 0'),
  sync_runs_one_running: conflict(
    'sync_already_running',
    'A sync of this gateway is already running; it is not started twice. Follow it at GET /v1/sync/{id}.',
  ),
  // 0013: payout reconciliation (M2)
  transactions_payout_id_fkey: reference('payout_id', 'transaction', TRANSACTION_REFERENCED),
  payout_reconciliations_pkey: invariant('one reconciliation row per payout transaction, written by upsert'),
  payout_reconciliations_transaction_id_fkey: reference('transaction_id', 'transaction', TRANSACTION_REFERENCED),
  payout_reconciliations_gateway_id_fkey: reference('gateway_id', 'gateway', GATEWAY_REFERENCED),
  payout_reconciliations_status_check: invariant(
    'reconciliation_status is pending, reconciled, mismatch or not_applicable',
  ),
  payout_reconciliations_counts_check: invariant("a payout reconciliation's counts are never negative"),
  payout_items_pkey: generatedId,
  payout_items_payout_transaction_id_fkey: reference('payout_transaction_id', 'transaction', TRANSACTION_REFERENCED),
  payout_items_transaction_id_fkey: reference('transaction_id', 'transaction', TRANSACTION_REFERENCED),
  payout_items_fee_transaction_id_fkey: reference('fee_transaction_id', 'transaction', TRANSACTION_REFERENCED),
  payout_items_matched_or_reason: invariant('a payout item has a transaction or an unmatched_reason, never both'),
  payout_items_one_per_balance_transaction: invariant('one item per payout and balance transaction, written by upsert'),
  // 0014: settlement and balance snapshots (M3-M5)
  transactions_settlement_currency_check: invariant('settlement_currency is a three-letter upper-case code or null'),
  balance_snapshots_pkey: generatedId,
  balance_snapshots_gateway_id_fkey: reference('gateway_id', 'gateway', GATEWAY_REFERENCED),
  balance_snapshots_flagged_check: invariant('a balance snapshot is flagged exactly when something is unexplained'),
  // 0015: Stripe Connect (M6)
  connected_accounts_pkey: generatedId,
  connected_accounts_gateway_id_fkey: reference('gateway_id', 'gateway', GATEWAY_REFERENCED),
  connected_accounts_one_per_gateway_account: conflict(
    'connected_account_exists',
    'This gateway account is already recorded as a connected account; list them with GET /v1/connected-accounts.',
  ),
  connected_accounts_gateway_account_check: input(
    'parameter_invalid_value',
    'account',
    "account must be the gateway's connected account id (acct_...).",
  ),
  transactions_connected_account_id_fkey: reference('connected_account_id', 'connected account', {
    code: 'connected_account_in_use',
    message: 'Transactions point to this connected account; it cannot be deleted.',
  }),
  transactions_source_transaction_id_fkey: reference('source_transaction_id', 'transaction', TRANSACTION_REFERENCED),
  // 0016: transfer reversals (M6)
  transactions_reversal_has_original: input(
    'original_required',
    'original_transaction_id',
    'A reversal needs original_transaction_id: the transfer it reverses.',
  ),
  // 0020: parents, invoices, allocations, totals, payment schedules (R1-R4, P7, X6)
  parents_pkey: generatedId,
  parents_type_check: input(
    'parameter_invalid_value',
    'type',
    'type must be a lower-case word (letters, digits and underscores, starting with a letter, at most 40).',
  ),
  parents_account_id_fkey: reference('account_id', 'account', ACCOUNT_REFERENCED),
  parents_contact_id_fkey: reference('contact_id', 'contact', CONTACT_REFERENCED),
  parents_type_external_id: conflict(
    'parent_exists',
    'A parent of this type already has this external_id; find it with GET /v1/parents?type=...&external_id=....',
  ),
  invoices_pkey: generatedId,
  invoices_number_key: conflict('invoice_number_taken', 'Another invoice already has this number.'),
  invoices_account_id_fkey: reference('account_id', 'account', ACCOUNT_REFERENCED),
  invoices_contact_id_fkey: reference('contact_id', 'contact', CONTACT_REFERENCED),
  invoices_currency_check: input('invalid_currency', 'currency', 'currency must be a three-letter ISO 4217 code.'),
  invoices_total_check: input('invalid_amount', 'total', 'total must not be negative.'),
  invoices_status_check: oneOf('status', 'draft, open, void'),
  invoices_allocations_count_check: invariant("an invoice's allocation count is kept by the allocation triggers"),
  invoices_allocated_non_negative: invariant("an invoice's allocated sums are sums of applied amounts, never negative"),
  payment_schedules_pkey: generatedId,
  payment_schedules_amount_check: input(
    'invalid_amount',
    'amount',
    'amount must be a positive integer of minor units.',
  ),
  payment_schedules_currency_check: input(
    'invalid_currency',
    'currency',
    'currency must be a three-letter ISO 4217 code.',
  ),
  payment_schedules_payment_method_id_fkey: reference('payment_method_id', 'payment method', PAYMENT_METHOD_REFERENCED),
  payment_schedules_account_id_fkey: reference('account_id', 'account', ACCOUNT_REFERENCED),
  payment_schedules_contact_id_fkey: reference('contact_id', 'contact', CONTACT_REFERENCED),
  payment_schedules_parent_id_fkey: reference('parent_id', 'parent', PARENT_REFERENCED),
  payment_schedules_invoice_id_fkey: reference('invoice_id', 'invoice', INVOICE_REFERENCED),
  payment_schedules_interval_check: oneOf('interval', 'week, month, quarter, year'),
  payment_schedules_interval_count_check: input(
    'parameter_invalid_value',
    'interval_count',
    'interval_count must be an integer from 1 to 366.',
  ),
  payment_schedules_occurrences_check: input(
    'parameter_invalid_value',
    'occurrences',
    'occurrences must be a positive integer.',
  ),
  payment_schedules_status_check: oneOf('status', 'active, paused, completed, canceled'),
  transactions_parent_id_fkey: reference('parent_id', 'parent', PARENT_REFERENCED),
  transactions_invoice_id_fkey: reference('invoice_id', 'invoice', INVOICE_REFERENCED),
  transactions_schedule_id_fkey: reference('schedule_id', 'payment schedule', {
    code: 'payment_schedule_in_use',
    message: 'Transactions point to this payment schedule; it cannot be deleted.',
  }),
  transactions_schedule_occurrence_check: invariant('a generated transaction names its schedule and its occurrence'),
  transactions_one_per_schedule_occurrence: conflict(
    'occurrence_generated',
    'This occurrence of the schedule was generated by another request at the same moment.',
  ),
  totals_pkey: invariant('one totals row per owner and currency, written by upsert'),
  totals_pending_commits_pkey: invariant(
    'one commit marker per database transaction, inserted with ON CONFLICT DO NOTHING',
  ),
  allocations_pkey: generatedId,
  allocations_transaction_id_fkey: reference('transaction_id', 'transaction', TRANSACTION_REFERENCED),
  allocations_invoice_id_fkey: reference('invoice_id', 'invoice', INVOICE_REFERENCED),
  allocations_kind_check: invariant("an allocation's kind follows its transaction"),
  allocations_amount_check: input('invalid_amount', 'amount', 'amount must be a positive integer of minor units.'),
  allocations_applied_within_amount: invariant('an allocation applies between 0 and its amount'),
  // 0022: orders, their payment summaries and records (O1-O5). Summaries and records are written by the database only
  // (settle_orders_commit), so their own rules are invariants; their foreign keys name what cannot be deleted.
  orders_pkey: generatedId,
  orders_external_id_key: conflict(
    'order_exists',
    'Another order already has this external_id; find it with GET /v1/orders?external_id=....',
  ),
  orders_account_id_fkey: reference('account_id', 'account', ACCOUNT_REFERENCED),
  orders_currency_check: input('invalid_currency', 'currency', 'currency must be a three-letter ISO 4217 code.'),
  orders_total_check: input('invalid_amount', 'total', 'total must not be negative.'),
  transactions_order_id_fkey: reference('order_id', 'order', ORDER_REFERENCED),
  order_payment_summaries_pkey: invariant(
    "a summary's id is made from its first transaction's, one per order and payment method",
  ),
  order_payment_summaries_order_id_fkey: reference('order_id', 'order', ORDER_REFERENCED),
  order_payment_summaries_payment_method_id_fkey: reference(
    'payment_method_id',
    'payment method',
    PAYMENT_METHOD_REFERENCED,
  ),
  order_payment_summaries_one_per_method: invariant(
    'one summary per order and payment method, created with ON CONFLICT DO NOTHING',
  ),
  order_payment_records_pkey: invariant(
    "a record's id is made from its gateway attempt's or transaction's, written by upsert",
  ),
  order_payment_records_summary_id_fkey: reference('summary_id', 'payment summary', {
    code: 'payment_summary_in_use',
    message: 'Payment records point to this payment summary; it cannot be deleted.',
  }),
  order_payment_records_transaction_id_fkey: reference('transaction_id', 'transaction', TRANSACTION_REFERENCED),
  order_payment_records_attempt_id_fkey: reference('attempt_id', 'gateway attempt', {
    code: 'gateway_attempt_in_use',
    message: 'Order payment records point to this gateway attempt; it cannot be deleted.',
  }),
  order_payment_records_kind_check: invariant("a payment record's kind is authorization, payment or refund"),
  order_payment_records_amount_check: invariant("a payment record's amount is never negative"),
  order_payment_records_status_check: invariant(
    "a payment record's status is draft, pending, processed, canceled or failed",
  ),
  order_payment_records_processing_mode_check: invariant("a payment record's processing_mode is external or platform"),
  // order_requests: written once per Idempotency-Key in the tx1 of an ensure funds or refunds (app/order-servicing.ts),
  // after reading it under the key's lock, with the kind of its own route.
  order_requests_pkey: invariant(
    "one order request per Idempotency-Key, read under the key's lock before it is written",
  ),
  order_requests_order_id_fkey: reference('order_id', 'order', ORDER_REFERENCED),
  order_requests_kind_check: invariant("an order request's kind is capture or refund"),
  // 0023: console users and their sessions (X3). The app lower-cases and checks an email and a role before writing
  // (app/users.ts), so the checks answer what the app would; a session's token is random, so its digest never repeats.
  users_pkey: generatedId,
  users_email_key: conflict('user_exists', 'A console user with this email already exists.'),
  users_email_check: input('invalid_email', 'email', 'email must be an email address (name@domain), in lower case.'),
  users_role_check: oneOf('role', 'admin, operator, viewer'),
  sessions_pkey: generatedId,
  sessions_token_digest_key: invariant('session tokens are 32 random bytes, so no two sessions share a digest'),
  sessions_user_id_fkey: reference('user_id', 'user', {
    code: 'user_in_use',
    message: 'Sessions point to this user; it cannot be deleted (disable it instead).',
  }),
} as const satisfies Record<string, ConstraintRule>;

export type ConstraintName = keyof typeof CONSTRAINTS;

/**
 * Rules a trigger function checks (migration 0020) because they span rows, raised as a check_violation that names
 * the rule as its constraint. They are not constraints of the catalogue, so they live apart from CONSTRAINTS;
 * test/store/constraint-errors.test.ts provokes each.
 */
export const TRIGGER_RULES = {
  allocations_within_amount: input(
    'allocation_exceeds_amount',
    'amount',
    "The allocations of a transaction cannot add up to more than the transaction's amount.",
  ),
  allocations_currency: input(
    'currency_mismatch',
    'invoice_id',
    "A transaction can only be allocated to an invoice in the transaction's currency.",
  ),
  allocations_invoice_void: conflict('invoice_void', 'The invoice is void; nothing can be allocated to it.'),
  invoices_write_off_within_balance: input(
    'write_off_exceeds_balance_due',
    'amount',
    "A write-off cannot exceed the invoice's balance due.",
  ),
} as const satisfies Record<string, ConstraintRule>;

export type TriggerRuleName = keyof typeof TRIGGER_RULES;

/** Unique indexes that identify a gateway object (an event, a payment, a refund, ...): two writers recorded the same one. */
export const GATEWAY_OBJECT_CONSTRAINTS: readonly ConstraintName[] = Object.freeze([
  'webhook_events_one_per_event',
  'disputes_one_per_gateway_dispute',
  'transactions_one_charge_per_payment_intent',
  'transactions_one_per_refund',
  'transactions_one_per_payout',
  'transactions_one_adjustment_per_balance_transaction',
]);

/** What the database said about a violated constraint (pg's DatabaseError and PGlite's error both carry these). */
export interface ConstraintViolation {
  /** SQLSTATE: 23505 unique, 23514 check, 23503 foreign key, 23502 not null, ... */
  sqlState: string;
  constraint: string | undefined;
  table: string | undefined;
  column: string | undefined;
  /** A foreign key violated by deleting (or re-keying) the row others name, rather than by naming a missing one. */
  referencedSide: boolean;
}

function field(error: object, name: string): string | undefined {
  const value = (error as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The integrity violation (SQLSTATE class 23) in `error` or in its causes (a translated error keeps the driver's
 * as its cause), or undefined. Both directions of a foreign key report the same constraint name; only the message
 * tells them apart ("update or delete on table ..." on the referenced side).
 */
export function constraintViolation(error: unknown): ConstraintViolation | undefined {
  for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth += 1) {
    const sqlState = field(current, 'code');
    if (sqlState !== undefined && /^23[0-9A-Z]{3}$/.test(sqlState) && field(current, 'routine') !== undefined) {
      const message = field(current, 'message') ?? '';
      return {
        sqlState,
        constraint: field(current, 'constraint'),
        table: field(current, 'table'),
        column: field(current, 'column'),
        referencedSide: sqlState === '23503' && /^update or delete on table/.test(message),
      };
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether `error` (or its cause) is a violation of one of the named constraints. */
export function isViolationOf(error: unknown, names: readonly ConstraintName[]): boolean {
  const constraint = constraintViolation(error)?.constraint;
  return constraint !== undefined && (names as readonly string[]).includes(constraint);
}

export const INTERNAL_MESSAGE = 'Something went wrong on our side; the details are in the server log.';

function ruleOf(constraint: string | undefined): ConstraintRule | undefined {
  if (constraint === undefined) return undefined;
  if (Object.hasOwn(CONSTRAINTS, constraint)) return CONSTRAINTS[constraint as ConstraintName];
  return Object.hasOwn(TRIGGER_RULES, constraint) ? TRIGGER_RULES[constraint as TriggerRuleName] : undefined;
}

/** The domain error a violation means; a SettleError `internal` for an invariant, an unknown constraint or a NOT NULL. */
export function constraintError(error: unknown): SettleError | undefined {
  const violation = constraintViolation(error);
  if (!violation) return undefined;
  const rule = ruleOf(violation.constraint);
  const logged = {
    constraint: violation.constraint ?? null,
    table: violation.table ?? null,
    sql_state: violation.sqlState,
  };
  const options = { cause: error };
  switch (rule?.type) {
    case 'input':
      return new SettleError('invalid_request', rule.code, rule.message, { ...options, param: rule.param });
    case 'conflict':
      return new SettleError('conflict', rule.code, rule.message, options);
    case 'reference':
      return violation.referencedSide
        ? new SettleError('conflict', rule.whenDeleted.code, rule.whenDeleted.message, options)
        : new SettleError('not_found', 'resource_missing', `No ${rule.what} with the id given in ${rule.param}.`, {
            ...options,
            param: rule.param,
          });
    case 'invariant':
      return new SettleError('internal', 'internal_error', INTERNAL_MESSAGE, {
        ...options,
        details: { ...logged, rule: rule.rule },
      });
    case undefined:
      return new SettleError('internal', 'internal_error', INTERNAL_MESSAGE, {
        ...options,
        details: {
          ...logged,
          column: violation.column ?? null,
          rule: violation.constraint === undefined ? 'not null or unnamed' : 'unknown constraint',
        },
      });
  }
}

/** `error` as its domain error when it is a constraint violation; any other error unchanged. */
export function translateDatabaseError(error: unknown): unknown {
  return constraintError(error) ?? error;
}
