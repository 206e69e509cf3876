// Stripe Connect calls (issue 18, M6): connected accounts (Accounts.d.ts: `accounts.create`, `accounts.retrieve`;
// docs.stripe.com/api/accounts), transfers (Transfers.d.ts `transfers.create`) and a connected account's payouts
// (Payouts.d.ts `payouts.create`). What a request does on behalf of a connected account is chosen with the SDK's
// `stripeAccount` request option (the `Stripe-Account` header; docs.stripe.com/connect/authentication), which
// `onAccount` adds to the options the client passes (its idempotency key stays).
import type Stripe from 'stripe';
import {
  type CreateConnectedAccountRequest,
  type GatewayApplicationFee,
  type GatewayConnectedAccount,
  type GatewayOutcome,
  type GatewayPayout,
  type GatewayTransfer,
  type GatewayTransferReversal,
  type PayoutRequest,
  TRANSACTION_ID_METADATA_KEY,
  type TransferRequest,
  type TransferReversalRequest,
} from '../../app/gateway-port.js';
import { fromStripeWireAmount, toStripeWireAmount } from '../../domain/money.js';
import { inOperation } from './exchange.js';
import { payoutOutcome } from './map-sync.js';
import type { StripeClient } from './stripe-client.js';

/** The request options with the `Stripe-Account` header for `account` (none for the platform itself). */
export function onAccount(options: Stripe.RequestOptions, account: string | null | undefined): Stripe.RequestOptions {
  return account === null || account === undefined ? options : { ...options, stripeAccount: account };
}

export function toConnectedAccount(account: Stripe.Account): GatewayConnectedAccount {
  return {
    id: account.id,
    type: account.type ?? null,
    country: account.country ?? null,
    email: account.email ?? null,
    default_currency: typeof account.default_currency === 'string' ? account.default_currency.toUpperCase() : null,
    charges_enabled: account.charges_enabled === true,
    payouts_enabled: account.payouts_enabled === true,
  };
}

export function createConnectedAccount(
  client: StripeClient,
  sdk: Stripe,
  request: CreateConnectedAccountRequest,
): Promise<GatewayOutcome<GatewayConnectedAccount>> {
  return inOperation('createConnectedAccount', {}, async () => {
    const params: Stripe.AccountCreateParams = {
      type: request.type,
      ...(request.country === null ? {} : { country: request.country }),
      ...(request.email === null ? {} : { email: request.email }),
      metadata: request.metadata,
    };
    const sent = await client.send(request.idempotencyKey, (o) => sdk.accounts.create(params, o));
    return sent.ok ? { kind: 'succeeded', result: toConnectedAccount(sent.value) } : sent.outcome;
  });
}

export function retrieveConnectedAccount(
  client: StripeClient,
  sdk: Stripe,
  accountId: string,
): Promise<GatewayOutcome<GatewayConnectedAccount>> {
  return inOperation('retrieveConnectedAccount', {}, async () => {
    const sent = await client.send(undefined, (o) => sdk.accounts.retrieve(accountId, {}, o));
    return sent.ok ? { kind: 'succeeded', result: toConnectedAccount(sent.value) } : sent.outcome;
  });
}

/**
 * Transfers.d.ts `transfers.create` (docs.stripe.com/api/transfers/create): amount, currency, destination, and the
 * optional source_transaction and transfer_group; our transaction id goes into metadata. The idempotency key is the
 * caller's, so a repeated send of one transfer is answered with the transfer made the first time.
 */
export function createTransfer(
  client: StripeClient,
  sdk: Stripe,
  request: TransferRequest,
): Promise<GatewayOutcome<GatewayTransfer>> {
  return inOperation(
    'createTransfer',
    { transactionId: request.transactionId, idempotencyKey: request.idempotencyKey },
    async () => {
      const params: Stripe.TransferCreateParams = {
        amount: toStripeWireAmount(request.amount, request.currency),
        currency: request.currency.toLowerCase(),
        destination: request.destination,
        ...(request.sourceCharge === null ? {} : { source_transaction: request.sourceCharge }),
        ...(request.transferGroup === null ? {} : { transfer_group: request.transferGroup }),
        metadata: { [TRANSACTION_ID_METADATA_KEY]: request.transactionId },
      };
      const sent = await client.send(request.idempotencyKey, (o) => sdk.transfers.create(params, o));
      return sent.ok ? { kind: 'succeeded', result: toTransfer(sent.value) } : sent.outcome;
    },
  );
}

/**
 * Transfers.d.ts `transfers.createReversal` (docs.stripe.com/api/transfer_reversals/create): the amount to reverse
 * (TransferCreateReversalParams.amount, "Can only reverse up to the unreversed amount remaining of the transfer"; always
 * sent, so a resend asks for the same amount), our transaction id in metadata. The idempotency key is the caller's,
 * fixed for the reversal transaction, so a resend is answered with the reversal made the first time.
 */
export function reverseTransfer(
  client: StripeClient,
  sdk: Stripe,
  request: TransferReversalRequest,
): Promise<GatewayOutcome<GatewayTransferReversal>> {
  return inOperation(
    'reverseTransfer',
    { transactionId: request.transactionId, idempotencyKey: request.idempotencyKey },
    async () => {
      const params: Stripe.TransferCreateReversalParams = {
        amount: toStripeWireAmount(request.amount, request.currency),
        metadata: { [TRANSACTION_ID_METADATA_KEY]: request.transactionId },
      };
      const sent = await client.send(request.idempotencyKey, (o) =>
        sdk.transfers.createReversal(request.transfer, params, o),
      );
      return sent.ok ? { kind: 'succeeded', result: toTransferReversal(sent.value) } : sent.outcome;
    },
  );
}

function toTransferReversal(reversal: Stripe.TransferReversal): GatewayTransferReversal {
  const currency = reversal.currency.toUpperCase();
  const balance = reversal.balance_transaction;
  const transfer = reversal.transfer;
  return {
    id: reversal.id,
    amount: fromStripeWireAmount(reversal.amount, currency),
    currency,
    transfer: typeof transfer === 'string' ? transfer : transfer.id,
    balance_transaction: typeof balance === 'string' ? balance : (balance?.id ?? null),
  };
}

function toTransfer(transfer: Stripe.Transfer): GatewayTransfer {
  const currency = transfer.currency.toUpperCase();
  const destination = transfer.destination;
  const balance = transfer.balance_transaction;
  return {
    id: transfer.id,
    amount: fromStripeWireAmount(transfer.amount, currency),
    currency,
    destination: typeof destination === 'string' ? destination : (destination?.id ?? ''),
    amount_reversed: fromStripeWireAmount(transfer.amount_reversed, currency),
    balance_transaction: typeof balance === 'string' ? balance : (balance?.id ?? null),
  };
}

/**
 * Payouts.d.ts `payouts.create` (docs.stripe.com/api/payouts/create) on a connected account: the `stripeAccount`
 * option (`onAccount`) makes it the account's payout, drawn from its balance to its default external account (no
 * `destination` given). Amount and currency, the description when there is one, our transaction id in metadata. The
 * idempotency key is the caller's, fixed for the transaction, so a resend is answered with the payout made the first
 * time. "Your Stripe balance must cover the payout amount" (the same page): a 400 otherwise (invalid_request).
 */
export function createPayout(
  client: StripeClient,
  sdk: Stripe,
  request: PayoutRequest,
): Promise<GatewayOutcome<GatewayPayout>> {
  return inOperation(
    'createPayout',
    { transactionId: request.transactionId, idempotencyKey: request.idempotencyKey },
    async () => {
      const params: Stripe.PayoutCreateParams = {
        amount: toStripeWireAmount(request.amount, request.currency),
        currency: request.currency.toLowerCase(),
        ...(request.description === null ? {} : { description: request.description }),
        metadata: { [TRANSACTION_ID_METADATA_KEY]: request.transactionId },
      };
      const sent = await client.send(request.idempotencyKey, (o) =>
        sdk.payouts.create(params, onAccount(o, request.account)),
      );
      return sent.ok ? payoutOutcome(sent.value) : sent.outcome;
    },
  );
}

/** ApplicationFees.d.ts `ApplicationFee` -> the port's shape (amounts in the fee's currency's minor units). */
export function toApplicationFee(fee: Stripe.ApplicationFee): GatewayApplicationFee {
  const currency = fee.currency.toUpperCase();
  return {
    id: fee.id,
    amount: fromStripeWireAmount(fee.amount, currency),
    amount_refunded: fromStripeWireAmount(fee.amount_refunded, currency),
    currency,
    charge: typeof fee.charge === 'string' ? fee.charge : (fee.charge?.id ?? null),
  };
}
