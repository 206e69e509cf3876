import { describe, expect, it } from 'vitest';
import { useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

describe('updatePaymentMethod (network card updates)', () => {
  it('changes the card and records payment_method.automatically_updated and payment_method.updated', async () => {
    const customer = await stripe().customers.create({});
    const pm = await stripe().paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const updated = emulator().controls.updatePaymentMethod(pm.id, { exp_month: 3, exp_year: 2031, last4: '1881' });
    expect(updated).toMatchObject({ id: pm.id, card: { exp_month: 3, exp_year: 2031, last4: '1881', brand: 'visa' } });
    expect(await stripe().paymentMethods.retrieve(pm.id)).toMatchObject({
      card: { exp_month: 3, exp_year: 2031, last4: '1881' },
    });
    const [upd, auto] = (await stripe().events.list({ limit: 2 })).data;
    expect([auto!.type, upd!.type]).toEqual(['payment_method.automatically_updated', 'payment_method.updated']);
    expect(auto!.data.previous_attributes).toEqual({
      card: { exp_month: 12, exp_year: pm.card!.exp_year, last4: '4242' },
    });
    expect(auto!.request).toEqual({ id: null, idempotency_key: null });
    // A charge made after the update shows the new card details.
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: customer.id,
      payment_method: pm.id,
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    const charge = await stripe().charges.retrieve(pi.latest_charge as string);
    expect(charge.payment_method_details?.card).toMatchObject({ exp_month: 3, exp_year: 2031, last4: '1881' });
  });

  it('validates, and works over HTTP', async () => {
    const pm = await stripe().paymentMethods.retrieve('pm_card_mastercard');
    expect(() => emulator().controls.updatePaymentMethod(pm.id, { exp_month: 13, exp_year: 2030 })).toThrow(
      /exp_month/,
    );
    expect(() => emulator().controls.updatePaymentMethod('pm_missing', { exp_month: 1, exp_year: 2030 })).toThrow(
      /No such/,
    );
    const res = await fetch(`${emulator().url}/_emulator/payment_methods/${pm.id}/update`, {
      method: 'POST',
      body: JSON.stringify({ exp_month: 7, exp_year: 2032 }),
    });
    expect(await res.json()).toMatchObject({ card: { exp_month: 7, exp_year: 2032, last4: '4444' } });
    const bank = await stripe().paymentMethods.retrieve('pm_usBankAccount');
    const bad = await fetch(`${emulator().url}/_emulator/payment_methods/${bank.id}/update`, {
      method: 'POST',
      body: JSON.stringify({ exp_month: 7, exp_year: 2032 }),
    });
    expect(bad.status).toBe(400);
  });
});
