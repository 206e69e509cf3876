// Disputes (docs.stripe.com/disputes; Disputes.d.ts). A charge paid with pm_card_createDispute (Stripe's test card
// 4000000000000259) is disputed as soon as it is captured: a `fraudulent` dispute in `needs_response`, evidence
// due in 7 days, whose balance transaction withdraws the amount plus a 1500 dispute fee in one `adjustment`
// (reporting_category dispute, available at once; the $15 US dispute fee, applied in the charge's currency).
// The charge gets disputed: true and can no longer be refunded (charge_disputed). Events:
//   opened     charge.dispute.created, charge.dispute.funds_withdrawn, charge.updated
//   update     charge.dispute.updated (evidence, metadata; submit=true -> under_review)
//   close API  charge.dispute.closed (accepting it: lost)
//   won        charge.dispute.funds_reinstated, charge.dispute.closed: an `adjustment` of +amount with
//              reporting_category dispute_reversal. The fee is NOT returned: the emulator's choice, since
//              Stripe's fee policy on a won dispute varies (docs.stripe.com/disputes; unverified).
//   lost       charge.dispute.closed
// On a converted charge (fx.ts) both adjustments are in the settlement currency, each converted from the dispute's
// amount at the fixed rate, with their exchange_rate; the 1500 fee is in the minor units of the currency the
// withdrawal lands in (the settlement currency when converted), not converted itself.
import { build } from './balance.js';
import { testCardOf } from './customers.js';
import { invalidRequest, resourceMissing } from './errors.js';
import { emit, emitUpdated, snapshot } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optBool, optString } from './params.js';
import { rangeFilter } from './range-filter.js';
import { expansions, render, renderList } from './render.js';
import type { EmulatorState } from './state.js';
import type { BalanceTransaction, Charge, Dispute, PaymentMethod } from './types.js';

export const DISPUTE_FEE = 1500;
const EVIDENCE_WINDOW_S = 7 * 24 * 60 * 60;
const EVIDENCE_FIELDS = [
  'access_activity_log',
  'billing_address',
  'cancellation_policy',
  'cancellation_policy_disclosure',
  'cancellation_rebuttal',
  'customer_communication',
  'customer_email_address',
  'customer_name',
  'customer_purchase_ip',
  'customer_signature',
  'duplicate_charge_documentation',
  'duplicate_charge_explanation',
  'duplicate_charge_id',
  'product_description',
  'receipt',
  'refund_policy',
  'refund_policy_disclosure',
  'refund_refusal_explanation',
  'service_date',
  'service_documentation',
  'shipping_address',
  'shipping_carrier',
  'shipping_date',
  'shipping_documentation',
  'shipping_tracking_number',
  'uncategorized_file',
  'uncategorized_text',
] as const;
const OPEN = ['needs_response', 'under_review'];

function adjustment(
  state: EmulatorState,
  dispute: Dispute,
  amount: number,
  fee: number,
  category: string,
  description: string,
): BalanceTransaction {
  const bt = build(state, {
    amount,
    currency: dispute.currency,
    fee,
    source: dispute.id,
    type: 'adjustment',
    reporting_category: category,
    description,
    availableAfterS: 0,
  });
  if (fee > 0)
    bt.fee_details = [
      { amount: fee, application: null, currency: bt.currency, description: 'Dispute fee', type: 'stripe_fee' },
    ];
  return bt;
}

/** Opens the scripted dispute if this captured charge was paid with pm_card_createDispute. */
export function openScriptedDispute(state: EmulatorState, charge: Charge): Dispute | undefined {
  const pm = state.find<PaymentMethod>(charge.payment_method ?? '', 'payment_method');
  const outcome = pm ? testCardOf(state, pm).outcome : undefined;
  if (outcome?.kind !== 'success' || outcome.after !== 'dispute' || !charge.captured || charge.disputed === true)
    return undefined;
  const created = state.nowSeconds();
  const dispute: Dispute = {
    id: state.newId('dp'),
    object: 'dispute',
    amount: charge.amount_captured as number,
    balance_transactions: [],
    charge: charge.id,
    created,
    currency: charge.currency,
    enhanced_eligibility_types: [],
    evidence: { ...Object.fromEntries(EVIDENCE_FIELDS.map((f) => [f, null])), enhanced_evidence: {} },
    evidence_details: {
      due_by: created + EVIDENCE_WINDOW_S,
      enhanced_eligibility: {},
      has_evidence: false,
      past_due: false,
      submission_count: 0,
    },
    intended_submission_method: null, // Disputes.d.ts (v23): set only through the update parameter of that name
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: charge.payment_intent,
    payment_method_details: {
      card: { brand: 'visa', case_type: 'chargeback', network_reason_code: '10.4' },
      type: 'card',
    },
    reason: 'fraudulent',
    status: 'needs_response',
  };
  state.put(dispute);
  const bt = adjustment(
    state,
    dispute,
    -dispute.amount,
    DISPUTE_FEE,
    'dispute',
    `Chargeback withdrawal for ${charge.id}`,
  );
  dispute.balance_transactions.push(structuredClone(bt));
  const before = snapshot(state, charge);
  charge.disputed = true;
  emit(state, 'charge.dispute.created', dispute);
  emit(state, 'charge.dispute.funds_withdrawn', dispute);
  emitUpdated(state, 'charge.updated', charge, before);
  return dispute;
}

export function requireDispute(state: EmulatorState, id: string): Dispute {
  const d = state.find<Dispute>(id, 'dispute');
  if (!d) throw resourceMissing('dispute', id);
  return d;
}

export function updateDispute(state: EmulatorState, id: string, params: FormObject): Dispute {
  checkKnown(params, ['evidence', 'metadata', 'submit', 'expand']);
  const dispute = requireDispute(state, id);
  const before = snapshot(state, dispute);
  const evidence = params.evidence;
  const submit = optBool(params, 'submit') ?? false;
  if ((evidence !== undefined || submit) && dispute.status !== 'needs_response') {
    throw invalidRequest(
      `Dispute ${id} is ${dispute.status}; evidence can no longer be changed.`,
      undefined,
      'evidence',
    );
  }
  if (evidence !== undefined) {
    if (typeof evidence !== 'object' || Array.isArray(evidence))
      throw invalidRequest('Invalid evidence: must be a hash', 'parameter_invalid_string', 'evidence');
    for (const [k, v] of Object.entries(evidence)) {
      if (!(EVIDENCE_FIELDS as readonly string[]).includes(k))
        throw invalidRequest(`Received unknown parameter: evidence[${k}]`, 'parameter_unknown', `evidence[${k}]`);
      if (typeof v !== 'string')
        throw invalidRequest(`Invalid evidence[${k}]: must be a string`, 'parameter_invalid_string', `evidence[${k}]`);
      dispute.evidence[k] = v === '' ? null : v;
    }
    dispute.evidence_details.has_evidence = EVIDENCE_FIELDS.some((f) => dispute.evidence[f] !== null);
  }
  dispute.metadata = metadataParam(params, dispute.metadata);
  if (submit) {
    dispute.status = 'under_review';
    dispute.evidence_details.submission_count += 1;
  }
  emitUpdated(state, 'charge.dispute.updated', dispute, before);
  return dispute;
}

/** Closes a dispute: `lost` (accepted via the API, or decided against you) or `won` (funds reinstated). */
export function closeDispute(state: EmulatorState, id: string, outcome: 'won' | 'lost', viaApi = false): Dispute {
  const dispute = requireDispute(state, id);
  const allowed = viaApi ? ['needs_response'] : OPEN;
  if (!allowed.includes(dispute.status))
    throw invalidRequest(`Dispute ${id} is ${dispute.status} and cannot be closed.`, undefined, 'dispute');
  if (outcome === 'won') {
    const bt = adjustment(
      state,
      dispute,
      dispute.amount,
      0,
      'dispute_reversal',
      `Chargeback reversal for ${dispute.charge}`,
    );
    dispute.balance_transactions.push(structuredClone(bt));
    dispute.status = 'won';
    emit(state, 'charge.dispute.funds_reinstated', dispute);
  } else dispute.status = 'lost';
  emit(state, 'charge.dispute.closed', dispute);
  return dispute;
}

export function listDisputes(state: EmulatorState, params: FormObject): Record<string, unknown> {
  checkKnown(params, ['charge', 'payment_intent', 'created', 'limit', 'starting_after', 'ending_before', 'expand']);
  const charge = optString(params, 'charge');
  const pi = optString(params, 'payment_intent');
  const created = rangeFilter(params, 'created');
  const disputes = state
    .all<Dispute>('dispute')
    .filter(
      (d) =>
        (charge === undefined || d.charge === charge) &&
        (pi === undefined || d.payment_intent === pi) &&
        created(d.created),
    );
  return renderList(state, disputes, '/v1/disputes', params);
}

export function renderDispute(state: EmulatorState, dispute: Dispute, params: FormObject): Record<string, unknown> {
  return render(state, dispute, expansions(params));
}
