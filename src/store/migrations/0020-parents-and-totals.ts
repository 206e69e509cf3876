// Migration 0020: parents, totals, invoices, allocations and payment schedules (issue 19: R1-R4, P7, X6). Frozen
// once released.
//
// Totals are kept by the database itself, in the statement that changes a transaction: an AFTER ... FOR EACH
// STATEMENT trigger on `transactions` reads the statement's old and new rows (transition tables), turns each into its
// contributions (settle_totals_entries: one entry per owner and currency), and adds the difference to `totals`, in
// (owner_id, currency) order. Every path that writes a transaction (API actions, webhooks, jobs, recovery, sync, a
// data repair in psql) moves totals the same way, by a delta, in the same database transaction. The statement has
// locked its transactions before an AFTER STATEMENT trigger runs, so the lock order is always: the transactions,
// then their owners' totals in id order, then (through allocations) their invoices in id order.
//
// - parents: records a user names (an opportunity, a subscription, ...) that transactions belong to (parent_id).
// - totals: one row per owner (acc_, con_, par_, inv_, and later ord_) and currency. Amounts count in the
//   transaction's currency; gateway_fee and net_amount in its settlement currency. last_payment_at and next_due_date
//   are not additive: they are re-read by one indexed query for the owners whose payments or due dates moved.
// - invoices: balances come from allocations. allocated_* hold the applied part of each kind of allocation; the
//   balances and payment_status are generated from them, so they cannot drift apart. past_due is set by the daily
//   invoices_past_due job (and when a due date is written) with Settle's clock.
// - allocations: a transaction's money assigned to an invoice. `amount` is what was assigned; `applied_amount` what
//   of it counts now: the transaction's allocatable amount (captured, or a completed refund or write-off) fills its
//   allocations oldest first (settle_refresh_allocations), re-run whenever that amount changes.
// - payment_schedules: recurring charges generated ahead as open transactions (schedule_id, schedule_occurrence;
//   one transaction per occurrence).
//
// Rules only a trigger can check raise a check_violation naming a rule (store/constraint-errors.ts, TRIGGER_RULES):
// allocations_within_amount, allocations_currency, allocations_invoice_void, invoices_write_off_within_balance.
import { type Kysely, sql } from 'kysely';
import { runStatements } from './run-statements.js';

/** The kinds of owner and the transaction column that names each: the registration a new kind of parent adds to. */
const OWNER_COLUMNS = ['account_id', 'contact_id', 'parent_id', 'invoice_id'] as const;
/** The additive fields of a totals row (store/totals-repo.ts lists the same). */
const TOTALS_FIELDS = [
  'open_amount',
  'authorized_amount',
  'captured_amount',
  'refunded_amount',
  'retained_amount',
  'non_gateway_amount',
  'written_off_amount',
  'gateway_fee',
  'net_amount',
  'disputed_amount',
  'count_open',
  'count_completed',
  'count_failed',
];
/** The id prefix of each kind of owner (app/ids.ts; a migration does not import app code). */
const PREFIXES: Record<(typeof OWNER_COLUMNS)[number], string> = {
  account_id: 'acc',
  contact_id: 'con',
  parent_id: 'par',
  invoice_id: 'inv',
};

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE parents (
      id text PRIMARY KEY,
      type text NOT NULL CONSTRAINT parents_type_check CHECK (type ~ '^[a-z][a-z0-9_]{0,39}$'),
      external_id text,
      name text,
      account_id text CONSTRAINT parents_account_id_fkey REFERENCES accounts (id),
      contact_id text CONSTRAINT parents_contact_id_fkey REFERENCES contacts (id),
      metadata jsonb NOT NULL DEFAULT '{}',
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT parents_type_external_id UNIQUE (type, external_id)
    );
    CREATE INDEX parents_account ON parents (account_id, id) WHERE account_id IS NOT NULL;
    CREATE TABLE invoices (
      id text PRIMARY KEY,
      number text NOT NULL CONSTRAINT invoices_number_key UNIQUE,
      account_id text CONSTRAINT invoices_account_id_fkey REFERENCES accounts (id),
      contact_id text CONSTRAINT invoices_contact_id_fkey REFERENCES contacts (id),
      currency text NOT NULL CONSTRAINT invoices_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
      total int8 NOT NULL CONSTRAINT invoices_total_check CHECK (total >= 0),
      issued_on date,
      due_date date,
      timezone text,
      status text NOT NULL DEFAULT 'open' CONSTRAINT invoices_status_check CHECK (status IN ('draft', 'open', 'void')),
      past_due boolean NOT NULL DEFAULT false,
      allocations_count integer NOT NULL DEFAULT 0 CONSTRAINT invoices_allocations_count_check CHECK (allocations_count >= 0),
      allocated_payments int8 NOT NULL DEFAULT 0,
      allocated_refunds int8 NOT NULL DEFAULT 0,
      allocated_write_offs int8 NOT NULL DEFAULT 0,
      allocated_write_off_reversals int8 NOT NULL DEFAULT 0,
      balance_paid int8 GENERATED ALWAYS AS (allocated_payments - allocated_refunds) STORED,
      write_off_amount int8 GENERATED ALWAYS AS (allocated_write_offs - allocated_write_off_reversals) STORED,
      balance_due int8 GENERATED ALWAYS AS
        (total - (allocated_payments - allocated_refunds) - (allocated_write_offs - allocated_write_off_reversals)) STORED,
      payment_status text GENERATED ALWAYS AS (CASE
        WHEN total - (allocated_payments - allocated_refunds) - (allocated_write_offs - allocated_write_off_reversals) < 0
          THEN 'overpaid'
        WHEN total - (allocated_payments - allocated_refunds) - (allocated_write_offs - allocated_write_off_reversals) = 0
          AND total > 0 THEN 'paid'
        WHEN allocated_refunds > 0 AND allocated_payments - allocated_refunds = 0 THEN 'refunded'
        WHEN allocated_refunds > 0 THEN 'partially_refunded'
        WHEN past_due
          AND total - (allocated_payments - allocated_refunds) - (allocated_write_offs - allocated_write_off_reversals) > 0
          THEN 'past_due'
        WHEN allocated_payments - allocated_refunds > 0 THEN 'partially_paid'
        ELSE 'unpaid' END) STORED,
      description text,
      metadata jsonb NOT NULL DEFAULT '{}',
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT invoices_allocated_non_negative CHECK (allocated_payments >= 0 AND allocated_refunds >= 0
        AND allocated_write_offs >= 0 AND allocated_write_off_reversals >= 0)
    );
    CREATE INDEX invoices_account ON invoices (account_id, id) WHERE account_id IS NOT NULL;
    CREATE INDEX invoices_due ON invoices (due_date, id) WHERE status = 'open' AND NOT past_due;
    CREATE TABLE payment_schedules (
      id text PRIMARY KEY,
      amount int8 NOT NULL CONSTRAINT payment_schedules_amount_check CHECK (amount > 0),
      currency text NOT NULL CONSTRAINT payment_schedules_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
      payment_method_id text CONSTRAINT payment_schedules_payment_method_id_fkey REFERENCES payment_methods (id),
      account_id text CONSTRAINT payment_schedules_account_id_fkey REFERENCES accounts (id),
      contact_id text CONSTRAINT payment_schedules_contact_id_fkey REFERENCES contacts (id),
      parent_id text CONSTRAINT payment_schedules_parent_id_fkey REFERENCES parents (id),
      invoice_id text CONSTRAINT payment_schedules_invoice_id_fkey REFERENCES invoices (id),
      interval text NOT NULL CONSTRAINT payment_schedules_interval_check CHECK (interval IN ('week', 'month', 'quarter', 'year')),
      interval_count integer NOT NULL DEFAULT 1 CONSTRAINT payment_schedules_interval_count_check CHECK (interval_count BETWEEN 1 AND 366),
      start_date date NOT NULL,
      end_date date,
      occurrences integer CONSTRAINT payment_schedules_occurrences_check CHECK (occurrences IS NULL OR occurrences >= 1),
      generated_count integer NOT NULL DEFAULT 0,
      status text NOT NULL DEFAULT 'active'
        CONSTRAINT payment_schedules_status_check CHECK (status IN ('active', 'paused', 'completed', 'canceled')),
      description text,
      metadata jsonb NOT NULL DEFAULT '{}',
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX payment_schedules_active ON payment_schedules (id) WHERE status = 'active';
    ALTER TABLE transactions ADD COLUMN parent_id text CONSTRAINT transactions_parent_id_fkey REFERENCES parents (id);
    ALTER TABLE transactions ADD COLUMN invoice_id text CONSTRAINT transactions_invoice_id_fkey REFERENCES invoices (id);
    ALTER TABLE transactions ADD COLUMN schedule_id text
      CONSTRAINT transactions_schedule_id_fkey REFERENCES payment_schedules (id);
    ALTER TABLE transactions ADD COLUMN schedule_occurrence integer;
    ALTER TABLE transactions ADD CONSTRAINT transactions_schedule_occurrence_check
      CHECK ((schedule_id IS NULL) = (schedule_occurrence IS NULL) OR reattempt_of_id IS NOT NULL);
    CREATE UNIQUE INDEX transactions_one_per_schedule_occurrence ON transactions (schedule_id, schedule_occurrence)
      WHERE schedule_id IS NOT NULL AND reattempt_of_id IS NULL;
    CREATE INDEX transactions_parent ON transactions (parent_id, id) WHERE parent_id IS NOT NULL;
    CREATE INDEX transactions_invoice ON transactions (invoice_id, id) WHERE invoice_id IS NOT NULL;
    CREATE INDEX transactions_schedule ON transactions (schedule_id, id) WHERE schedule_id IS NOT NULL;
    CREATE TABLE totals (
      owner_id text NOT NULL,
      currency text NOT NULL,
      open_amount int8 NOT NULL DEFAULT 0,
      authorized_amount int8 NOT NULL DEFAULT 0,
      captured_amount int8 NOT NULL DEFAULT 0,
      refunded_amount int8 NOT NULL DEFAULT 0,
      retained_amount int8 NOT NULL DEFAULT 0,
      non_gateway_amount int8 NOT NULL DEFAULT 0,
      written_off_amount int8 NOT NULL DEFAULT 0,
      gateway_fee int8 NOT NULL DEFAULT 0,
      net_amount int8 NOT NULL DEFAULT 0,
      disputed_amount int8 NOT NULL DEFAULT 0,
      count_open int8 NOT NULL DEFAULT 0,
      count_completed int8 NOT NULL DEFAULT 0,
      count_failed int8 NOT NULL DEFAULT 0,
      last_payment_at timestamptz,
      next_due_date date,
      CONSTRAINT totals_pkey PRIMARY KEY (owner_id, currency)
    );
    CREATE UNLOGGED TABLE totals_pending (
      txid int8 NOT NULL DEFAULT txid_current(),
      owner_id text NOT NULL,
      currency text,
      open_amount int8 NOT NULL DEFAULT 0,
      authorized_amount int8 NOT NULL DEFAULT 0,
      captured_amount int8 NOT NULL DEFAULT 0,
      refunded_amount int8 NOT NULL DEFAULT 0,
      retained_amount int8 NOT NULL DEFAULT 0,
      non_gateway_amount int8 NOT NULL DEFAULT 0,
      written_off_amount int8 NOT NULL DEFAULT 0,
      gateway_fee int8 NOT NULL DEFAULT 0,
      net_amount int8 NOT NULL DEFAULT 0,
      disputed_amount int8 NOT NULL DEFAULT 0,
      count_open int8 NOT NULL DEFAULT 0,
      count_completed int8 NOT NULL DEFAULT 0,
      count_failed int8 NOT NULL DEFAULT 0,
      dated boolean NOT NULL DEFAULT false,
      payments int8 NOT NULL DEFAULT 0,
      refunds int8 NOT NULL DEFAULT 0,
      write_offs int8 NOT NULL DEFAULT 0,
      reversals int8 NOT NULL DEFAULT 0,
      allocations int8 NOT NULL DEFAULT 0,
      wrote_off boolean NOT NULL DEFAULT false,
      allocated boolean NOT NULL DEFAULT false
    );
    CREATE INDEX totals_pending_txid ON totals_pending (txid);
    CREATE UNLOGGED TABLE totals_pending_commits (txid int8 CONSTRAINT totals_pending_commits_pkey PRIMARY KEY);
    CREATE TABLE allocations (
      id text PRIMARY KEY,
      transaction_id text NOT NULL
        CONSTRAINT allocations_transaction_id_fkey REFERENCES transactions (id) ON DELETE CASCADE,
      invoice_id text NOT NULL CONSTRAINT allocations_invoice_id_fkey REFERENCES invoices (id),
      kind text NOT NULL
        CONSTRAINT allocations_kind_check CHECK (kind IN ('payment', 'refund', 'write_off', 'write_off_reversal')),
      amount int8 NOT NULL CONSTRAINT allocations_amount_check CHECK (amount > 0),
      applied_amount int8 NOT NULL DEFAULT 0,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT allocations_applied_within_amount CHECK (applied_amount BETWEEN 0 AND amount)
    );
    CREATE INDEX allocations_transaction ON allocations (transaction_id, created_at, id);
    CREATE INDEX allocations_invoice ON allocations (invoice_id, id);
  `,
  );
  // Indexes for the non-additive totals (the newest payment, the next due date) per kind of owner: each answers its
  // max()/min() from the end of one index range, however many transactions the owner has.
  for (const column of OWNER_COLUMNS) {
    const name = column.replace('_id', '');
    await sql
      .raw(
        `CREATE INDEX transactions_${name}_last_payment ON transactions (${column}, currency, processed_at)
          WHERE ${column} IS NOT NULL AND status = 'completed' AND record_type = 'charge'
            AND transaction_type = 'normal' AND captured_amount > 0`,
      )
      .execute(db);
    await sql
      .raw(
        `CREATE INDEX transactions_${name}_next_due ON transactions (${column}, currency, due_date)
          WHERE ${column} IS NOT NULL AND status = 'open' AND record_type = 'charge'
            AND transaction_type = 'normal' AND due_date IS NOT NULL`,
      )
      .execute(db);
  }
  for (const statement of FUNCTIONS) await sql.raw(statement).execute(db);
}

const FUNCTIONS = [
  // What one transaction adds to each of its owners' totals: one row per owner and currency (amounts in the
  // transaction's currency, fees and net in its settlement currency). Only charges (normal ones, and write-offs in
  // written_off_amount alone) count; refunds count through their charge's refunded_amount, disputes through its
  // disputed_amount and disputes_net_amount. A dispute's fee (an adjustment, migration 0014) counts in gateway_fee
  // only: its net is already in the charge's disputes_net_amount.
  totalsEntriesFunction(OWNER_COLUMNS),
  // What of a transaction its allocations can hold: a charge's captured amount, a completed write-off's amount, a
  // completed refund's (of a charge or a write-off) amount as a positive number; 0 until then.
  `CREATE FUNCTION settle_allocatable(t transactions) RETURNS int8 LANGUAGE sql IMMUTABLE AS $fn$
     SELECT CASE
       WHEN t.record_type <> 'charge' OR t.status <> 'completed' THEN 0
       WHEN t.transaction_type = 'normal' THEN t.captured_amount
       WHEN t.transaction_type = 'write_off' THEN t.amount
       WHEN t.transaction_type = 'refund' THEN -t.amount
       ELSE 0 END
   $fn$`,
  // Re-applies a transaction's allocatable amount to its allocations, oldest first.
  // (plpgsql, so that its plan is prepared once per session rather than at every call.)
  `CREATE FUNCTION settle_refresh_allocations(p_transaction text) RETURNS void LANGUAGE plpgsql AS $fn$
   BEGIN
     WITH t AS (SELECT settle_allocatable(x) AS e FROM transactions x WHERE x.id = p_transaction),
     a AS (
       SELECT id, amount, sum(amount) OVER (ORDER BY created_at, id) - amount AS before
       FROM allocations WHERE transaction_id = p_transaction
     ),
     want AS (SELECT a.id, greatest(0, least(a.amount, t.e - a.before)) AS applied FROM a CROSS JOIN t)
     UPDATE allocations al SET applied_amount = w.applied
     FROM want w WHERE al.id = w.id AND al.applied_amount <> w.applied;
   END
   $fn$`,
  // Stages the difference between the removed and the added rows' contributions, per owner and currency, for the
  // commit (settle_totals_commit). Nothing is locked here: a statement that changes nothing anyone totals stages
  // nothing.
  // (plpgsql: a LANGUAGE sql function with a data-modifying statement is planned again at every call.)
  `CREATE FUNCTION settle_apply_totals(added transactions[], removed transactions[]) RETURNS void
   LANGUAGE plpgsql AS $fn$
   BEGIN
     WITH staged AS (
     INSERT INTO totals_pending (owner_id, currency, ${TOTALS_FIELDS.join(', ')}, dated)
     SELECT * FROM (
       SELECT e.owner_id, e.currency, ${TOTALS_FIELDS.map((f) => `sum(c.s * e.${f}) AS ${f}`).join(', ')}, bool_or(e.dated) AS dated
       FROM (
         SELECT 1 AS s, a AS r FROM unnest(added) AS a
         UNION ALL SELECT -1, r FROM unnest(removed) AS r
       ) AS c CROSS JOIN LATERAL settle_totals_entries(c.r) AS e
       GROUP BY e.owner_id, e.currency
     ) AS d
     WHERE d.dated OR (${TOTALS_FIELDS.map((f) => `d.${f}`).join(', ')})
       IS DISTINCT FROM (${TOTALS_FIELDS.map(() => '0').join(', ')})
     RETURNING 1
     )
     INSERT INTO totals_pending_commits (txid) SELECT txid_current() WHERE EXISTS (SELECT 1 FROM staged)
     ON CONFLICT (txid) DO NOTHING;
   END
   $fn$`,
  // At commit, once per database transaction that staged anything (the constraint trigger is on
  // totals_pending_commits, which holds one row per such database transaction, so it fires once however much was
  // staged): every staged difference, summed, applied in one
  // pass. By then the database transaction holds the locks of every transaction it changed; the owners' rows are
  // locked here, all totals rows in (owner, currency) order and then all invoices in id order, so writers sharing
  // owners never deadlock, however many statements each made and in whatever order. The last-payment and next-due
  // fields are re-read by their indexes for the owners whose payments or due dates moved, and the rules that need
  // the applied balances are checked: nothing allocated to a void invoice, no write-off beyond the balance due.
  // Invoices are locked FOR NO KEY UPDATE: the KEY SHARE locks that foreign keys take on them (a transaction or an
  // allocation naming the invoice, held to the end of its writer's database transaction) must not block this.
  totalsCommitFunction(OWNER_COLUMNS, PREFIXES, ''),
  `CREATE CONSTRAINT TRIGGER totals_pending_commit AFTER INSERT ON totals_pending_commits DEFERRABLE INITIALLY DEFERRED
   FOR EACH ROW EXECUTE FUNCTION settle_totals_commit()`,
  // A new transaction: its allocations when it names an invoice (all of it), or, for a refund without one, taken
  // back from its charge's allocations newest first (what each still holds net of earlier refunds).
  `CREATE FUNCTION settle_allocate_new(r transactions) RETURNS void LANGUAGE plpgsql AS $fn$
   DECLARE
     remaining int8;
     a record;
     kind text;
     take int8;
     n integer := 0;
   BEGIN
     IF r.record_type <> 'charge' THEN RETURN; END IF;
     IF r.transaction_type = 'refund' THEN
       SELECT CASE WHEN o.transaction_type = 'write_off' THEN 'write_off_reversal' ELSE 'refund' END INTO kind
         FROM transactions o WHERE o.id = r.original_transaction_id;
       IF r.invoice_id IS NOT NULL THEN
         INSERT INTO allocations (id, transaction_id, invoice_id, kind, amount, created_at, updated_at)
         VALUES ('alc_' || substr(r.id, 5), r.id, r.invoice_id, kind, -r.amount, r.created_at, r.created_at);
         RETURN;
       END IF;
       remaining := -r.amount;
       FOR a IN
         SELECT c.invoice_id, c.applied_amount - coalesce((
           SELECT sum(ra.amount) FROM allocations ra JOIN transactions rt ON rt.id = ra.transaction_id
           WHERE rt.original_transaction_id = r.original_transaction_id AND rt.transaction_type = 'refund'
             AND rt.id <> r.id AND ra.invoice_id = c.invoice_id AND rt.status NOT IN ('failed', 'canceled')), 0) AS held
         FROM allocations c WHERE c.transaction_id = r.original_transaction_id
         ORDER BY c.created_at DESC, c.id DESC
       LOOP
         EXIT WHEN remaining <= 0;
         take := least(remaining, a.held);
         IF take > 0 THEN
           n := n + 1;
           INSERT INTO allocations (id, transaction_id, invoice_id, kind, amount, created_at, updated_at)
           VALUES ('alc_' || substr(r.id, 5) || to_char(n, 'FM00'), r.id, a.invoice_id, kind, take, r.created_at,
             r.created_at);
           remaining := remaining - take;
         END IF;
       END LOOP;
     ELSIF r.invoice_id IS NOT NULL AND r.transaction_type IN ('normal', 'write_off') THEN
       INSERT INTO allocations (id, transaction_id, invoice_id, kind, amount, created_at, updated_at)
       VALUES ('alc_' || substr(r.id, 5), r.id, r.invoice_id,
         CASE WHEN r.transaction_type = 'write_off' THEN 'write_off' ELSE 'payment' END, r.amount, r.created_at,
         r.created_at);
     END IF;
   END
   $fn$`,
  `CREATE FUNCTION settle_transactions_totals() RETURNS trigger LANGUAGE plpgsql AS $fn$
   DECLARE
     r transactions;
     changed text;
   BEGIN
     IF TG_OP = 'INSERT' THEN
       PERFORM settle_apply_totals(ARRAY(SELECT ROW(n.*)::transactions FROM new_rows n), '{}'::transactions[]);
       FOR r IN SELECT * FROM new_rows n WHERE n.record_type = 'charge'
         AND (n.invoice_id IS NOT NULL OR n.transaction_type = 'refund') ORDER BY n.id
       LOOP
         PERFORM settle_allocate_new(r);
       END LOOP;
     ELSIF TG_OP = 'UPDATE' THEN
       PERFORM settle_apply_totals(ARRAY(SELECT ROW(n.*)::transactions FROM new_rows n),
         ARRAY(SELECT ROW(o.*)::transactions FROM old_rows o));
       -- An allocated transaction keeps its invoices' currency.
       IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
           WHERE n.currency <> o.currency AND EXISTS (SELECT 1 FROM allocations al WHERE al.transaction_id = n.id)) THEN
         RAISE EXCEPTION 'an allocated transaction cannot change its currency'
           USING ERRCODE = 'check_violation', CONSTRAINT = 'allocations_currency', TABLE = 'transactions';
       END IF;
       FOR changed IN SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE settle_allocatable(n) <> settle_allocatable(o)
           AND EXISTS (SELECT 1 FROM allocations al WHERE al.transaction_id = n.id)
         ORDER BY n.id
       LOOP
         PERFORM settle_refresh_allocations(changed);
       END LOOP;
     ELSE
       PERFORM settle_apply_totals('{}'::transactions[], ARRAY(SELECT ROW(o.*)::transactions FROM old_rows o));
     END IF;
     RETURN NULL;
   END
   $fn$`,
  `CREATE TRIGGER transactions_totals_insert AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_rows
   FOR EACH STATEMENT EXECUTE FUNCTION settle_transactions_totals()`,
  `CREATE TRIGGER transactions_totals_update AFTER UPDATE ON transactions
   REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION settle_transactions_totals()`,
  `CREATE TRIGGER transactions_totals_delete AFTER DELETE ON transactions REFERENCING OLD TABLE AS old_rows
   FOR EACH STATEMENT EXECUTE FUNCTION settle_transactions_totals()`,
  // A new allocation: its kind follows its transaction; it must be in its invoice's currency.
  `CREATE FUNCTION settle_allocation_before_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
   DECLARE
     t_currency text;
     i_currency text;
   BEGIN
     SELECT currency INTO t_currency FROM transactions WHERE id = NEW.transaction_id;
     SELECT currency INTO i_currency FROM invoices WHERE id = NEW.invoice_id;
     IF t_currency IS DISTINCT FROM i_currency AND t_currency IS NOT NULL AND i_currency IS NOT NULL THEN
       RAISE EXCEPTION 'allocation currency % differs from the invoice currency %', t_currency, i_currency
         USING ERRCODE = 'check_violation', CONSTRAINT = 'allocations_currency', TABLE = 'allocations';
     END IF;
     RETURN NEW;
   END
   $fn$`,
  `CREATE TRIGGER allocations_before_insert BEFORE INSERT ON allocations
   FOR EACH ROW EXECUTE FUNCTION settle_allocation_before_insert()`,
  // An allocation lowered below what it applies applies at most its new amount at once (the statement's trigger then
  // spreads the transaction's allocatable amount again).
  `CREATE FUNCTION settle_allocation_before_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
   BEGIN
     NEW.applied_amount := least(NEW.applied_amount, NEW.amount);
     RETURN NEW;
   END
   $fn$`,
  `CREATE TRIGGER allocations_before_update BEFORE UPDATE OF amount ON allocations
   FOR EACH ROW EXECUTE FUNCTION settle_allocation_before_update()`,
  // Allocations moved: their invoices' allocated sums change by the difference, staged for the commit (which also
  // checks the void and write-off rules against the applied balances). A transaction's allocations within its amount
  // is checked here: its allocations change only under its own lock.
  `CREATE FUNCTION settle_allocations_apply(added allocations[], removed allocations[]) RETURNS void
   LANGUAGE plpgsql AS $fn$
   DECLARE
     bad record;
   BEGIN
     INSERT INTO totals_pending (owner_id, currency, payments, refunds, write_offs, reversals, allocations, wrote_off,
       allocated)
     SELECT invoice_id, NULL,
       sum(s * CASE WHEN kind = 'payment' THEN applied_amount ELSE 0 END),
       sum(s * CASE WHEN kind = 'refund' THEN applied_amount ELSE 0 END),
       sum(s * CASE WHEN kind = 'write_off' THEN applied_amount ELSE 0 END),
       sum(s * CASE WHEN kind = 'write_off_reversal' THEN applied_amount ELSE 0 END),
       sum(s), bool_or(s = 1 AND kind = 'write_off' AND applied_amount > 0), bool_or(s = 1)
     FROM (
       SELECT 1 AS s, a.* FROM unnest(added) AS a
       UNION ALL SELECT -1, r.* FROM unnest(removed) AS r
     ) AS c GROUP BY invoice_id;
     IF FOUND THEN
       INSERT INTO totals_pending_commits (txid) VALUES (txid_current()) ON CONFLICT (txid) DO NOTHING;
     END IF;
     SELECT t.id INTO bad FROM transactions t
       WHERE t.id IN (SELECT a.transaction_id FROM unnest(added) AS a)
         AND (SELECT sum(al.amount) FROM allocations al WHERE al.transaction_id = t.id) > abs(t.amount)
       ORDER BY t.id LIMIT 1;
     IF FOUND THEN
       RAISE EXCEPTION 'the allocations of % exceed its amount', bad.id
         USING ERRCODE = 'check_violation', CONSTRAINT = 'allocations_within_amount', TABLE = 'allocations';
     END IF;
   END
   $fn$`,
  `CREATE FUNCTION settle_allocations_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
   DECLARE
     tid text;
   BEGIN
     IF TG_OP = 'INSERT' THEN
       PERFORM settle_allocations_apply(ARRAY(SELECT ROW(n.*)::allocations FROM new_rows n), '{}'::allocations[]);
       -- New allocations start with nothing applied: their transactions' allocatable amounts are spread again.
       FOR tid IN SELECT DISTINCT n.transaction_id FROM new_rows n ORDER BY n.transaction_id
       LOOP
         PERFORM settle_refresh_allocations(tid);
       END LOOP;
     ELSIF TG_OP = 'UPDATE' THEN
       PERFORM settle_allocations_apply(ARRAY(SELECT ROW(n.*)::allocations FROM new_rows n),
         ARRAY(SELECT ROW(o.*)::allocations FROM old_rows o));
       -- An allocation's amount changed: its transaction's allocatable amount is spread again (this update sets only
       -- applied_amount, so it ends here).
       FOR tid IN SELECT DISTINCT n.transaction_id FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE n.amount <> o.amount ORDER BY n.transaction_id
       LOOP
         PERFORM settle_refresh_allocations(tid);
       END LOOP;
     ELSE
       PERFORM settle_allocations_apply('{}'::allocations[], ARRAY(SELECT ROW(o.*)::allocations FROM old_rows o));
       FOR tid IN SELECT DISTINCT o.transaction_id FROM old_rows o ORDER BY o.transaction_id
       LOOP
         PERFORM settle_refresh_allocations(tid);
       END LOOP;
     END IF;
     RETURN NULL;
   END
   $fn$`,
  `CREATE TRIGGER allocations_changed_insert AFTER INSERT ON allocations REFERENCING NEW TABLE AS new_rows
   FOR EACH STATEMENT EXECUTE FUNCTION settle_allocations_changed()`,
  `CREATE TRIGGER allocations_changed_update AFTER UPDATE ON allocations
   REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION settle_allocations_changed()`,
  `CREATE TRIGGER allocations_changed_delete AFTER DELETE ON allocations REFERENCING OLD TABLE AS old_rows
   FOR EACH STATEMENT EXECUTE FUNCTION settle_allocations_changed()`,
];

/**
 * What one transaction adds to each of its owners' totals (the owners named by `columns`). Migration 0022 replaces
 * the function with one more owner column (orders); 0020's own statement is built with its four.
 */
export function totalsEntriesFunction(columns: readonly string[]): string {
  return `CREATE FUNCTION settle_totals_entries(t transactions)
   RETURNS TABLE (owner_id text, currency text, open_amount int8, authorized_amount int8, captured_amount int8,
     refunded_amount int8, retained_amount int8, non_gateway_amount int8, written_off_amount int8, gateway_fee int8,
     net_amount int8, disputed_amount int8, count_open int8, count_completed int8, count_failed int8, dated boolean)
   LANGUAGE sql IMMUTABLE AS $fn$
     SELECT o.owner_id, e.currency, e.open_amount, e.authorized_amount, e.captured_amount, e.refunded_amount,
       e.retained_amount, e.non_gateway_amount, e.written_off_amount, e.gateway_fee, e.net_amount, e.disputed_amount,
       e.count_open, e.count_completed, e.count_failed, e.dated
     FROM (VALUES ${columns.map((column) => `(t.${column})`).join(', ')}) AS o (owner_id)
     CROSS JOIN LATERAL (
       SELECT t.currency AS currency,
         CASE WHEN n AND t.status IN ('open', 'on_hold') THEN t.amount ELSE 0 END AS open_amount,
         CASE WHEN n AND t.payment_status = 'authorized' THEN t.authorized_amount - t.captured_amount ELSE 0 END
           AS authorized_amount,
         CASE WHEN n AND t.status = 'completed' THEN t.captured_amount ELSE 0 END AS captured_amount,
         CASE WHEN n AND t.status = 'completed' THEN t.refunded_amount ELSE 0 END AS refunded_amount,
         CASE WHEN n AND t.status = 'completed' THEN t.captured_amount - t.refunded_amount - t.disputed_amount
           ELSE 0 END AS retained_amount,
         CASE WHEN n AND t.status = 'completed' AND t.non_gateway THEN t.captured_amount - t.refunded_amount
           ELSE 0 END AS non_gateway_amount,
         CASE WHEN t.transaction_type = 'write_off' AND t.status = 'completed' THEN t.amount - t.refunded_amount
           ELSE 0 END AS written_off_amount,
         0::int8 AS gateway_fee, 0::int8 AS net_amount,
         CASE WHEN n AND t.status = 'completed' THEN t.disputed_amount ELSE 0 END AS disputed_amount,
         CASE WHEN n AND t.status IN ('open', 'on_hold') THEN 1 ELSE 0 END::int8 AS count_open,
         CASE WHEN n AND t.status = 'completed' THEN 1 ELSE 0 END::int8 AS count_completed,
         CASE WHEN n AND t.status = 'failed' THEN 1 ELSE 0 END::int8 AS count_failed,
         n AND ((t.status = 'completed' AND t.captured_amount > 0) OR (t.status = 'open' AND t.due_date IS NOT NULL))
           AS dated
       FROM (SELECT t.record_type = 'charge' AND t.transaction_type = 'normal' AS n) AS k
       UNION ALL
       SELECT coalesce(t.settlement_currency, t.currency), 0, 0, 0, 0, 0, 0, 0,
         coalesce(t.gateway_fee, 0) - t.refunded_gateway_fee,
         coalesce(t.net_amount, 0) + t.refunds_net_amount + t.disputes_net_amount,
         0, 0, 0, 0, false
       WHERE t.record_type = 'charge' AND t.transaction_type = 'normal'
         AND (t.gateway_fee IS NOT NULL OR t.net_amount IS NOT NULL)
       UNION ALL
       SELECT coalesce(t.settlement_currency, t.currency), 0, 0, 0, 0, 0, 0, 0, t.gateway_fee, 0, 0, 0, 0, 0, false
       WHERE t.record_type = 'adjustment' AND t.gateway_fee IS NOT NULL
     ) AS e
     WHERE o.owner_id IS NOT NULL
       AND ((t.record_type = 'charge' AND t.transaction_type IN ('normal', 'write_off')) OR t.record_type = 'adjustment')
   $fn$`;
}

/**
 * The commit-time apply of the staged totals, for the owners named by `columns` (with their id prefixes); `first` is
 * plpgsql run before anything else (migration 0022 applies the order payment records there).
 */
export function totalsCommitFunction(
  columns: readonly string[],
  prefixes: Record<string, string>,
  first: string,
): string {
  return `CREATE FUNCTION settle_totals_commit() RETURNS trigger LANGUAGE plpgsql AS $fn$
   DECLARE
     staged totals_pending[];
     owners text[];
     currencies text[];
     invoice_ids text[];
     bad record;
   BEGIN${first}
     DELETE FROM totals_pending_commits WHERE txid = txid_current();
     WITH taken AS (DELETE FROM totals_pending WHERE txid = txid_current() RETURNING *)
     SELECT array_agg(ROW(x.*)::totals_pending) INTO staged FROM (
       SELECT 0::int8, owner_id, currency, ${TOTALS_FIELDS.map((f) => `sum(${f})::int8`).join(', ')}, bool_or(dated),
         sum(payments)::int8, sum(refunds)::int8, sum(write_offs)::int8, sum(reversals)::int8, sum(allocations)::int8,
         bool_or(wrote_off), bool_or(allocated)
       FROM taken GROUP BY owner_id, currency
     ) AS x;
     IF staged IS NULL THEN
       RETURN NULL;
     END IF;
     INSERT INTO totals AS t (owner_id, currency, ${TOTALS_FIELDS.join(', ')})
     SELECT d.owner_id, d.currency, ${TOTALS_FIELDS.map((f) => `d.${f}`).join(', ')}
     FROM unnest(staged) AS d
     WHERE d.currency IS NOT NULL AND (d.dated OR (${TOTALS_FIELDS.map((f) => `d.${f}`).join(', ')})
       IS DISTINCT FROM (${TOTALS_FIELDS.map(() => '0').join(', ')}))
     ORDER BY d.owner_id, d.currency
     ON CONFLICT (owner_id, currency) DO UPDATE SET
       ${TOTALS_FIELDS.map((f) => `${f} = t.${f} + excluded.${f}`).join(', ')};
     SELECT array_agg(d.owner_id ORDER BY d.owner_id, d.currency), array_agg(d.currency ORDER BY d.owner_id, d.currency)
       INTO owners, currencies FROM unnest(staged) AS d WHERE d.dated AND d.currency IS NOT NULL;
     IF owners IS NOT NULL THEN
       UPDATE totals t SET
         last_payment_at = CASE left(t.owner_id, 4)
           ${columns
             .map(
               (column) => `WHEN '${prefixes[column]}_' THEN (SELECT max(x.processed_at) FROM transactions x
             WHERE x.${column} = t.owner_id AND x.currency = t.currency AND x.status = 'completed'
               AND x.record_type = 'charge' AND x.transaction_type = 'normal' AND x.captured_amount > 0)`,
             )
             .join('\n           ')}
           END,
         next_due_date = CASE left(t.owner_id, 4)
           ${columns
             .map(
               (column) => `WHEN '${prefixes[column]}_' THEN (SELECT min(x.due_date) FROM transactions x
             WHERE x.${column} = t.owner_id AND x.currency = t.currency AND x.status = 'open'
               AND x.record_type = 'charge' AND x.transaction_type = 'normal' AND x.due_date IS NOT NULL)`,
             )
             .join('\n           ')}
           END
       FROM unnest(owners, currencies) AS d (owner_id, currency)
       WHERE t.owner_id = d.owner_id AND t.currency = d.currency;
     END IF;
     SELECT array_agg(d.owner_id ORDER BY d.owner_id) INTO invoice_ids FROM unnest(staged) AS d
       WHERE d.currency IS NULL AND (d.payments, d.refunds, d.write_offs, d.reversals, d.allocations) <> (0, 0, 0, 0, 0);
     IF invoice_ids IS NOT NULL THEN
       PERFORM 1 FROM invoices WHERE id = ANY (invoice_ids) ORDER BY id FOR NO KEY UPDATE;
       UPDATE invoices i SET allocated_payments = i.allocated_payments + d.payments,
         allocated_refunds = i.allocated_refunds + d.refunds,
         allocated_write_offs = i.allocated_write_offs + d.write_offs,
         allocated_write_off_reversals = i.allocated_write_off_reversals + d.reversals,
         allocations_count = i.allocations_count + d.allocations
       FROM unnest(staged) AS d WHERE d.currency IS NULL AND i.id = d.owner_id AND i.id = ANY (invoice_ids);
       SELECT i.id, i.status INTO bad FROM invoices i JOIN unnest(staged) AS d ON d.owner_id = i.id AND d.currency IS NULL
         WHERE i.id = ANY (invoice_ids) AND ((i.status = 'void' AND d.allocated) OR (d.wrote_off AND i.balance_due < 0))
         ORDER BY i.id LIMIT 1;
       IF FOUND THEN
         IF bad.status = 'void' THEN
           RAISE EXCEPTION 'invoice % is void', bad.id
             USING ERRCODE = 'check_violation', CONSTRAINT = 'allocations_invoice_void', TABLE = 'allocations';
         END IF;
         RAISE EXCEPTION 'a write-off beyond the balance due of invoice %', bad.id
           USING ERRCODE = 'check_violation', CONSTRAINT = 'invoices_write_off_within_balance', TABLE = 'invoices';
       END IF;
     END IF;
     RETURN NULL;
   END
   $fn$`;
}
