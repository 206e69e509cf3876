// A charge's `outcome` (Charges.d.ts Charge.Outcome; docs.stripe.com/declines), what Settle stores from it
// (network_status, risk_level, advice_code) made right for each test card:
//   authorized       approved_by_network, reason null, risk normal, "Payment complete."
//   issuer decline   declined_by_network, reason = the decline code, advice_code as the error's, seller_message
//                    "The bank did not return any further details with this decline." for generic_decline and
//                    "The bank returned the decline code `<code>`." otherwise (texts observed on Stripe: the
//                    stripe-stateful-mock parity fixtures, pushplay/stripe-stateful-mock src/api/charges.ts, and
//                    live dashboards' seller messages quoted in public code)
//   Radar block      not_sent_to_network, reason highest_risk_level, risk highest, type blocked,
//                    "Stripe blocked this payment as too risky." (the charge outcome Stripe documents for high-risk
//                    payments, docs.stripe.com/radar/risk-evaluation, with the seller_message live charges carry)
// risk_score is only "available with Radar for Fraud Teams" (Charges.d.ts); test mode shows one, so the emulator
// does too: 20 for a normal payment and 95 for a blocked one (its own figures, not Stripe's). A bank debit is not
// evaluated by Radar: risk_level `not_assessed` and no risk_score ("For non-card payments ... this field will have
// the value not_assessed", Charges.d.ts Outcome.risk_level).
import type { Failure } from './charges.js';

export function chargeOutcome(
  failure: Failure | null,
  method: 'card' | 'bank_debit' = 'card',
): Record<string, unknown> {
  const base = { advice_code: null, network_advice_code: null, network_decline_code: null };
  const risk = method === 'card' ? { risk_level: 'normal', risk_score: 20 } : { risk_level: 'not_assessed' };
  if (failure === null) {
    return {
      ...base,
      network_status: 'approved_by_network',
      reason: null,
      ...risk,
      seller_message: 'Payment complete.',
      type: 'authorized',
    };
  }
  if (failure.blocked === true) {
    return {
      ...base,
      network_status: 'not_sent_to_network',
      reason: 'highest_risk_level',
      risk_level: 'highest',
      risk_score: 95,
      seller_message: 'Stripe blocked this payment as too risky.',
      type: 'blocked',
    };
  }
  return {
    ...base,
    advice_code: failure.adviceCode ?? null,
    network_status: 'declined_by_network',
    reason: failure.declineCode,
    ...risk,
    seller_message:
      failure.declineCode === 'generic_decline'
        ? 'The bank did not return any further details with this decline.'
        : `The bank returned the decline code \`${failure.declineCode}\`.`,
    type: 'issuer_declined',
  };
}
