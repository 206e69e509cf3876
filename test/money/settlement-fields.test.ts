// The pure parts of fees, conversion and balances (M3-M5): the rate as decimal text, the account balance mapping and
// the fields the API derives from the stored ones (present.ts settlementView). No database, no server.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { settlementView } from '../../src/app/transactions/present.js';
import { decimalText } from '../../src/gateway-adapters/stripe/map-objects.js';
import { toAccountBalances } from '../../src/gateway-adapters/stripe/map-sync.js';
import type { TransactionRow } from '../../src/store/schema.js';

describe('exchange_rate as decimal text', () => {
  it('keeps the shortest text of the number Stripe sent', () => {
    expect(decimalText(1.1)).toBe('1.1');
    expect(decimalText(1.234)).toBe('1.234');
    expect(decimalText(0.0067)).toBe('0.0067');
    expect(decimalText(149.25)).toBe('149.25');
    expect(decimalText(1)).toBe('1');
  });

  it('spells out what JavaScript writes with an exponent', () => {
    expect(String(1.5e-7)).toBe('1.5e-7');
    expect(decimalText(1.5e-7)).toBe('0.00000015');
    expect(decimalText(1e-7)).toBe('0.0000001');
    expect(decimalText(1.25e21)).toBe('1250000000000000000000');
    expect(decimalText(1e21)).toBe('1000000000000000000000');
  });
});

describe('the account balance', () => {
  it('one entry per currency, upper case, a currency missing from one list is 0 there', () => {
    const balance = {
      object: 'balance',
      available: [
        { amount: 1200, currency: 'usd', source_types: {} },
        { amount: 500, currency: 'jpy', source_types: {} },
      ],
      pending: [
        { amount: 300, currency: 'usd', source_types: {} },
        { amount: -40, currency: 'eur', source_types: {} },
      ],
      livemode: false,
    } as unknown as Stripe.Balance; // only the fields the mapping reads
    expect(toAccountBalances(balance)).toEqual([
      { currency: 'EUR', available: 0, pending: -40 },
      { currency: 'JPY', available: 500, pending: 0 },
      { currency: 'USD', available: 1200, pending: 300 },
    ]);
  });
});

describe('derived fee and net fields', () => {
  const base = {
    record_type: 'charge',
    transaction_type: 'normal',
    gateway_fee: 320,
    refunded_gateway_fee: 0,
    application_fee: null,
    refunded_application_fee: 0,
    net_amount: 9680,
    refunds_net_amount: 0,
    disputes_net_amount: 0,
    settlement_currency: 'USD',
    settlement_amount: 10000,
  } as const;
  const row = (changes: Partial<TransactionRow>) => ({ ...base, ...changes }) as unknown as TransactionRow; // the fields read

  it('a charge: retained net after refunds and disputes; negative when fully refunded', () => {
    expect(settlementView(row({}))).toMatchObject({ net_gateway_fee: 320, retained_net_amount: 9680 });
    expect(settlementView(row({ refunds_net_amount: -10000 })).retained_net_amount).toBe(-320);
    expect(settlementView(row({ refunds_net_amount: -2500, disputes_net_amount: -9000 })).retained_net_amount).toBe(
      9680 - 2500 - 9000,
    );
  });

  it('fees given back and application fees', () => {
    expect(settlementView(row({ refunded_gateway_fee: 20 })).net_gateway_fee).toBe(300);
    expect(settlementView(row({ application_fee: 123, refunded_application_fee: 23 }))).toMatchObject({
      net_application_fee: 100,
      refunded_application_fee: 23,
    });
    expect(settlementView(row({})).net_application_fee).toBeNull();
  });

  it('no balance transaction yet: null; a refund: its own net', () => {
    expect(settlementView(row({ net_amount: null, gateway_fee: null }))).toMatchObject({
      retained_net_amount: null,
      net_gateway_fee: null,
    });
    expect(
      settlementView(row({ transaction_type: 'refund', net_amount: -440, refunds_net_amount: 0 })).retained_net_amount,
    ).toBe(-440);
  });
});
