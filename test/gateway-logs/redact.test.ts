// Secret removal and form decoding used by the gateway log.
import { expect, it } from 'vitest';
import { REDACTED, redactText, redactValue } from '../../src/app/gateway-log.js';
import { decodeForm } from '../../src/gateway-adapters/stripe/exchange.js';

it.each([
  ['key sk_test_51HabcDEF end', `key ${REDACTED} end`],
  ['sk_live_abc and rk_live_xyz, rk_test_1', `${REDACTED} and ${REDACTED}, ${REDACTED}`],
  ['Invalid API Key provided: sk_test_****1234', `Invalid API Key provided: ${REDACTED}`],
  ['whsec_abc123', REDACTED],
  ['pi_3Abc_secret_XyZ', REDACTED],
  ['card 4242424242424242', `card ${REDACTED}`],
  ['card 4242-4242-4242-4242!', `card ${REDACTED}!`],
  ['378282246310005', REDACTED],
  ['pi_3N123456789012345abc', 'pi_3N123456789012345abc'], // ids are not card numbers
  ['amount 1000 on 2026-11-24', 'amount 1000 on 2026-11-24'],
  ['phone 555 123 4567', 'phone 555 123 4567'],
])('redactText(%s)', (input, expected) => {
  expect(redactText(input)).toBe(expected);
});

it('redacts secret keys, secret-looking keys and values, deeply; leaves numbers', () => {
  expect(
    redactValue({
      client_secret: 'pi_1_secret_2',
      webhook_secret: 'anything',
      metadata: { sk_test_abc: 'v', note: 'has whsec_x inside' },
      list: ['4000056655665556', 12],
      amount: 424242424242,
      none: null,
    }),
  ).toEqual({
    client_secret: REDACTED,
    webhook_secret: REDACTED,
    metadata: { [REDACTED]: 'v', note: `has ${REDACTED} inside` },
    list: [REDACTED, 12],
    amount: 424242424242,
    none: null,
  });
});

it('decodes form bodies with bracket notation', () => {
  expect(
    decodeForm(
      'amount=1000&metadata[settle_transaction_id]=trx_1&expand[0]=latest_charge.balance_transaction&expand[1]=x&automatic_payment_methods[enabled]=true&a[b][0][c]=d&e[]=1&e[]=2',
    ),
  ).toEqual({
    amount: '1000',
    metadata: { settle_transaction_id: 'trx_1' },
    expand: ['latest_charge.balance_transaction', 'x'],
    automatic_payment_methods: { enabled: 'true' },
    a: { b: [{ c: 'd' }] },
    e: ['1', '2'],
  });
  expect(decodeForm('')).toEqual({});
});
