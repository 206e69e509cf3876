// Errors by constraint name (store/constraint-errors.ts), on PGlite and on PostgreSQL: the table lists exactly the
// constraints a migrated database has; each one is provoked for real and gives its domain error; a foreign key
// violated from the referenced side is a 409; the command runner translates; an unknown constraint is a 500 whose
// name is logged and never sent.
import { Writable } from 'node:stream';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRunner } from '../../src/app/command-runner.js';
import { SettleError } from '../../src/domain/errors.js';
import { buildApp } from '../../src/http/app.js';
import {
  CONSTRAINTS,
  TRIGGER_RULES,
  type TriggerRuleName,
  type ConstraintName,
  constraintError,
  constraintViolation,
  INTERNAL_MESSAGE,
  isViolationOf,
} from '../../src/store/constraint-errors.js';
import type { Database } from '../../src/store/schema.js';
import { ADMIN_KEY, describeEachDatabase } from '../support/harness.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js';

/** Two valid rows per table (row 1 is what a unique constraint's duplicate copies; row 2 is what gets broken). */
const SEED = [
  `insert into gateways (id, name, provider, mode, is_default, settlement_currency, rate_limit_per_second, is_emulator)
     values ('gw_1', 'one', 'stripe', 'test', true, 'USD', 25, true), ('gw_2', 'two', 'stripe', 'test', false, 'USD', 25, false)`,
  `insert into accounts (id, name) values ('acc_1', 'One'), ('acc_2', 'Two')`,
  `insert into contacts (id, account_id, last_name) values ('con_1', 'acc_1', 'One'), ('con_2', null, 'Two')`,
  `insert into payment_methods (id, gateway_token, type, status, account_id, contact_id)
     values ('pm_1', 'pm_card_visa', 'card', 'valid', 'acc_1', 'con_1'), ('pm_2', 'pm_card_visa', 'card', 'valid', null, null)`,
  `insert into transactions (id, record_type, transaction_type, status, amount, currency, source, payment_method_id, gateway_payment_intent, gateway_refund, gateway_payout)
     values ('trx_1', 'charge', 'normal', 'open', 1000, 'USD', 'api', 'pm_1', 'pi_1', 're_1', 'po_1'),
            ('trx_2', 'charge', 'normal', 'open', 1000, 'USD', 'api', null, null, null, null)`,
  `insert into transactions (id, record_type, transaction_type, status, amount, currency, source, reattempt_of_id, gateway_balance_transaction)
     values ('trx_3', 'charge', 'normal', 'open', 1000, 'USD', 'api', 'trx_1', null),
            ('trx_4', 'adjustment', 'normal', 'open', 1000, 'USD', 'api', null, 'txn_1')`,
  `insert into transaction_history (transaction_id, actor, action, changes) values ('trx_1', 'test', 'created', '{}')`,
  `insert into settings (key, value) values ('s_1', '1'), ('s_2', '2')`,
  `insert into api_keys (id, name, digest, scopes) values ('key_1', 'one', 'd_1', '[]'), ('key_2', 'two', 'd_2', '[]')`,
  `insert into idempotency_keys (api_key_id, key, request_method, request_path, request_hash, state)
     values ('key_1', 'a', 'POST', '/x', 'h', 'in_progress'), ('key_1', 'b', 'POST', '/x', 'h', 'in_progress')`,
  `insert into gateway_logs (id, gateway_id, interaction_type, interaction_status, result_code, latency_ms)
     values ('gl_1', 'gw_1', 'capture', 'success', 'success', 5), ('gl_2', 'gw_1', 'capture', 'success', 'success', 5)`,
  `insert into gateway_attempts (id, transaction_id, gateway_id, action, idempotency_key, request, state, previous_status, revert_status, response_status, created_at, updated_at, resolved_at)
     values ('ga_1', 'trx_1', 'gw_1', 'charge', 'ik_1', '{}', 'in_flight', 'open', 'open', 200, now(), now(), null),
            ('ga_2', 'trx_2', 'gw_1', 'charge', 'ik_2', '{}', 'succeeded', 'open', 'open', 200, now(), now(), now())`,
  `insert into webhook_events (id, gateway_id, event_id, type, livemode, event_created_at, payload, status, received_at, last_received_at, process_after, updated_at)
     values ('we_1', 'gw_1', 'evt_1', 'charge.succeeded', false, now(), '{}', 'pending', now(), now(), now(), now()),
            ('we_2', 'gw_1', 'evt_2', 'charge.succeeded', false, now(), '{}', 'pending', now(), now(), now(), now())`,
  `insert into disputes (id, gateway_id, gateway_dispute, transaction_id, status, reason, amount, currency, gateway_created_at, created_at, updated_at)
     values ('dp_1', 'gw_1', 'du_1', 'trx_1', 'needs_response', 'fraudulent', 100, 'usd', now(), now(), now()),
            ('dp_2', 'gw_1', 'du_2', 'trx_1', 'needs_response', 'fraudulent', 100, 'usd', now(), now(), now())`,
  `insert into job_runs (id, job, trigger, slot, status, started_by, started_at, heartbeat_at)
     values ('jr_1', 'daily_charges', 'schedule', 's1', 'running', 'w', now(), now()),
            ('jr_2', 'daily_charges', 'schedule', 's2', 'succeeded', 'w', now(), now())`,
  `insert into job_claims (run_id, transaction_id, worker, state, expires_at)
     values ('jr_1', 'trx_1', 'w', 'claimed', now()), ('jr_1', 'trx_2', 'w', 'claimed', now())`,
  `insert into rate_limit_grants (gateway_id, granted_at, tokens) values ('gw_1', now(), 1), ('gw_1', now(), 1)`,
  `insert into audit_events (id, actor, action, object_type, object_id, created_at)
     values ('au_1', 'cli', 'created', 'gateway', 'gw_1', now()), ('au_2', 'cli', 'created', 'gateway', 'gw_2', now())`,
  `insert into gateway_customers (gateway_id, owner_type, owner_id, customer_id, created_at)
     values ('gw_1', 'account', 'acc_1', 'cus_1', now()), ('gw_1', 'account', 'acc_2', 'cus_2', now())`,
  `insert into sync_runs (id, gateway_id, since, objects, status, trigger, started_by, progress, created_at, updated_at)
     values ('syn_1', 'gw_1', now(), '[]', 'running', 'api', 'cli', '{}', now(), now()),
            ('syn_2', 'gw_1', now(), '[]', 'completed', 'api', 'cli', '{}', now(), now())`,
  `insert into gateway_snapshots (gateway_id, object_id, created, event_id, applied_at)
     values ('gw_1', 'pi_1', now(), 'evt_1', now()), ('gw_1', 'pi_2', now(), 'evt_2', now())`,
  `insert into payout_reconciliations (transaction_id, gateway_id, automatic, method, gateway_reconciliation_status, reconciliation_status, created_at, updated_at)
     values ('trx_1', 'gw_1', true, 'standard', 'completed', 'pending', now(), now()),
            ('trx_2', 'gw_1', true, 'standard', 'completed', 'pending', now(), now())`,
  `insert into payout_items (id, payout_transaction_id, gateway_balance_transaction, type, reporting_category, amount, fee, net, currency, recorded_kind, transaction_id, unmatched_reason, gateway_created_at, created_at, updated_at)
     values ('rcn_1', 'trx_1', 'txn_a', 'charge', 'charge', 100, 3, 97, 'USD', true, 'trx_3', null, now(), now(), now()),
            ('rcn_2', 'trx_1', 'txn_b', 'stripe_fee', 'fee', -5, 0, -5, 'USD', false, null, 'not recorded', now(), now(), now())`,
  `insert into connected_accounts (id, gateway_id, gateway_account, created_at, updated_at)
     values ('cac_1', 'gw_1', 'acct_1', now(), now()), ('cac_2', 'gw_1', 'acct_2', now(), now())`,
  `insert into balance_snapshots (id, gateway_id, currency, taken_at, gateway_available, gateway_pending, ledger_available, ledger_pending, difference, explained, unexplained, flagged, items)
     values ('bsn_1', 'gw_1', 'USD', now(), 0, 0, 0, 0, 0, 0, 0, false, '[]'),
            ('bsn_2', 'gw_1', 'USD', now(), 5, 0, 0, 0, 5, 0, 5, true, '[]')`,
  `insert into parents (id, type, external_id) values ('par_1', 'deal', 'e1'), ('par_2', 'deal', 'e2')`,
  `insert into invoices (id, number, currency, total, status)
     values ('inv_1', 'N1', 'USD', 1000, 'open'), ('inv_2', 'N2', 'EUR', 1000, 'open'), ('inv_3', 'N3', 'USD', 1000, 'void')`,
  `insert into payment_schedules (id, amount, currency, interval, start_date)
     values ('sch_1', 100, 'USD', 'month', '2026-01-01'), ('sch_2', 100, 'USD', 'month', '2026-01-01')`,
  `insert into allocations (id, transaction_id, invoice_id, kind, amount)
     values ('alc_1', 'trx_1', 'inv_1', 'payment', 100), ('alc_2', 'trx_2', 'inv_1', 'payment', 100)`,
  `insert into totals (owner_id, currency) values ('x_1', 'USD'), ('x_2', 'USD')`,
  // 0022: nothing names ord_2 or ops_2, so re-keying them breaks only the key.
  `insert into orders (id, external_id, currency, total) values ('ord_1', 'o1', 'USD', 1000), ('ord_2', 'o2', 'USD', 1000)`,
  `insert into order_payment_summaries (id, order_id, payment_method_id, currency)
     values ('ops_1', 'ord_1', 'pm_1', 'USD'), ('ops_2', 'ord_1', 'pm_2', 'USD')`,
  `insert into order_payment_records (id, summary_id, order_id, transaction_id, attempt_id, kind, amount, status, processing_mode)
     values ('opr_1', 'ops_1', 'ord_1', 'trx_1', 'ga_1', 'payment', 100, 'processed', 'platform'),
            ('opr_2', 'ops_1', 'ord_1', 'trx_1', null, 'payment', 100, 'processed', 'external')`,
  `insert into order_requests (api_key_id, idempotency_key, order_id, kind, attempt_ids, amounts)
     values ('key_1', 'k1', 'ord_1', 'capture', '{ga_1}', '{100}'), ('key_1', 'k2', 'ord_1', 'refund', '{ga_2}', '{100}')`,
  // 0023: nothing names usr_2 or ses_2.
  `insert into users (id, email, role, password_hash, created_at, updated_at)
     values ('usr_1', 'one@example.com', 'admin', 'h', now(), now()), ('usr_2', 'two@example.com', 'viewer', 'h', now(), now())`,
  `insert into sessions (id, token_digest, csrf_digest, user_id, created_at, last_seen_at, expires_at)
     values ('ses_1', 't_1', 'c_1', 'usr_1', now(), now(), now()), ('ses_2', 't_2', 'c_2', 'usr_1', now(), now(), now())`,
];

const trx = (assignments: string) => `update transactions set ${assignments} where id = 'trx_2'`;
const pm = (assignments: string) => `update payment_methods set ${assignments} where id = 'pm_2'`;
const gw = (assignments: string, id = 'gw_2') => `update gateways set ${assignments} where id = '${id}'`;
const ga = (assignments: string) => `update gateway_attempts set ${assignments} where id = 'ga_2'`;
const we = (assignments: string) => `update webhook_events set ${assignments} where id = 'we_2'`;
const dp = (assignments: string) => `update disputes set ${assignments} where id = 'dp_2'`;
const jr = (assignments: string) => `update job_runs set ${assignments} where id = 'jr_2'`;
const gl = (assignments: string) => `update gateway_logs set ${assignments} where id = 'gl_2'`;

/** One statement per constraint that breaks it, and only it, on the seeded database. */
const PROVOKE: Record<ConstraintName, string> = {
  settings_pkey: `update settings set key = 's_1' where key = 's_2'`,
  api_keys_pkey: `update api_keys set id = 'key_1' where id = 'key_2'`,
  api_keys_digest_key: `update api_keys set digest = 'd_1' where id = 'key_2'`,
  idempotency_keys_pkey: `update idempotency_keys set key = 'a' where key = 'b'`,
  idempotency_keys_state_check: `update idempotency_keys set state = 'bogus' where key = 'b'`,
  accounts_pkey: `update accounts set id = 'acc_1' where id = 'acc_2'`,
  accounts_default_payment_method_fk: `update accounts set default_payment_method_id = 'pm_missing' where id = 'acc_2'`,
  contacts_pkey: `update contacts set id = 'con_1' where id = 'con_2'`,
  contacts_account_id_fkey: `update contacts set account_id = 'acc_missing' where id = 'con_2'`,
  contacts_default_payment_method_fk: `update contacts set default_payment_method_id = 'pm_missing' where id = 'con_2'`,
  payment_methods_pkey: pm(`id = 'pm_1'`),
  payment_methods_type_check: pm(`type = 'bogus'`),
  payment_methods_status_check: pm(`status = 'bogus'`),
  payment_methods_last4_check: pm(`last4 = '12'`),
  payment_methods_exp_month_check: pm(`exp_month = 13`),
  payment_methods_exp_year_check: pm(`exp_year = 1800`),
  payment_methods_account_id_fkey: pm(`account_id = 'acc_missing'`),
  payment_methods_contact_id_fkey: pm(`contact_id = 'con_missing'`),
  transactions_pkey: trx(`id = 'trx_1'`),
  transactions_record_type_check: trx(`record_type = 'bogus'`),
  transactions_transaction_type_check: trx(`transaction_type = 'bogus'`),
  transactions_status_check: trx(`status = 'bogus'`),
  transactions_payment_status_check: trx(`status = 'completed', payment_status = 'bogus'`),
  transactions_currency_check: trx(`currency = 'usd'`),
  transactions_reattempt_number_check: trx(`reattempt_number = -1`),
  transactions_uncaptured_method_check: trx(`uncaptured_method = 'bogus'`),
  transactions_source_check: trx(`source = 'bogus'`),
  transactions_processing_mode_check: trx(`processing_mode = 'bogus'`),
  transactions_balance_status_check: trx(`balance_status = 'bogus'`),
  transactions_payment_status_iff_completed: trx(`status = 'completed'`),
  transactions_amounts_non_negative: trx(`refunded_amount = -1`),
  transactions_captured_le_authorized: trx(`captured_amount = 5`),
  transactions_refunded_le_captured: trx(`refunded_amount = 5`),
  transactions_refund_sign: trx(`amount = -5`),
  transactions_refund_has_original: trx(`transaction_type = 'refund', amount = -5`),
  transactions_write_off_non_gateway: trx(`transaction_type = 'write_off'`),
  transactions_payment_method_id_fkey: trx(`payment_method_id = 'pm_missing'`),
  transactions_account_id_fkey: trx(`account_id = 'acc_missing'`),
  transactions_contact_id_fkey: trx(`contact_id = 'con_missing'`),
  transactions_original_transaction_id_fkey: trx(`original_transaction_id = 'trx_missing'`),
  transactions_reattempt_of_id_fkey: trx(`reattempt_of_id = 'trx_missing'`),
  transaction_history_pkey: `insert into transaction_history (id, transaction_id, actor, action, changes) overriding system value
    select min(id), 'trx_1', 'test', 'again', '{}'::jsonb from transaction_history`,
  gateways_pkey: gw(`id = 'gw_1'`),
  gateways_provider_check: gw(`provider = 'bogus'`),
  gateways_mode_check: gw(`mode = 'bogus'`),
  gateways_settlement_currency_check: gw(`settlement_currency = 'usd'`),
  gateways_rate_limit_per_second_check: gw(`rate_limit_per_second = 0`),
  gateways_secret_key_env_check: gw(`secret_key_env = 'lower'`),
  gateways_webhook_secret_env_check: gw(`webhook_secret_env = 'lower'`),
  gateways_api_base_check: gw(`api_base = 'ftp://example.com'`),
  gateways_live_https: gw(`mode = 'live', api_base = 'http://example.com'`),
  gateways_emulator_test_mode: gw(`mode = 'live'`, 'gw_1'),
  gateways_one_default: gw(`is_default = true`),
  gateways_one_emulator: gw(`is_emulator = true`),
  gateway_logs_pkey: gl(`id = 'gl_1'`),
  gateway_logs_interaction_type_check: gl(`interaction_type = 'bogus'`),
  gateway_logs_interaction_status_check: gl(`interaction_status = 'bogus'`),
  gateway_logs_result_code_check: gl(`result_code = 'bogus'`),
  gateway_logs_latency_ms_check: gl(`latency_ms = -1`),
  gateway_attempts_pkey: ga(`id = 'ga_1'`),
  gateway_attempts_idempotency_key_key: ga(`idempotency_key = 'ik_1'`),
  gateway_attempts_action_check: ga(`action = 'bogus'`),
  gateway_attempts_state_check: ga(`state = 'bogus'`),
  gateway_attempts_recovery_tries_check: ga(`recovery_tries = -1`),
  gateway_attempts_revert_status_check: ga(`revert_status = 'bogus'`),
  gateway_attempts_refund_has_charge: ga(`action = 'refund'`),
  gateway_attempts_resolved: ga(`resolved_at = null`),
  gateway_attempts_transaction_id_fkey: ga(`transaction_id = 'trx_missing'`),
  gateway_attempts_charge_transaction_id_fkey: ga(`charge_transaction_id = 'trx_missing'`),
  gateway_attempts_gateway_id_fkey: ga(`gateway_id = 'gw_missing'`),
  gateway_attempts_one_unresolved: ga(`transaction_id = 'trx_1', state = 'in_flight', resolved_at = null`),
  webhook_events_pkey: we(`id = 'we_1'`),
  webhook_events_one_per_event: we(`event_id = 'evt_1'`),
  webhook_events_status_check: we(`status = 'bogus'`),
  webhook_events_attempts_check: we(`attempts = -1`),
  webhook_events_deliveries_check: we(`deliveries = 0`),
  webhook_events_failed_has_error: we(`status = 'failed'`),
  webhook_events_gateway_id_fkey: we(`gateway_id = 'gw_missing'`),
  disputes_pkey: dp(`id = 'dp_1'`),
  disputes_one_per_gateway_dispute: dp(`gateway_dispute = 'du_1'`),
  disputes_status_check: dp(`status = 'bogus'`),
  disputes_amount_check: dp(`amount = -1`),
  disputes_amount_withdrawn_check: dp(`amount_withdrawn = -1`),
  disputes_amount_reinstated_check: dp(`amount_reinstated = -1`),
  disputes_fee_check: dp(`fee = -1`),
  disputes_fee_reinstated_check: dp(`fee_reinstated = -1`),
  disputes_gateway_id_fkey: dp(`gateway_id = 'gw_missing'`),
  disputes_transaction_id_fkey: dp(`transaction_id = 'trx_missing'`),
  transactions_disputed_amount_check: trx(`disputed_amount = -1`),
  transactions_one_charge_per_payment_intent: trx(`gateway_payment_intent = 'pi_1'`),
  transactions_one_per_refund: trx(`gateway_refund = 're_1'`),
  transactions_one_per_payout: trx(`gateway_payout = 'po_1'`),
  transactions_one_adjustment_per_balance_transaction: trx(
    `record_type = 'adjustment', gateway_balance_transaction = 'txn_1'`,
  ),
  job_runs_pkey: jr(`id = 'jr_1'`),
  job_runs_trigger_check: jr(`trigger = 'bogus'`),
  job_runs_status_check: jr(`status = 'bogus'`),
  job_runs_total_check: jr(`total = -1`),
  job_runs_picked_check: jr(`picked = -1`),
  job_runs_succeeded_check: jr(`succeeded = -1`),
  job_runs_failed_check: jr(`failed = -1`),
  job_runs_skipped_check: jr(`skipped = -1`),
  job_runs_error_count_check: jr(`error_count = -1`),
  job_runs_one_running: jr(`status = 'running'`),
  job_runs_slot: jr(`slot = 's1'`),
  job_claims_pkey: `update job_claims set transaction_id = 'trx_1' where transaction_id = 'trx_2'`,
  job_claims_state_check: `update job_claims set state = 'bogus' where transaction_id = 'trx_2'`,
  job_claims_run_id_fkey: `update job_claims set run_id = 'jr_missing' where transaction_id = 'trx_2'`,
  job_claims_transaction_id_fkey: `update job_claims set transaction_id = 'trx_missing' where transaction_id = 'trx_2'`,
  rate_limit_grants_pkey: `update rate_limit_grants set id = (select min(id) from rate_limit_grants) where id = (select max(id) from rate_limit_grants)`,
  rate_limit_grants_tokens_check: `update rate_limit_grants set tokens = 0`,
  transactions_one_reattempt: trx(`reattempt_of_id = 'trx_1'`),
  audit_events_pkey: `update audit_events set id = 'au_1' where id = 'au_2'`,
  gateway_customers_pkey: `update gateway_customers set owner_id = 'acc_1' where customer_id = 'cus_2'`,
  gateway_customers_one_per_customer: `update gateway_customers set customer_id = 'cus_1' where customer_id = 'cus_2'`,
  gateway_customers_owner_type_check: `update gateway_customers set owner_type = 'bogus' where customer_id = 'cus_2'`,
  gateway_customers_gateway_id_fkey: `update gateway_customers set gateway_id = 'gw_missing' where customer_id = 'cus_2'`,
  payment_methods_gateway_id_fkey: pm(`gateway_id = 'gw_missing'`),
  payment_methods_setup_status_check: pm(`setup_status = 'bogus'`),
  gateways_endpoint_rate_limit_per_second_check: gw(`endpoint_rate_limit_per_second = -1`),
  gateway_snapshots_pkey: `update gateway_snapshots set object_id = 'pi_1' where object_id = 'pi_2'`,
  gateway_snapshots_gateway_id_fkey: `update gateway_snapshots set gateway_id = 'gw_missing' where object_id = 'pi_2'`,
  sync_runs_pkey: `update sync_runs set id = 'syn_1' where id = 'syn_2'`,
  sync_runs_gateway_id_fkey: `update sync_runs set gateway_id = 'gw_missing' where id = 'syn_2'`,
  sync_runs_status_check: `update sync_runs set status = 'bogus' where id = 'syn_2'`,
  sync_runs_trigger_check: `update sync_runs set trigger = 'bogus' where id = 'syn_2'`,
  sync_runs_range_check: `update sync_runs set until = since - interval '1 day' where id = 'syn_2'`,
  sync_runs_pages_check: `update sync_runs set pages = -1 where id = 'syn_2'`,
  sync_runs_one_running: `update sync_runs set status = 'running' where id = 'syn_2'`,
  transactions_payout_id_fkey: trx(`payout_id = 'trx_missing'`),
  payout_reconciliations_pkey: `update payout_reconciliations set transaction_id = 'trx_1' where transaction_id = 'trx_2'`,
  payout_reconciliations_transaction_id_fkey: `update payout_reconciliations set transaction_id = 'trx_missing' where transaction_id = 'trx_2'`,
  payout_reconciliations_gateway_id_fkey: `update payout_reconciliations set gateway_id = 'gw_missing' where transaction_id = 'trx_2'`,
  payout_reconciliations_status_check: `update payout_reconciliations set reconciliation_status = 'bogus' where transaction_id = 'trx_2'`,
  payout_reconciliations_counts_check: `update payout_reconciliations set items_count = -1 where transaction_id = 'trx_2'`,
  payout_items_pkey: `update payout_items set id = 'rcn_1' where id = 'rcn_2'`,
  payout_items_payout_transaction_id_fkey: `update payout_items set payout_transaction_id = 'trx_missing' where id = 'rcn_2'`,
  payout_items_transaction_id_fkey: `update payout_items set transaction_id = 'trx_missing', unmatched_reason = null where id = 'rcn_2'`,
  payout_items_fee_transaction_id_fkey: `update payout_items set fee_transaction_id = 'trx_missing' where id = 'rcn_2'`,
  payout_items_matched_or_reason: `update payout_items set unmatched_reason = null where id = 'rcn_2'`,
  payout_items_one_per_balance_transaction: `update payout_items set gateway_balance_transaction = 'txn_a' where id = 'rcn_2'`,
  parents_pkey: `update parents set id = 'par_1' where id = 'par_2'`,
  parents_type_check: `update parents set type = 'Not A Word' where id = 'par_2'`,
  parents_account_id_fkey: `update parents set account_id = 'acc_missing' where id = 'par_2'`,
  parents_contact_id_fkey: `update parents set contact_id = 'con_missing' where id = 'par_2'`,
  parents_type_external_id: `update parents set external_id = 'e1' where id = 'par_2'`,
  invoices_pkey: `update invoices set id = 'inv_1' where id = 'inv_2'`,
  invoices_number_key: `update invoices set number = 'N1' where id = 'inv_2'`,
  invoices_account_id_fkey: `update invoices set account_id = 'acc_missing' where id = 'inv_2'`,
  invoices_contact_id_fkey: `update invoices set contact_id = 'con_missing' where id = 'inv_2'`,
  invoices_currency_check: `update invoices set currency = 'eur' where id = 'inv_2'`,
  invoices_total_check: `update invoices set total = -1 where id = 'inv_2'`,
  invoices_status_check: `update invoices set status = 'bogus' where id = 'inv_2'`,
  invoices_allocations_count_check: `update invoices set allocations_count = -1 where id = 'inv_2'`,
  invoices_allocated_non_negative: `update invoices set allocated_payments = -1 where id = 'inv_2'`,
  payment_schedules_pkey: `update payment_schedules set id = 'sch_1' where id = 'sch_2'`,
  payment_schedules_amount_check: `update payment_schedules set amount = 0 where id = 'sch_2'`,
  payment_schedules_currency_check: `update payment_schedules set currency = 'usd' where id = 'sch_2'`,
  payment_schedules_payment_method_id_fkey: `update payment_schedules set payment_method_id = 'pm_missing' where id = 'sch_2'`,
  payment_schedules_account_id_fkey: `update payment_schedules set account_id = 'acc_missing' where id = 'sch_2'`,
  payment_schedules_contact_id_fkey: `update payment_schedules set contact_id = 'con_missing' where id = 'sch_2'`,
  payment_schedules_parent_id_fkey: `update payment_schedules set parent_id = 'par_missing' where id = 'sch_2'`,
  payment_schedules_invoice_id_fkey: `update payment_schedules set invoice_id = 'inv_missing' where id = 'sch_2'`,
  payment_schedules_interval_check: `update payment_schedules set interval = 'day' where id = 'sch_2'`,
  payment_schedules_interval_count_check: `update payment_schedules set interval_count = 0 where id = 'sch_2'`,
  payment_schedules_occurrences_check: `update payment_schedules set occurrences = 0 where id = 'sch_2'`,
  payment_schedules_status_check: `update payment_schedules set status = 'bogus' where id = 'sch_2'`,
  transactions_parent_id_fkey: trx(`parent_id = 'par_missing'`),
  transactions_invoice_id_fkey: trx(`invoice_id = 'inv_missing'`),
  transactions_schedule_id_fkey: trx(`schedule_id = 'sch_missing', schedule_occurrence = 1`),
  transactions_schedule_occurrence_check: trx(`schedule_id = 'sch_1'`),
  transactions_one_per_schedule_occurrence: `update transactions set schedule_id = 'sch_1', schedule_occurrence = 1 where id in ('trx_1', 'trx_2')`,
  totals_pkey: `update totals set owner_id = 'x_1' where owner_id = 'x_2'`,
  totals_pending_commits_pkey: `insert into totals_pending_commits (txid) values (1), (1)`,
  allocations_pkey: `update allocations set id = 'alc_1' where id = 'alc_2'`,
  allocations_transaction_id_fkey: `update allocations set transaction_id = 'trx_missing' where id = 'alc_2'`,
  allocations_invoice_id_fkey: `update allocations set invoice_id = 'inv_missing' where id = 'alc_2'`,
  allocations_kind_check: `update allocations set kind = 'bogus' where id = 'alc_2'`,
  allocations_amount_check: `update allocations set amount = 0 where id = 'alc_2'`,
  allocations_applied_within_amount: `update allocations set applied_amount = 1000 where id = 'alc_2'`,
  connected_accounts_pkey: `update connected_accounts set id = 'cac_1' where id = 'cac_2'`,
  connected_accounts_gateway_id_fkey: `update connected_accounts set gateway_id = 'gw_missing' where id = 'cac_2'`,
  connected_accounts_one_per_gateway_account: `update connected_accounts set gateway_account = 'acct_1' where id = 'cac_2'`,
  connected_accounts_gateway_account_check: `update connected_accounts set gateway_account = 'bogus' where id = 'cac_2'`,
  transactions_connected_account_id_fkey: trx(`connected_account_id = 'cac_missing'`),
  transactions_source_transaction_id_fkey: trx(`source_transaction_id = 'trx_missing'`),
  transactions_reversal_has_original: trx(`transaction_type = 'reversal', amount = -5`),
  transactions_settlement_currency_check: trx(`settlement_currency = 'usd'`),
  balance_snapshots_pkey: `update balance_snapshots set id = 'bsn_1' where id = 'bsn_2'`,
  balance_snapshots_gateway_id_fkey: `update balance_snapshots set gateway_id = 'gw_missing' where id = 'bsn_2'`,
  balance_snapshots_flagged_check: `update balance_snapshots set flagged = false where id = 'bsn_2'`,
  orders_pkey: `update orders set id = 'ord_1' where id = 'ord_2'`,
  orders_external_id_key: `update orders set external_id = 'o1' where id = 'ord_2'`,
  orders_account_id_fkey: `update orders set account_id = 'acc_missing' where id = 'ord_2'`,
  orders_currency_check: `update orders set currency = 'usd' where id = 'ord_2'`,
  orders_total_check: `update orders set total = -1 where id = 'ord_2'`,
  transactions_order_id_fkey: trx(`order_id = 'ord_missing'`),
  order_payment_summaries_pkey: `update order_payment_summaries set id = 'ops_1' where id = 'ops_2'`,
  order_payment_summaries_order_id_fkey: `update order_payment_summaries set order_id = 'ord_missing' where id = 'ops_2'`,
  order_payment_summaries_payment_method_id_fkey: `update order_payment_summaries set payment_method_id = 'pm_missing' where id = 'ops_2'`,
  order_payment_summaries_one_per_method: `update order_payment_summaries set payment_method_id = 'pm_1' where id = 'ops_2'`,
  order_payment_records_pkey: `update order_payment_records set id = 'opr_1' where id = 'opr_2'`,
  order_payment_records_summary_id_fkey: `update order_payment_records set summary_id = 'ops_missing' where id = 'opr_2'`,
  order_payment_records_transaction_id_fkey: `update order_payment_records set transaction_id = 'trx_missing' where id = 'opr_2'`,
  order_payment_records_attempt_id_fkey: `update order_payment_records set attempt_id = 'ga_missing' where id = 'opr_2'`,
  order_payment_records_kind_check: `update order_payment_records set kind = 'bogus' where id = 'opr_2'`,
  order_payment_records_amount_check: `update order_payment_records set amount = -1 where id = 'opr_2'`,
  order_payment_records_status_check: `update order_payment_records set status = 'bogus' where id = 'opr_2'`,
  order_payment_records_processing_mode_check: `update order_payment_records set processing_mode = 'bogus' where id = 'opr_2'`,
  order_requests_pkey: `update order_requests set idempotency_key = 'k1' where idempotency_key = 'k2'`,
  order_requests_order_id_fkey: `update order_requests set order_id = 'ord_missing' where idempotency_key = 'k2'`,
  order_requests_kind_check: `update order_requests set kind = 'bogus' where idempotency_key = 'k2'`,
  users_pkey: `update users set id = 'usr_1' where id = 'usr_2'`,
  users_email_key: `update users set email = 'one@example.com' where id = 'usr_2'`,
  users_email_check: `update users set email = 'Two@example.com' where id = 'usr_2'`,
  users_role_check: `update users set role = 'owner' where id = 'usr_2'`,
  sessions_pkey: `update sessions set id = 'ses_1' where id = 'ses_2'`,
  sessions_token_digest_key: `update sessions set token_digest = 't_1' where id = 'ses_2'`,
  sessions_user_id_fkey: `update sessions set user_id = 'usr_missing' where id = 'ses_2'`,
};

/** Deleting a row that others name: the referenced side of a foreign key. */
const DELETE_REFERENCED: { statement: string; code: string }[] = [
  { statement: `delete from transactions where id = 'trx_1'`, code: 'transaction_has_dependents' },
  { statement: `delete from payment_methods where id = 'pm_1'`, code: 'payment_method_in_use' },
  { statement: `delete from accounts where id = 'acc_1'`, code: 'account_in_use' },
  { statement: `delete from contacts where id = 'con_1'`, code: 'contact_in_use' },
  { statement: `delete from gateways where id = 'gw_1'`, code: 'gateway_in_use' },
  { statement: `delete from orders where id = 'ord_1'`, code: 'order_in_use' },
  { statement: `delete from order_payment_summaries where id = 'ops_1'`, code: 'payment_summary_in_use' },
  { statement: `delete from gateway_attempts where id = 'ga_1'`, code: 'gateway_attempt_in_use' },
  { statement: `delete from users where id = 'usr_1'`, code: 'user_in_use' },
];

/** Runs a statement in a transaction that is rolled back, and returns what it threw. */
async function thrownBy(db: Kysely<Database>, statement: string): Promise<unknown> {
  const rollback = new Error('rollback');
  try {
    await db.transaction().execute(async (t) => {
      await sql.raw(statement).execute(t);
      throw rollback;
    });
  } catch (error) {
    if (error === rollback) return undefined;
    return error;
  }
  return undefined;
}

/** The constraints a migrated database has, by the name PostgreSQL reports (Kysely's own migration tables left out). */
async function constraintsOf(db: Kysely<Database>): Promise<string[]> {
  const named = await sql<{ name: string }>`
    select c.conname as name from pg_constraint c join pg_class t on t.oid = c.conrelid join pg_namespace n on n.oid = t.relnamespace
    where n.nspname = current_schema() and c.contype in ('c', 'f', 'p', 'u', 'x') and t.relname not like 'kysely_migration%'
    union
    select i.relname from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace
    where n.nspname = current_schema() and x.indisunique and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)`.execute(
    db,
  );
  return named.rows.map((r) => r.name).sort();
}

for (const kind of databaseKinds()) {
  describe(`constraint errors [${kind}]`, () => {
    let testDb: TestDatabase;
    let db: Kysely<Database>;
    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      db = testDb.database.db;
      for (const statement of SEED) await sql.raw(statement).execute(db);
    });
    afterAll(async () => {
      await testDb?.drop();
    });

    it('the table names exactly the constraints of a migrated database, and the test provokes each', async () => {
      const names = await constraintsOf(db);
      expect(Object.keys(CONSTRAINTS).sort()).toEqual(names);
      expect(Object.keys(PROVOKE).sort()).toEqual(names);
    });

    for (const name of Object.keys(PROVOKE) as ConstraintName[]) {
      it(`${name}: provoked for real, it is that constraint and its domain error`, async () => {
        const error = await thrownBy(db, PROVOKE[name]);
        expect(error, 'the statement broke nothing').toBeDefined();
        expect(constraintViolation(error)).toMatchObject({ constraint: name, referencedSide: false });
        const domain = constraintError(error);
        expect(domain).toBeInstanceOf(SettleError);
        const rule = CONSTRAINTS[name];
        switch (rule.type) {
          case 'input':
            expect(domain).toMatchObject({
              kind: 'invalid_request',
              code: rule.code,
              param: rule.param,
              message: rule.message,
            });
            break;
          case 'conflict':
            expect(domain).toMatchObject({ kind: 'conflict', code: rule.code, message: rule.message });
            break;
          case 'reference':
            expect(domain).toMatchObject({ kind: 'not_found', code: 'resource_missing', param: rule.param });
            break;
          case 'invariant':
            expect(domain).toMatchObject({
              kind: 'internal',
              code: 'internal_error',
              message: INTERNAL_MESSAGE,
              details: { constraint: name, rule: rule.rule },
            });
            expect(domain?.message).not.toContain(name);
            break;
        }
      });
    }

    it('deleting a row that others still name is a 409 of the referenced kind, not a missing reference', async () => {
      for (const { statement, code } of DELETE_REFERENCED) {
        const error = await thrownBy(db, statement);
        expect(constraintViolation(error), statement).toMatchObject({ sqlState: '23503', referencedSide: true });
        expect(constraintError(error), statement).toMatchObject({ kind: 'conflict', code });
      }
    });

    it('the constraint is told by its name: another unique violation is not a duplicate reattempt, through a translated error too', async () => {
      const pkey = await thrownBy(db, PROVOKE.transactions_pkey);
      expect(constraintViolation(pkey)?.sqlState).toBe('23505');
      expect(isViolationOf(pkey, ['transactions_one_reattempt'])).toBe(false);
      const reattempt = await thrownBy(db, PROVOKE.transactions_one_reattempt);
      expect(isViolationOf(reattempt, ['transactions_one_reattempt'])).toBe(true);
      expect(isViolationOf(constraintError(reattempt), ['transactions_one_reattempt'])).toBe(true);
      expect(constraintViolation(new Error('not a database error'))).toBeUndefined();
      expect(constraintError({ code: '23505' })).toBeUndefined(); // a code alone (no driver fields) is not a database error
    });

    /** One statement per rule a trigger checks (migration 0020) that breaks it on the seeded database. */
    const TRIGGERED: Record<TriggerRuleName, string> = {
      allocations_within_amount: `insert into allocations (id, transaction_id, invoice_id, kind, amount)
        values ('alc_9', 'trx_2', 'inv_1', 'payment', 901)`,
      allocations_currency: `insert into allocations (id, transaction_id, invoice_id, kind, amount)
        values ('alc_9', 'trx_2', 'inv_2', 'payment', 10)`,
      allocations_invoice_void: `insert into allocations (id, transaction_id, invoice_id, kind, amount)
        values ('alc_9', 'trx_2', 'inv_3', 'payment', 10)`,
      invoices_write_off_within_balance: `insert into transactions (id, record_type, transaction_type, status,
        payment_status, amount, currency, authorized_amount, captured_amount, non_gateway, source, invoice_id)
        values ('trx_9', 'charge', 'write_off', 'completed', 'captured', 1001, 'USD', 1001, 1001, true, 'api', 'inv_1')`,
    };
    for (const name of Object.keys(TRIGGERED) as TriggerRuleName[]) {
      it(`${name}: a rule a trigger checks, provoked for real, is its domain error`, async () => {
        // The void and write-off rules are checked at commit (settle_totals_commit), so the statement commits.
        const error = await db
          .transaction()
          .execute((t) => sql.raw(TRIGGERED[name]).execute(t))
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error, 'the statement broke nothing').toBeDefined();
        expect(constraintViolation(error)).toMatchObject({ constraint: name, sqlState: '23514' });
        const rule = TRIGGER_RULES[name];
        const domain = constraintError(error);
        if (rule.type === 'input') {
          expect(domain).toMatchObject({ kind: 'invalid_request', code: rule.code, param: rule.param });
        } else if (rule.type === 'conflict') {
          expect(domain).toMatchObject({ kind: 'conflict', code: rule.code });
        } else throw new Error(`unexpected rule type ${rule.type}`);
      });
    }
    it('the trigger rules are not catalogue constraints', () => {
      for (const name of Object.keys(TRIGGER_RULES)) expect(Object.hasOwn(CONSTRAINTS, name)).toBe(false);
    });

    it('NOT NULL and an unknown constraint are 500s that name what the database reported in the details only', async () => {
      const notNull = constraintError(await thrownBy(db, trx('currency = null')));
      expect(notNull).toMatchObject({
        kind: 'internal',
        code: 'internal_error',
        message: INTERNAL_MESSAGE,
        details: { constraint: null, column: 'currency', sql_state: '23502' },
      });
      await sql
        .raw(`create table test_unmapped (n integer constraint test_unmapped_positive check (n > 0))`)
        .execute(db);
      const unknown = constraintError(await thrownBy(db, `insert into test_unmapped values (0)`));
      expect(unknown).toMatchObject({
        kind: 'internal',
        code: 'internal_error',
        details: { constraint: 'test_unmapped_positive', rule: 'unknown constraint' },
      });
      expect(unknown?.message).not.toContain('test_unmapped');
      await sql.raw(`drop table test_unmapped`).execute(db);
    });

    it('the command runner throws the domain error: a CHECK that guards a field is a 400, with or without an Idempotency-Key', async () => {
      const runner = new CommandRunner(db);
      const work = async (t: Kysely<Database>) => {
        await sql.raw(pm('exp_month = 13')).execute(t);
        return { status: 200, body: {} };
      };
      const expected = { kind: 'invalid_request', code: 'invalid_exp_month', param: 'exp_month' };
      await expect(runner.run(undefined, work)).rejects.toMatchObject(expected);
      await expect(runner.runSingleStatement(undefined, work)).rejects.toMatchObject(expected);
      const idempotency = {
        apiKeyId: 'key_1',
        key: 'constraint-test',
        method: 'PATCH',
        path: '/v1/payment-methods/pm_2',
        body: {},
      };
      await expect(runner.run(idempotency, work)).rejects.toMatchObject(expected);
      await expect(
        runner.runAction(
          undefined,
          async () => ({ continuation: null }),
          async () => work(db),
        ),
      ).rejects.toMatchObject(expected);
    });
  });
}

describeEachDatabase(
  'constraint errors through the API',
  (get) => {
    it('an unknown constraint is a 500 whose name is in the log and not in the answer', async () => {
      const h = get();
      const lines: string[] = [];
      const stream = new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const app = await buildApp({
        deps: h.deps,
        bootstrapApiKey: ADMIN_KEY,
        apiRateLimitPerSecond: 0,
        logger: { level: 'error', stream },
      });
      try {
        await sql
          .raw(`alter table accounts add constraint test_unmapped_account_name check (name <> 'Refused Name')`)
          .execute(h.deps.db);
        const res = await app.inject({
          method: 'POST',
          url: '/v1/accounts',
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
          payload: { name: 'Refused Name' },
        });
        expect(res.statusCode).toBe(500);
        expect(res.json()).toEqual({ error: { type: 'api_error', code: 'internal_error', message: INTERNAL_MESSAGE } });
        expect(res.body).not.toContain('test_unmapped_account_name');
        expect(lines.join('\n')).toContain('test_unmapped_account_name');
      } finally {
        await sql.raw(`alter table accounts drop constraint test_unmapped_account_name`).execute(h.deps.db);
        await app.close();
      }
    });

    it('deleting, for data repair, a transaction whose gateway attempt points to it is a 409, not a 500', async () => {
      const h = get();
      const pm = await h.request('POST', '/v1/payment-methods', { gateway_token: 'pm_card_visa', type: 'card' });
      expect(pm.status).toBe(201);
      const created = await h.request('POST', '/v1/transactions', {
        amount: 1500,
        currency: 'USD',
        payment_method_id: pm.body.id,
      });
      expect(created.status).toBe(201);
      expect((await h.request('POST', `/v1/transactions/${created.body.id}/capture`)).status).toBe(200);
      expect((await h.request('PATCH', '/v1/settings', { validations_enabled: false })).status).toBe(200);
      try {
        const res = await h.request('DELETE', `/v1/transactions/${created.body.id}`);
        expect(res.status).toBe(409);
        expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'transaction_has_dependents' });
        expect((await h.request('GET', `/v1/transactions/${created.body.id}`)).status).toBe(200);
      } finally {
        await h.request('PATCH', '/v1/settings', { validations_enabled: true });
      }
    });
  },
  { emulator: true },
);
