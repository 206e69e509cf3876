// The `Stripe-Account` header (docs.stripe.com/api/connected-accounts: "To act as connected accounts, clients can
// issue requests using the Stripe-Account special header ... a Stripe account ID, which usually starts with the acct_
// prefix"; the SDK sends it for the `stripeAccount` request option). A request with it acts on that connected
// account: what it creates belongs to the account, and reads and lists see only the account's objects (the scoping
// itself is EmulatorState.account, state.ts). Without it the request acts on the platform, which does not see its
// connected accounts' objects either.
//
// An id that names no connected account is refused before anything runs, with Stripe's permission error: HTTP 403
// (the SDKs' PermissionError), type invalid_request_error and the text "The provided key 'sk_test_…' does not have
// access to account '<id>' (or that account does not exist). Application access may have been revoked." (as quoted
// in public reports: github.com/stripe-ruby-mock/stripe-ruby-mock/issues/422, github.com/letsrevel/revel-backend
// issue 694). ⚠️ The code `account_invalid` (one of the error codes in the SDK's .d.ts, e.g. PaymentIntents.d.ts
// LastPaymentError.Code) is the emulator's choice: those reports do not show the code. The same answer comes for
// GET /v1/accounts/<unknown id> (connect-accounts.ts), as the first report shows.
import { StripeApiError, docUrl } from './errors.js';
import type { EmulatorState } from './state.js';
import type { Account } from './types.js';

export const STRIPE_ACCOUNT_HEADER = 'stripe-account';

/** The key as Stripe shows it in this message: the prefix and stars. */
function maskedKey(key: string): string {
  return `${key.slice(0, 8)}${'*'.repeat(Math.max(0, Math.min(key.length - 8, 24)))}`;
}

export function accountInaccessible(key: string, account: string): StripeApiError {
  return new StripeApiError(403, {
    type: 'invalid_request_error',
    message:
      `The provided key '${maskedKey(key)}' does not have access to account '${account}' (or that account does not ` +
      'exist). Application access may have been revoked.',
    code: 'account_invalid',
    doc_url: docUrl('account_invalid'),
  });
}

/** The account a request acts on: null (the platform) without the header, else the connected account's id. */
export function requestAccount(
  state: EmulatorState,
  header: string | string[] | undefined,
  key: string,
): string | null {
  if (header === undefined || header === '') return null;
  const id = Array.isArray(header) ? (header[0] ?? '') : header;
  if (state.asAccount(undefined, () => state.find<Account>(id, 'account')) === undefined)
    throw accountInaccessible(key, id);
  return id;
}
