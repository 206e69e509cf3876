// Nested parameters shared by the customer and PaymentMethod endpoints: hashes whose keys are checked (Stripe
// refuses an unknown `name[key]` as parameter_unknown), addresses (AddressParam in the SDK's shared.d.ts) and
// billing_details (PaymentMethodCreateParams.BillingDetails).
import { invalidRequest } from './errors.js';
import type { FormObject, FormValue } from './form.js';
import { optString } from './params.js';

type Json = Record<string, unknown>;

export const ADDRESS_FIELDS = ['city', 'country', 'line1', 'line2', 'postal_code', 'state'] as const;

/**
 * The hash parameter `name` of `params`: undefined when absent, {} when sent as '' (Stripe's way to unset it), its
 * keys checked against `allowed`. `label` is its full name in errors (`billing_details[address]`).
 */
export function hashParam(
  params: FormObject,
  name: string,
  allowed: readonly string[],
  label = name,
): FormObject | undefined {
  const v: FormValue | undefined = params[name];
  if (v === undefined) return undefined;
  if (v === '') return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw invalidRequest(`Invalid ${label}: must be a hash`, 'parameter_invalid_string', label);
  for (const key of Object.keys(v)) {
    if (!allowed.includes(key))
      throw invalidRequest(`Received unknown parameter: ${label}[${key}]`, 'parameter_unknown', `${label}[${key}]`);
  }
  return v;
}

/** An address from its hash: the fields given ('' unsets one), the others from `base` (or null). */
export function addressFrom(given: FormObject, base: Json = {}): Json {
  return Object.fromEntries(
    ADDRESS_FIELDS.map((f) => [f, given[f] === undefined ? (base[f] ?? null) : (optString(given, f) ?? null)]),
  );
}

/** billing_details: address, email, name, phone, tax_id merged into `base`; '' unsets a field. */
export function billingDetails(params: FormObject, base: Json): Json {
  const given = hashParam(params, 'billing_details', ['address', 'email', 'name', 'phone', 'tax_id']);
  if (given === undefined) return base;
  const out: Json = { ...base };
  for (const field of ['email', 'name', 'phone', 'tax_id'] as const) {
    if (given[field] !== undefined) out[field] = optString(given, field) ?? null;
  }
  const address = hashParam(given, 'address', ADDRESS_FIELDS, 'billing_details[address]');
  if (address !== undefined) out.address = addressFrom(address, (base.address ?? {}) as Json);
  return out;
}
