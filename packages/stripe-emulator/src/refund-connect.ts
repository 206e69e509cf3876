// Refunds create's Connect parameters (RefundCreateParams in the SDK's Refunds.d.ts):
//   reverse_transfer         "whether the transfer should be reversed when refunding this charge. The transfer will be
//                            reversed proportionally to the amount being refunded"
//   refund_application_fee   "whether the application fee should be refunded when refunding this charge. If a full
//                            charge refund is given, the full application fee will be refunded. Otherwise, the
//                            application fee will be refunded in an amount proportional to the amount of the charge
//                            refunded"
// Both are booleans ('true' / 'false', else parameter_invalid_string). refund_application_fee=true on a direct charge
// (one made on a connected account with an application_fee_amount, application-fees.ts) refunds its application fee
// proportionally (refundConnectParts below, application-fees.ts refundFeeWithCharge). Destination charges are not
// modelled: a platform charge's transfer_data (and its application_fee_amount) is only stored (charges.ts), so there
// is no transfer to reverse, and the Refund's transfer_reversal stays null. What it checks:
// `true` needs something to act on: a charge with transfer_data for reverse_transfer, with an application_fee_amount
// for refund_application_fee; otherwise a 400 on that parameter with no code (⚠️ the emulator's reading: Stripe's
// pages say what the flags do on Connect charges, not what it answers on a charge without a transfer or fee; a public
// report shows it refusing refund_application_fee from an application that did not create the fee, "Only an
// application generating a fee can call refund_application_fee on <charge>", stripe/stripe-python#124).
import { refundFeeWithCharge } from './application-fees.js';
import { invalidRequest } from './errors.js';
import type { FormObject } from './form.js';
import { optBool } from './params.js';
import type { EmulatorState } from './state.js';
import type { Charge } from './types.js';

export const REFUND_CONNECT_PARAMS = ['reverse_transfer', 'refund_application_fee'] as const;

export function checkRefundConnectParams(params: FormObject, charge: Charge): void {
  if (optBool(params, 'reverse_transfer') === true && (charge.transfer_data ?? null) === null)
    throw invalidRequest(
      `Charge ${charge.id} has no transfer to reverse: reverse_transfer applies to destination charges (transfer_data).`,
      undefined,
      'reverse_transfer',
    );
  if (optBool(params, 'refund_application_fee') === true && (charge.application_fee_amount ?? null) === null)
    throw invalidRequest(
      `Charge ${charge.id} has no application fee to refund: refund_application_fee applies to charges with an application_fee_amount.`,
      undefined,
      'refund_application_fee',
    );
}

/** After a refund of `amount` on `charge`: refund_application_fee=true refunds its application fee proportionally. */
export function refundConnectParts(state: EmulatorState, params: FormObject, charge: Charge, amount: number): void {
  if (optBool(params, 'refund_application_fee') === true) refundFeeWithCharge(state, charge, amount);
}
