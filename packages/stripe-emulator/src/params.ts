// Typed readers for decoded Stripe parameters, with Stripe's validation errors: `parameter_unknown` for names
// an endpoint does not take, `parameter_missing`, `parameter_invalid_integer`, `parameter_invalid_string`.
import type { FormObject, FormValue } from './form.js';
import { invalidRequest, parameterMissing, parameterUnknown } from './errors.js';

/** Rejects any top-level parameter the endpoint does not accept (Stripe: 400 parameter_unknown). */
export function checkKnown(params: FormObject, allowed: readonly string[]): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) throw parameterUnknown(key);
  }
}

function scalar(params: FormObject, name: string): string | undefined {
  const v: FormValue | undefined = params[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string')
    throw invalidRequest(`Invalid ${name}: must be a string`, 'parameter_invalid_string', name);
  return v;
}

/** A string parameter; '' counts as not given. */
export function optString(params: FormObject, name: string): string | undefined {
  const v = scalar(params, name);
  return v === '' ? undefined : v;
}

export function reqString(params: FormObject, name: string): string {
  const v = optString(params, name);
  if (v === undefined) throw parameterMissing(name);
  return v;
}

export function optEnum<T extends string>(params: FormObject, name: string, values: readonly T[]): T | undefined {
  const v = optString(params, name);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) {
    throw invalidRequest(`Invalid ${name}: must be one of ${values.join(', ')}`, 'parameter_invalid_string', name);
  }
  return v as T;
}

export function optInt(params: FormObject, name: string): number | undefined {
  const v = optString(params, name);
  if (v === undefined) return undefined;
  const n = /^-?\d{1,15}$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw invalidRequest(`Invalid integer: ${v}`, 'parameter_invalid_integer', name);
  return n;
}

export function reqInt(params: FormObject, name: string): number {
  const n = optInt(params, name);
  if (n === undefined) throw parameterMissing(name);
  return n;
}

export function optBool(params: FormObject, name: string): boolean | undefined {
  const v = optString(params, name);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw invalidRequest(`Invalid boolean: ${v}`, 'parameter_invalid_string', name);
  return v === 'true';
}

/** `limit` for lists: 1..100, default 10 (Stripe's pagination rules). */
export function limitParam(params: FormObject): number {
  const n = optInt(params, 'limit') ?? 10;
  if (n < 1 || n > 100) throw invalidRequest('limit must be between 1 and 100', 'parameter_invalid_integer', 'limit');
  return n;
}

export function stringList(params: FormObject, name: string): string[] {
  const v = params[name];
  if (v === undefined) return [];
  if (typeof v === 'string') return v === '' ? [] : [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw invalidRequest(`Invalid array: ${name}`, 'parameter_invalid_string', name);
  }
  return v as string[];
}

/**
 * Metadata: string values only; keys at most 40 characters, values at most 500, at most 50 keys; an empty
 * value removes the key (docs.stripe.com/api/metadata).
 */
export function metadataParam(params: FormObject, base: Record<string, string> = {}): Record<string, string> {
  const v = params.metadata;
  if (v === undefined) return { ...base };
  if (v === '') return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw invalidRequest('Invalid metadata: must be a hash', 'parameter_invalid_string', 'metadata');
  const out = { ...base };
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string')
      throw invalidRequest(`Invalid metadata[${k}]: must be a string`, 'parameter_invalid_string', `metadata[${k}]`);
    if (k.length > 40)
      throw invalidRequest(
        `Metadata key ${k} is longer than 40 characters`,
        'parameter_invalid_string',
        `metadata[${k}]`,
      );
    if (val.length > 500)
      throw invalidRequest(
        `Metadata value for ${k} is longer than 500 characters`,
        'parameter_invalid_string',
        `metadata[${k}]`,
      );
    if (val === '') delete out[k];
    else out[k] = val;
  }
  if (Object.keys(out).length > 50)
    throw invalidRequest('Metadata can have at most 50 keys', 'parameter_invalid_string', 'metadata');
  return out;
}
