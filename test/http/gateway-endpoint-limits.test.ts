// G5: a gateway's per-endpoint request limit through the gateways API: default 25, 0 turns it off, validated (a bad
// value changes nothing), audited like the other fields, off on the built-in emulator gateway.
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../support/harness.js';

const stripe = {
  name: 'Stripe endpoints',
  provider: 'stripe',
  settlement_currency: 'usd',
  secret_key_env: 'SETTLE_GATEWAY_TEST_SECRET_EP',
};

describeEachDatabase('gateways API: endpoint_rate_limit_per_second (G5)', (get) => {
  it('defaults to 25, takes 0 (off) to 10000, refuses anything else without changing the gateway, and is audited', async () => {
    const h = get();
    const created = await h.request('POST', '/v1/gateways', stripe);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.endpoint_rate_limit_per_second).toBe(25);
    const id = created.body.id as string;
    const own = await h.request('POST', '/v1/gateways', {
      ...stripe,
      name: 'Other',
      endpoint_rate_limit_per_second: 0,
    });
    expect(own.body.endpoint_rate_limit_per_second).toBe(0);

    for (const bad of [-1, 10_001, 2.5, '25', null]) {
      const res = await h.request('PATCH', `/v1/gateways/${id}`, { endpoint_rate_limit_per_second: bad });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.param ?? '').toMatch(/endpoint_rate_limit_per_second/);
    }
    expect((await h.request('GET', `/v1/gateways/${id}`)).body.endpoint_rate_limit_per_second).toBe(25);

    const patched = await h.request('PATCH', `/v1/gateways/${id}`, { endpoint_rate_limit_per_second: 10 });
    expect(patched.status).toBe(200);
    expect(patched.body.endpoint_rate_limit_per_second).toBe(10);
    const audit = await h.request('GET', `/v1/audit-events?object_id=${id}&limit=200`);
    const updated = audit.body.data.find((e: any) => e.action === 'gateway.updated');
    expect(updated.before.endpoint_rate_limit_per_second).toBe(25);
    expect(updated.after.endpoint_rate_limit_per_second).toBe(10);
  });

  it('is off on the built-in emulator gateway', async () => {
    const h = get();
    const list = await h.request('GET', '/v1/gateways');
    const emulator = list.body.data.find((g: any) => g.is_emulator === true);
    if (emulator) expect(emulator.endpoint_rate_limit_per_second).toBe(0);
  });
});
