// Migration 0022: orders, their payment summaries and payment records (issue 20: O1-O5). Frozen once released.
//
// - orders (ord_): what a storefront sold, with its currency and total. A transaction's order_id names one; orders
//   are a fifth kind of totals owner (settle_totals_entries and settle_totals_commit are replaced with order_id
//   added, and its last-payment and next-due indexes are created like 0020's).
// - order_payment_summaries (ops_): one per order and payment method, created at the commit that first puts a
//   transaction of that payment method on the order. Its amounts are sums over its records, moved by delta at
//   commit: authorized (processed authorizations), captured (processed payments), refunded (processed refunds),
//   pending (records in pending), available_to_capture (what processed authorizations can still capture: 0 once
//   captured in part, since Stripe releases the rest), refunding (refunds in pending). balance and
//   available_to_refund are generated from them.
// - order_payment_records (opr_): what the order system sees: payment authorizations, payments and refunds. They are
//   derived by the database from the transaction and its gateway attempts (settle_order_records_of), so every path
//   (API, webhooks, recovery, sync) makes them the same way:
//     * each gateway attempt Settle made on a transaction of the order is a `platform` record (authorize ->
//       authorization; charge, capture -> payment; refund -> refund), its gateway_ref_number the attempt's
//       idempotency key (Settle's own reference), its status the attempt's (in flight: pending; failed; reverted:
//       canceled) and, once it succeeded, the transaction's;
//     * what happened outside Settle is an `external` record: an external charge authorized at checkout
//       (`authorize` set: the PaymentIntent was manual-capture) is an authorization whose reference is the pi_ id;
//       one captured at checkout, or captured later at the gateway, a payment whose reference is the charge's
//       balance transaction (txn_, null until the gateway says it, e.g. charge.updated with automatic_async
//       capture); a refund Settle did not make, a refund with its re_ id.
//   A record's status follows its transaction (open, on_hold: draft; process, pending, pending_payment_intent,
//   needs_review: pending; completed: processed; canceled; failed), read from the state the transaction had before
//   a later Settle action put it in `process` (an authorization being captured is still processed).
//
// When: a statement-level trigger on transactions (rows with an order) and one on gateway_attempts (attempts of such
// transactions) stage the transaction ids in order_records_pending; at commit, settle_totals_commit (the deferred
// constraint trigger of 0020, replaced here) first runs settle_orders_commit: it re-derives the staged transactions'
// records, upserts them, and adds each summary's difference, locking the summaries in id order, before the totals
// rows and the invoices. One lock order for every writer: transactions, summaries, totals, invoices.
//
// A refund (or reversal, dispute) inserted with an original transaction on an order gets that order_id (a BEFORE
// INSERT trigger), so a refund made in the gateway's dashboard lands on the order too.
//
// order_requests: the gateway attempts an ensure-funds or ensure-refunds request (one Idempotency-Key) started, written
// in the database transaction that started them. A retry of that key after a crash answers from those attempts
// (recovered first) instead of planning the money again.
//
// Gateway log rows name the summary of their transaction (order_payment_summary_id), filled in when the row is
// written or when its transaction is put on an order.
import { type Kysely, sql } from 'kysely';
import { totalsCommitFunction, totalsEntriesFunction } from './0020-parents-and-totals.js';
import { runStatements } from './run-statements.js';

const OWNER_COLUMNS = ['account_id', 'contact_id', 'parent_id', 'invoice_id', 'order_id'] as const;
const PREFIXES: Record<(typeof OWNER_COLUMNS)[number], string> = {
  account_id: 'acc',
  contact_id: 'con',
  parent_id: 'par',
  invoice_id: 'inv',
  order_id: 'ord',
};
/** The summary amounts that are sums over records. */
const SUMMARY_FIELDS = [
  'authorized_amount',
  'captured_amount',
  'refunded_amount',
  'pending_amount',
  'available_to_capture',
  'refunding_amount',
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE orders (
      id text PRIMARY KEY,
      external_id text CONSTRAINT orders_external_id_key UNIQUE,
      account_id text CONSTRAINT orders_account_id_fkey REFERENCES accounts (id),
      currency text NOT NULL CONSTRAINT orders_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
      total int8 NOT NULL CONSTRAINT orders_total_check CHECK (total >= 0),
      description text,
      metadata jsonb NOT NULL DEFAULT '{}',
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX orders_account ON orders (account_id, id) WHERE account_id IS NOT NULL;
    CREATE TABLE order_payment_summaries (
      id text PRIMARY KEY,
      order_id text NOT NULL CONSTRAINT order_payment_summaries_order_id_fkey REFERENCES orders (id),
      payment_method_id text NOT NULL
        CONSTRAINT order_payment_summaries_payment_method_id_fkey REFERENCES payment_methods (id),
      currency text NOT NULL,
      authorized_amount int8 NOT NULL DEFAULT 0,
      captured_amount int8 NOT NULL DEFAULT 0,
      refunded_amount int8 NOT NULL DEFAULT 0,
      pending_amount int8 NOT NULL DEFAULT 0,
      available_to_capture int8 NOT NULL DEFAULT 0,
      refunding_amount int8 NOT NULL DEFAULT 0,
      balance int8 GENERATED ALWAYS AS (captured_amount - refunded_amount) STORED,
      available_to_refund int8 GENERATED ALWAYS AS (captured_amount - refunded_amount - refunding_amount) STORED,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT order_payment_summaries_one_per_method UNIQUE (order_id, payment_method_id)
    );
    CREATE TABLE order_payment_records (
      id text PRIMARY KEY,
      summary_id text NOT NULL CONSTRAINT order_payment_records_summary_id_fkey
        REFERENCES order_payment_summaries (id),
      order_id text NOT NULL,
      transaction_id text NOT NULL CONSTRAINT order_payment_records_transaction_id_fkey REFERENCES transactions (id),
      attempt_id text CONSTRAINT order_payment_records_attempt_id_fkey REFERENCES gateway_attempts (id),
      gateway_log_id text,
      kind text NOT NULL CONSTRAINT order_payment_records_kind_check
        CHECK (kind IN ('authorization', 'payment', 'refund')),
      amount int8 NOT NULL CONSTRAINT order_payment_records_amount_check CHECK (amount >= 0),
      status text NOT NULL CONSTRAINT order_payment_records_status_check
        CHECK (status IN ('draft', 'pending', 'processed', 'canceled', 'failed')),
      result_code text,
      processing_mode text NOT NULL CONSTRAINT order_payment_records_processing_mode_check
        CHECK (processing_mode IN ('external', 'platform')),
      gateway_ref_number text,
      payment_intent text,
      gateway_date timestamptz,
      capturable int8 NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX order_payment_records_summary ON order_payment_records (summary_id, created_at, id);
    CREATE INDEX order_payment_records_transaction ON order_payment_records (transaction_id);
    CREATE TABLE order_requests (
      api_key_id text NOT NULL,
      idempotency_key text NOT NULL,
      order_id text NOT NULL CONSTRAINT order_requests_order_id_fkey REFERENCES orders (id),
      kind text NOT NULL CONSTRAINT order_requests_kind_check CHECK (kind IN ('capture', 'refund')),
      attempt_ids text[] NOT NULL,
      amounts int8[] NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT order_requests_pkey PRIMARY KEY (api_key_id, idempotency_key)
    );
    CREATE UNLOGGED TABLE order_records_pending (
      txid int8 NOT NULL DEFAULT txid_current(),
      transaction_id text NOT NULL
    );
    CREATE INDEX order_records_pending_txid ON order_records_pending (txid);
    CREATE TYPE settle_order_sums AS (summary_id text, ${SUMMARY_FIELDS.map((f) => `${f} int8`).join(', ')});
    ALTER TABLE transactions ADD COLUMN order_id text CONSTRAINT transactions_order_id_fkey REFERENCES orders (id);
    CREATE INDEX transactions_order ON transactions (order_id, id) WHERE order_id IS NOT NULL;
    ALTER TABLE gateway_logs ADD COLUMN order_payment_summary_id text;
    CREATE INDEX gateway_logs_order_payment_summary ON gateway_logs (order_payment_summary_id, id)
      WHERE order_payment_summary_id IS NOT NULL;
    CREATE INDEX transactions_order_last_payment ON transactions (order_id, currency, processed_at)
      WHERE order_id IS NOT NULL AND status = 'completed' AND record_type = 'charge'
        AND transaction_type = 'normal' AND captured_amount > 0;
    CREATE INDEX transactions_order_next_due ON transactions (order_id, currency, due_date)
      WHERE order_id IS NOT NULL AND status = 'open' AND record_type = 'charge'
        AND transaction_type = 'normal' AND due_date IS NOT NULL;
  `,
  );
  for (const statement of FUNCTIONS) await sql.raw(statement).execute(db);
}

const orReplace = (statement: string) => statement.replace(/^CREATE FUNCTION/, 'CREATE OR REPLACE FUNCTION');

/** A record's status from its transaction's state (the state before `process`, while a Settle action runs). */
const FOLLOW = (t: string) => `CASE
  WHEN ${t} IN ('open', 'on_hold') THEN 'draft'
  WHEN ${t} IN ('process', 'pending', 'pending_payment_intent', 'needs_review') THEN 'pending'
  WHEN ${t} = 'completed' THEN 'processed'
  WHEN ${t} = 'canceled' THEN 'canceled'
  ELSE 'failed' END`;

const FUNCTIONS = [
  orReplace(totalsEntriesFunction(OWNER_COLUMNS)),
  // The records one transaction of an order has now, in its summary (the one of its payment method; a refund's: its
  // charge's), which settle_orders_commit has created first. Ids are derived from the attempt's or the transaction's
  // (time-ordered, so records sort by creation).
  `CREATE FUNCTION settle_order_records_of(t transactions) RETURNS SETOF order_payment_records
   LANGUAGE plpgsql STABLE AS $fn$
   DECLARE
     charge transactions;
     summary text;
     followed text;
     eff_state text;
     capturable_now int8;
   BEGIN
     IF t.order_id IS NULL OR t.record_type <> 'charge' THEN RETURN; END IF;
     eff_state := CASE WHEN t.status = 'process' THEN coalesce(t.previous_status, 'process') ELSE t.status END;
     followed := ${FOLLOW('eff_state')};
     IF t.transaction_type = 'normal' THEN
       IF t.non_gateway THEN RETURN; END IF;
       SELECT s.id INTO summary FROM order_payment_summaries s
         WHERE s.order_id = t.order_id AND s.payment_method_id = t.payment_method_id;
       IF summary IS NULL THEN RETURN; END IF;
       capturable_now := CASE WHEN t.status = 'completed' AND t.payment_status = 'authorized'
         THEN t.authorized_amount - t.captured_amount ELSE 0 END;
       RETURN QUERY
       SELECT 'opr_' || substr(a.id, 6), summary, t.order_id, t.id, a.id, l.id,
         CASE WHEN a.action = 'authorize' THEN 'authorization' ELSE 'payment' END,
         CASE
           WHEN a.action = 'authorize' AND t.authorized_amount > 0 THEN t.authorized_amount
           WHEN a.action = 'charge' AND t.captured_amount > 0 THEN t.captured_amount
           ELSE coalesce((a.request->>'amount')::int8, t.amount) END,
         x.status,
         coalesce(l.result_code, CASE x.status WHEN 'processed' THEN 'success' WHEN 'failed' THEN 'decline' END),
         'platform', a.idempotency_key, t.gateway_payment_intent, coalesce(l.gateway_date, a.resolved_at),
         CASE WHEN a.action = 'authorize' AND x.status = 'processed' THEN capturable_now ELSE 0 END::int8,
         a.created_at, a.created_at
       FROM gateway_attempts a
       CROSS JOIN LATERAL (SELECT CASE
           WHEN a.state IN ('in_flight', 'needs_review') THEN 'pending'
           WHEN a.state = 'failed' THEN 'failed'
           WHEN a.state = 'reverted' THEN 'canceled'
           WHEN a.action = 'capture' OR eff_state IN ('completed', 'process') THEN 'processed'
           ELSE followed END AS status) AS x
       LEFT JOIN LATERAL (SELECT g.id, g.result_code, g.gateway_date FROM gateway_logs g
         WHERE g.idempotency_key = a.idempotency_key ORDER BY g.id DESC LIMIT 1) AS l ON true
       WHERE a.transaction_id = t.id AND a.action IN ('authorize', 'charge', 'capture');
       IF t.processing_mode <> 'external' THEN RETURN; END IF;
       IF t.authorize AND NOT EXISTS (SELECT 1 FROM gateway_attempts a
           WHERE a.transaction_id = t.id AND a.action IN ('authorize', 'charge')) THEN
         RETURN QUERY SELECT 'opr_' || substr(t.id, 5) || 'a', summary, t.order_id, t.id, NULL::text, NULL::text,
           'authorization', CASE WHEN t.authorized_amount > 0 THEN t.authorized_amount ELSE t.amount END, followed,
           CASE followed WHEN 'processed' THEN 'success' WHEN 'failed' THEN 'decline' END, 'external',
           t.gateway_payment_intent, t.gateway_payment_intent, t.processed_at,
           CASE WHEN followed = 'processed' THEN capturable_now ELSE 0 END::int8, t.created_at, t.created_at;
       END IF;
       IF (NOT t.authorize OR t.captured_amount > 0) AND NOT EXISTS (SELECT 1 FROM gateway_attempts a
           WHERE a.transaction_id = t.id AND a.action IN ('charge', 'capture')) THEN
         RETURN QUERY SELECT 'opr_' || substr(t.id, 5) || 'p', summary, t.order_id, t.id, NULL::text, NULL::text,
           'payment', CASE WHEN t.captured_amount > 0 THEN t.captured_amount ELSE t.amount END,
           CASE WHEN t.authorize THEN 'processed' ELSE followed END,
           CASE WHEN t.authorize OR followed = 'processed' THEN 'success' WHEN followed = 'failed' THEN 'decline' END,
           'external', t.gateway_balance_transaction, t.gateway_payment_intent, t.processed_at, 0::int8, t.created_at,
           t.created_at;
       END IF;
     ELSIF t.transaction_type = 'refund' THEN
       SELECT * INTO charge FROM transactions o WHERE o.id = t.original_transaction_id;
       IF NOT FOUND OR charge.transaction_type <> 'normal' OR charge.non_gateway
         OR charge.order_id IS DISTINCT FROM t.order_id THEN
         RETURN;
       END IF;
       SELECT s.id INTO summary FROM order_payment_summaries s
         WHERE s.order_id = t.order_id AND s.payment_method_id = charge.payment_method_id;
       IF summary IS NULL THEN RETURN; END IF;
       RETURN QUERY
       SELECT 'opr_' || substr(a.id, 6), summary, t.order_id, t.id, a.id, l.id, 'refund', abs(t.amount), x.status,
         coalesce(l.result_code, CASE x.status WHEN 'processed' THEN 'success' WHEN 'failed' THEN 'decline' END),
         'platform', a.idempotency_key, coalesce(t.gateway_payment_intent, charge.gateway_payment_intent),
         coalesce(l.gateway_date, a.resolved_at), 0::int8, a.created_at, a.created_at
       FROM gateway_attempts a
       CROSS JOIN LATERAL (SELECT CASE
           WHEN a.state IN ('in_flight', 'needs_review') THEN 'pending'
           WHEN a.state = 'failed' THEN 'failed'
           WHEN a.state = 'reverted' THEN 'canceled'
           ELSE followed END AS status) AS x
       LEFT JOIN LATERAL (SELECT g.id, g.result_code, g.gateway_date FROM gateway_logs g
         WHERE g.idempotency_key = a.idempotency_key ORDER BY g.id DESC LIMIT 1) AS l ON true
       WHERE a.transaction_id = t.id AND a.action = 'refund';
       IF NOT t.non_gateway AND NOT EXISTS (SELECT 1 FROM gateway_attempts a
           WHERE a.transaction_id = t.id AND a.action = 'refund') THEN
         RETURN QUERY SELECT 'opr_' || substr(t.id, 5) || 'r', summary, t.order_id, t.id, NULL::text, NULL::text,
           'refund', abs(t.amount), followed,
           CASE followed WHEN 'processed' THEN 'success' WHEN 'failed' THEN 'decline' END, 'external',
           t.gateway_refund, coalesce(t.gateway_payment_intent, charge.gateway_payment_intent), t.processed_at,
           0::int8, t.created_at, t.created_at;
       END IF;
     END IF;
   END
   $fn$`,
  // At commit, before the totals (settle_totals_commit calls it first): the summaries of new (order, payment method)
  // pairs created, the staged transactions' records re-derived and upserted, and each summary's difference (its
  // records' sums after, less before) added with the summaries locked in id order. Gateway log rows of these
  // transactions that name no summary yet get theirs.
  `CREATE FUNCTION settle_orders_commit() RETURNS void LANGUAGE plpgsql AS $fn$
   DECLARE
     touched text[];
     wanted order_payment_records[];
     before_sums settle_order_sums[];
     after_sums settle_order_sums[];
   BEGIN
     WITH taken AS (DELETE FROM order_records_pending WHERE txid = txid_current() RETURNING transaction_id)
     SELECT array_agg(DISTINCT taken.transaction_id ORDER BY taken.transaction_id) INTO touched FROM taken;
     IF touched IS NULL THEN
       RETURN;
     END IF;
     INSERT INTO order_payment_summaries (id, order_id, payment_method_id, currency)
       SELECT DISTINCT ON (p.order_id, p.payment_method_id) 'ops_' || substr(p.first_id, 5), p.order_id,
         p.payment_method_id, o.currency
       FROM (
         SELECT t.id AS first_id, t.order_id, coalesce(c.payment_method_id, t.payment_method_id) AS payment_method_id
         FROM transactions t LEFT JOIN transactions c ON c.id = t.original_transaction_id
         WHERE t.id = ANY (touched) AND t.order_id IS NOT NULL AND t.record_type = 'charge' AND NOT t.non_gateway
           AND t.transaction_type IN ('normal', 'refund')
       ) AS p JOIN orders o ON o.id = p.order_id
       WHERE p.payment_method_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM order_payment_summaries x
         WHERE x.order_id = p.order_id AND x.payment_method_id = p.payment_method_id)
       ORDER BY p.order_id, p.payment_method_id, p.first_id
       ON CONFLICT (order_id, payment_method_id) DO NOTHING;
     wanted := ARRAY(SELECT r FROM transactions t CROSS JOIN LATERAL settle_order_records_of(t) AS r
       WHERE t.id = ANY (touched) ORDER BY r.id);
     before_sums := ARRAY(SELECT ROW(r.summary_id, ${SUMMARY_FIELDS.map((f) => sumOf(f, 'r')).join(', ')})::settle_order_sums
       FROM order_payment_records r WHERE r.transaction_id = ANY (touched) GROUP BY r.summary_id);
     INSERT INTO order_payment_records AS r SELECT * FROM unnest(wanted)
     ON CONFLICT (id) DO UPDATE SET gateway_log_id = excluded.gateway_log_id, amount = excluded.amount,
       status = excluded.status, result_code = excluded.result_code, gateway_ref_number = excluded.gateway_ref_number,
       payment_intent = excluded.payment_intent, gateway_date = excluded.gateway_date, capturable = excluded.capturable,
       updated_at = now()
     WHERE (r.gateway_log_id, r.amount, r.status, r.result_code, r.gateway_ref_number, r.payment_intent,
         r.gateway_date, r.capturable)
       IS DISTINCT FROM (excluded.gateway_log_id, excluded.amount, excluded.status, excluded.result_code,
         excluded.gateway_ref_number, excluded.payment_intent, excluded.gateway_date, excluded.capturable);
     after_sums := ARRAY(SELECT ROW(r.summary_id, ${SUMMARY_FIELDS.map((f) => sumOf(f, 'r')).join(', ')})::settle_order_sums
       FROM order_payment_records r WHERE r.transaction_id = ANY (touched) GROUP BY r.summary_id);
     PERFORM 1 FROM order_payment_summaries s
       WHERE s.id IN (SELECT a.summary_id FROM unnest(after_sums) AS a) ORDER BY s.id FOR NO KEY UPDATE;
     UPDATE order_payment_summaries s SET ${SUMMARY_FIELDS.map((f) => `${f} = s.${f} + d.${f}`).join(', ')},
       updated_at = now()
     FROM (
       SELECT c.summary_id, ${SUMMARY_FIELDS.map((f) => `sum(c.${f})::int8 AS ${f}`).join(', ')}
       FROM (
         SELECT * FROM unnest(after_sums)
         UNION ALL SELECT b.summary_id, ${SUMMARY_FIELDS.map((f) => `-b.${f}`).join(', ')} FROM unnest(before_sums) AS b
       ) AS c GROUP BY c.summary_id
     ) AS d
     WHERE s.id = d.summary_id
       AND (${SUMMARY_FIELDS.map((f) => `d.${f}`).join(', ')}) IS DISTINCT FROM (${SUMMARY_FIELDS.map(() => '0').join(', ')});
     UPDATE gateway_logs g SET order_payment_summary_id = s.id
     FROM transactions t
     LEFT JOIN transactions c ON c.id = t.original_transaction_id
     JOIN order_payment_summaries s ON s.order_id = t.order_id
       AND s.payment_method_id = coalesce(c.payment_method_id, t.payment_method_id)
     WHERE t.id = ANY (touched) AND g.transaction_id = t.id AND g.order_payment_summary_id IS NULL;
   END
   $fn$`,
  orReplace(totalsCommitFunction(OWNER_COLUMNS, PREFIXES, '\n     PERFORM settle_orders_commit();')),
  // Stages the transactions of orders a statement changed, or whose gateway attempts it added or moved, and arms the
  // commit trigger. One function for both tables (the branch not taken is never planned).
  `CREATE FUNCTION settle_stage_order_records() RETURNS trigger LANGUAGE plpgsql AS $fn$
   BEGIN
     IF TG_TABLE_NAME = 'transactions' THEN
       INSERT INTO order_records_pending (transaction_id) SELECT n.id FROM new_rows n WHERE n.order_id IS NOT NULL;
     ELSE
       INSERT INTO order_records_pending (transaction_id)
       SELECT n.transaction_id FROM new_rows n JOIN transactions t ON t.id = n.transaction_id
       WHERE t.order_id IS NOT NULL;
     END IF;
     IF FOUND THEN
       INSERT INTO totals_pending_commits (txid) VALUES (txid_current()) ON CONFLICT (txid) DO NOTHING;
     END IF;
     RETURN NULL;
   END
   $fn$`,
  ...['transactions', 'gateway_attempts'].flatMap((table) =>
    ['insert', 'update'].map(
      (event) => `CREATE TRIGGER ${table}_orders_${event} AFTER ${event.toUpperCase()} ON ${table}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION settle_stage_order_records()`,
    ),
  ),
  // A refund, reversal or dispute of a transaction on an order is on that order.
  `CREATE FUNCTION settle_transactions_inherit_order() RETURNS trigger LANGUAGE plpgsql AS $fn$
   BEGIN
     SELECT o.order_id INTO NEW.order_id FROM transactions o WHERE o.id = NEW.original_transaction_id;
     RETURN NEW;
   END
   $fn$`,
  `CREATE TRIGGER transactions_inherit_order BEFORE INSERT ON transactions
   FOR EACH ROW WHEN (NEW.original_transaction_id IS NOT NULL AND NEW.order_id IS NULL)
   EXECUTE FUNCTION settle_transactions_inherit_order()`,
  // A gateway log row of a transaction on an order names the transaction's summary (when it exists already).
  `CREATE FUNCTION settle_gateway_log_summary() RETURNS trigger LANGUAGE plpgsql AS $fn$
   BEGIN
     SELECT s.id INTO NEW.order_payment_summary_id
     FROM transactions t
     LEFT JOIN transactions c ON c.id = t.original_transaction_id
     JOIN order_payment_summaries s ON s.order_id = t.order_id
       AND s.payment_method_id = coalesce(c.payment_method_id, t.payment_method_id)
     WHERE t.id = NEW.transaction_id;
     RETURN NEW;
   END
   $fn$`,
  `CREATE TRIGGER gateway_logs_summary BEFORE INSERT ON gateway_logs
   FOR EACH ROW WHEN (NEW.transaction_id IS NOT NULL AND NEW.order_payment_summary_id IS NULL)
   EXECUTE FUNCTION settle_gateway_log_summary()`,
];

/** A summary field's sum over records (alias `r`). */
function sumOf(field: (typeof SUMMARY_FIELDS)[number], r: string): string {
  const when: Record<(typeof SUMMARY_FIELDS)[number], string> = {
    authorized_amount: `${r}.kind = 'authorization' AND ${r}.status = 'processed'`,
    captured_amount: `${r}.kind = 'payment' AND ${r}.status = 'processed'`,
    refunded_amount: `${r}.kind = 'refund' AND ${r}.status = 'processed'`,
    pending_amount: `${r}.status = 'pending'`,
    available_to_capture: 'false',
    refunding_amount: `${r}.kind = 'refund' AND ${r}.status = 'pending'`,
  };
  if (field === 'available_to_capture') return `sum(${r}.capturable)::int8`;
  return `coalesce(sum(${r}.amount) FILTER (WHERE ${when[field]}), 0)::int8`;
}
