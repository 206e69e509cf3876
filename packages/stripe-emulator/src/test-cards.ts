// Stripe's test PaymentMethods (docs.stripe.com/testing; docs.stripe.com/testing). Each magic id describes a card and
// what happens when it is charged. As in Stripe, using a magic id creates a new `pm_...` PaymentMethod that
// keeps the card's behaviour.

export type CardOutcome =
  /** `after`: what happens once the charge is captured (a dispute opens) or refunded (the refund fails later). */
  | { kind: 'success'; after?: 'dispute' | 'refund_fail' }
  /** An ACH debit: processing for 4 days, then it settles (failure null) or fails with that code. */
  | { kind: 'bank_debit'; failure: { code: string; message: string } | null }
  | { kind: 'decline'; code: string; declineCode: string; message: string }
  /** 3-D Secure always required: on-session -> requires_action; off-session -> authentication_required decline. */
  | { kind: 'authentication_required' };

export interface TestCard {
  /** Absent means 'card'. */
  type?: 'card' | 'us_bank_account';
  brand: string;
  last4: string;
  funding: 'credit' | 'debit';
  country: string;
  outcome: CardOutcome;
}

const declined = (declineCode: string, message: string, code = 'card_declined'): CardOutcome => ({
  kind: 'decline',
  code,
  declineCode,
  message,
});

export const TEST_CARDS: Readonly<Record<string, TestCard>> = {
  pm_card_visa: { brand: 'visa', last4: '4242', funding: 'credit', country: 'US', outcome: { kind: 'success' } },
  pm_card_mastercard: {
    brand: 'mastercard',
    last4: '4444',
    funding: 'credit',
    country: 'US',
    outcome: { kind: 'success' },
  },
  pm_card_amex: { brand: 'amex', last4: '8431', funding: 'credit', country: 'US', outcome: { kind: 'success' } },
  pm_card_visa_chargeDeclined: {
    brand: 'visa',
    last4: '0002',
    funding: 'credit',
    country: 'US',
    outcome: declined('generic_decline', 'The card was declined.'),
  },
  pm_card_visa_chargeDeclinedInsufficientFunds: {
    brand: 'visa',
    last4: '9995',
    funding: 'credit',
    country: 'US',
    outcome: declined('insufficient_funds', 'The card has insufficient funds.'),
  },
  pm_card_visa_chargeDeclinedLostCard: {
    brand: 'visa',
    last4: '9987',
    funding: 'credit',
    country: 'US',
    outcome: declined('lost_card', 'The card was declined (reported lost).'),
  },
  pm_card_visa_chargeDeclinedStolenCard: {
    brand: 'visa',
    last4: '9979',
    funding: 'credit',
    country: 'US',
    outcome: declined('stolen_card', 'The card was declined (reported stolen).'),
  },
  // Expired card: `code` is expired_card rather than card_declined (docs.stripe.com/declines/codes).
  pm_card_chargeDeclinedExpiredCard: {
    brand: 'visa',
    last4: '0069',
    funding: 'credit',
    country: 'US',
    outcome: declined('expired_card', 'The card has expired.', 'expired_card'),
  },
  pm_card_chargeDeclinedIncorrectCvc: {
    brand: 'visa',
    last4: '0127',
    funding: 'credit',
    country: 'US',
    outcome: declined('incorrect_cvc', 'The card security code is incorrect.', 'incorrect_cvc'),
  },
  pm_card_chargeDeclinedProcessingError: {
    brand: 'visa',
    last4: '0119',
    funding: 'credit',
    country: 'US',
    outcome: declined('processing_error', 'An error occurred while processing the card.', 'processing_error'),
  },
  pm_card_authenticationRequired: {
    brand: 'visa',
    last4: '3184',
    funding: 'credit',
    country: 'US',
    outcome: { kind: 'authentication_required' },
  },
  // 4000000000000259: the payment succeeds, then is disputed as fraudulent (docs.stripe.com/testing#disputes).
  pm_card_createDispute: {
    brand: 'visa',
    last4: '0259',
    funding: 'credit',
    country: 'US',
    outcome: { kind: 'success', after: 'dispute' },
  },
  // 4000000000005126: the payment succeeds; refunds succeed at first and fail a day later with
  // expired_or_canceled_card (docs.stripe.com/testing#refunds).
  pm_card_refundFail: {
    brand: 'visa',
    last4: '5126',
    funding: 'credit',
    country: 'US',
    outcome: { kind: 'success', after: 'refund_fail' },
  },
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
