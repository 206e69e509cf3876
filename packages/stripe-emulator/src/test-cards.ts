// Stripe's test PaymentMethods (docs.stripe.com/testing; Radar's: docs.stripe.com/radar/testing). Each magic id
// describes a card and what happens when it is charged. As in Stripe, using a magic id creates a new `pm_...`
// PaymentMethod that keeps the card's behaviour.
//
// Declines carry what Stripe sends for each (the error body and the failed charge's `outcome`, decline-outcomes.ts):
//   - code / decline_code: docs.stripe.com/testing "Declined payments";
//   - message: the texts recorded against Stripe test mode by Open Food Network
//     (openfoodfoundation/openfoodnetwork, spec/lib/stripe/payment_intent_validator_spec.rb): lost and stolen cards
//     deliberately say only "Your card was declined.";
//   - advice_code and param: observed on Stripe test mode in 2026 by aat-stripe (gburgyan/aat-stripe,
//     workflows/slots/decline-*.yaml): try_again_later for generic, insufficient funds and processing errors,
//     do_not_try_again for lost and stolen cards, confirm_card_data (with param exp_month / cvc) for expired cards
//     and incorrect CVCs, and none for the fraudulent decline. Where no source shows an advice_code (velocity
//     limit), none is sent.

export type CardOutcome =
  /** `after`: what happens once the charge is captured (a dispute opens) or refunded (the refund fails later). */
  | { kind: 'success'; after?: 'dispute' | 'refund_fail' }
  /** An ACH debit: processing for 4 days, then it settles (failure null) or fails with that code. */
  | { kind: 'bank_debit'; failure: { code: string; message: string } | null }
  | ({ kind: 'decline' } & Decline)
  /** 3-D Secure always required: on-session -> requires_action; off-session -> authentication_required decline. */
  | { kind: 'authentication_required' };

export interface Decline {
  code: string;
  declineCode: string;
  message: string;
  /** Charges.d.ts Outcome.AdviceCode, also on the error and on last_payment_error. */
  adviceCode?: 'try_again_later' | 'do_not_try_again' | 'confirm_card_data';
  /** The card field at fault (`exp_month`, `cvc`). */
  param?: string;
  /** Blocked by Radar before reaching the network (outcome type `blocked`) rather than declined by the issuer. */
  blocked?: boolean;
}

export interface TestCard {
  /** Absent means 'card'. */
  type?: 'card' | 'us_bank_account';
  brand: string;
  last4: string;
  funding: 'credit' | 'debit';
  country: string;
  outcome: CardOutcome;
}

const declined = (decline: Decline): CardOutcome => ({ kind: 'decline', ...decline });

/** A Visa test card from the US (the country of every test card the emulator knows). */
const visa = (last4: string, outcome: CardOutcome): TestCard => ({
  brand: 'visa',
  last4,
  funding: 'credit',
  country: 'US',
  outcome,
});

const SUCCESS: CardOutcome = { kind: 'success' };
const GENERIC_DECLINE: Decline = {
  code: 'card_declined',
  declineCode: 'generic_decline',
  message: 'Your card was declined.',
  adviceCode: 'try_again_later',
};
// 4100000000000019: "Results in a charge with a risk level of highest, and is always blocked regardless of your
// rules" (docs.stripe.com/radar/testing; pm_card_radarBlock on docs.stripe.com/testing "Fraud prevention"). The
// error is card_declined / fraudulent without advice_code (aat-stripe decline-fraudulent.yaml).
const RADAR_BLOCK: Decline = {
  code: 'card_declined',
  declineCode: 'fraudulent',
  message: 'Your card was declined.',
  blocked: true,
};

export const TEST_CARDS: Readonly<Record<string, TestCard>> = {
  // Cards by brand (docs.stripe.com/testing "Cards by brand": the first number of each brand is its pm_card_...).
  pm_card_visa: visa('4242', SUCCESS),
  pm_card_visa_debit: { ...visa('5556', SUCCESS), funding: 'debit' }, // 4000056655665556
  pm_card_mastercard: { brand: 'mastercard', last4: '4444', funding: 'credit', country: 'US', outcome: SUCCESS },
  pm_card_amex: { brand: 'amex', last4: '0005', funding: 'credit', country: 'US', outcome: SUCCESS }, // 378282246310005
  pm_card_discover: { brand: 'discover', last4: '1117', funding: 'credit', country: 'US', outcome: SUCCESS },
  pm_card_diners: { brand: 'diners', last4: '0004', funding: 'credit', country: 'US', outcome: SUCCESS },
  pm_card_jcb: { brand: 'jcb', last4: '0505', funding: 'credit', country: 'US', outcome: SUCCESS },
  pm_card_unionpay: { brand: 'unionpay', last4: '0005', funding: 'credit', country: 'US', outcome: SUCCESS },
  // Declined payments (docs.stripe.com/testing "Declined payments").
  pm_card_visa_chargeDeclined: visa('0002', declined(GENERIC_DECLINE)),
  pm_card_visa_chargeDeclinedInsufficientFunds: visa(
    '9995',
    declined({
      code: 'card_declined',
      declineCode: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
      adviceCode: 'try_again_later',
    }),
  ),
  pm_card_visa_chargeDeclinedLostCard: visa(
    '9987',
    declined({
      code: 'card_declined',
      declineCode: 'lost_card',
      message: 'Your card was declined.',
      adviceCode: 'do_not_try_again',
    }),
  ),
  pm_card_visa_chargeDeclinedStolenCard: visa(
    '9979',
    declined({
      code: 'card_declined',
      declineCode: 'stolen_card',
      message: 'Your card was declined.',
      adviceCode: 'do_not_try_again',
    }),
  ),
  // Expired card and incorrect CVC: `code` is the reason itself rather than card_declined, and `param` names the
  // field (docs.stripe.com/declines/codes; aat-stripe).
  pm_card_chargeDeclinedExpiredCard: visa(
    '0069',
    declined({
      code: 'expired_card',
      declineCode: 'expired_card',
      message: 'Your card has expired.',
      adviceCode: 'confirm_card_data',
      param: 'exp_month',
    }),
  ),
  pm_card_chargeDeclinedIncorrectCvc: visa(
    '0127',
    declined({
      code: 'incorrect_cvc',
      declineCode: 'incorrect_cvc',
      message: "Your card's security code is incorrect.",
      adviceCode: 'confirm_card_data',
      param: 'cvc',
    }),
  ),
  pm_card_chargeDeclinedProcessingError: visa(
    '0119',
    declined({
      code: 'processing_error',
      declineCode: 'processing_error',
      message: 'An error occurred while processing your card. Try again in a little bit.',
      adviceCode: 'try_again_later',
    }),
  ),
  // 4000000000006975: card_declined / card_velocity_exceeded (docs.stripe.com/testing); no advice_code observed.
  pm_card_visa_chargeDeclinedVelocityLimitExceeded: visa(
    '6975',
    declined({
      code: 'card_declined',
      declineCode: 'card_velocity_exceeded',
      message: 'Your card was declined for making repeated attempts too frequently or exceeding its amount limit.',
    }),
  ),
  // 4000000000000341: "Attaching this card to a Customer object succeeds, but attempts to charge the customer
  // fail" (docs.stripe.com/testing): the charge is a generic decline.
  pm_card_chargeCustomerFail: visa('0341', declined(GENERIC_DECLINE)),
  // Fraud prevention (docs.stripe.com/radar/testing). pm_card_chargeDeclinedFraudulent and pm_card_radarBlock are
  // both 4100000000000019, always blocked; pm_card_riskLevelHighest (4000000000004954) is blocked by Radar's
  // default rule "Block if :risk_level: = 'highest'", which the emulator treats as enabled, as it is by default.
  pm_card_chargeDeclinedFraudulent: visa('0019', declined(RADAR_BLOCK)),
  pm_card_radarBlock: visa('0019', declined(RADAR_BLOCK)),
  pm_card_riskLevelHighest: visa('4954', declined(RADAR_BLOCK)),
  pm_card_authenticationRequired: visa('3184', { kind: 'authentication_required' }),
  // 4000000000003220: "3D Secure 2 authentication must be completed for the payment to be successful"
  // (docs.stripe.com/testing "3D Secure"); behaves like pm_card_authenticationRequired.
  pm_card_threeDSecure2Required: visa('3220', { kind: 'authentication_required' }),
  // 4000000000000259: the payment succeeds, then is disputed as fraudulent (docs.stripe.com/testing#disputes).
  pm_card_createDispute: visa('0259', { kind: 'success', after: 'dispute' }),
  // 4000000000005126: the payment succeeds; refunds succeed at first and fail a day later with
  // expired_or_canceled_card (docs.stripe.com/testing#refunds).
  pm_card_refundFail: visa('5126', { kind: 'success', after: 'refund_fail' }),
  // ACH Direct Debit test accounts (docs.stripe.com/payments/ach-direct-debit/accept-a-payment, "Test account
  // numbers": pm_usBankAccount_success 000123456789, pm_usBankAccount_insufficientFunds 000222222227, routing
  // 110000000). `pm_usBankAccount` is the emulator's short name for the successful one.
  pm_usBankAccount: {
    type: 'us_bank_account',
    brand: 'STRIPE TEST BANK',
    last4: '6789',
    funding: 'debit',
    country: 'US',
    outcome: { kind: 'bank_debit', failure: null },
  },
  pm_usBankAccount_insufficientFunds: {
    type: 'us_bank_account',
    brand: 'STRIPE TEST BANK',
    last4: '2227',
    funding: 'debit',
    country: 'US',
    outcome: {
      kind: 'bank_debit',
      failure: {
        code: 'insufficient_funds',
        message: "The customer's account has insufficient funds to cover this payment.",
      },
    },
  },
};
// Some third-party code spells the expired card with the brand prefix (docs.stripe.com/testing uses
// pm_card_chargeDeclinedExpiredCard); accept both.
export const TEST_CARD_ALIASES: Readonly<Record<string, string>> = {
  pm_card_visa_chargeDeclinedExpiredCard: 'pm_card_chargeDeclinedExpiredCard',
  pm_usBankAccount_success: 'pm_usBankAccount',
};

export function lookupTestCard(id: string): { key: string; card: TestCard } | undefined {
  const key = TEST_CARD_ALIASES[id] ?? id;
  const card = TEST_CARDS[key];
  return card ? { key, card } : undefined;
}
