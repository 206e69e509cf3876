// Stripe's range filters on timestamps and amounts: `created=123` (exact) or `created[gt|gte|lt|lte]=123`
// (docs.stripe.com/api/pagination; RangeQueryParam in the SDK's shared.d.ts). Used by the list endpoints.
import { invalidRequest } from './errors.js';
import type { FormObject } from './form.js';

const OPS = ['gt', 'gte', 'lt', 'lte'] as const;

function toInt(value: unknown, param: string): number {
  const n = typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw invalidRequest(`Invalid integer: ${String(value)}`, 'parameter_invalid_integer', param);
  return n;
}

/** A predicate for the range parameter `name` (always true when it is not given). */
export function rangeFilter(params: FormObject, name: string): (value: number) => boolean {
  const v = params[name];
  if (v === undefined || v === '') return () => true;
  if (typeof v === 'string') {
    const exact = toInt(v, name);
    return (x) => x === exact;
  }
  if (Array.isArray(v))
    throw invalidRequest(`Invalid ${name}: must be an integer or a hash`, 'parameter_invalid_integer', name);
  const bounds: Partial<Record<(typeof OPS)[number], number>> = {};
  for (const [op, raw] of Object.entries(v)) {
    if (!(OPS as readonly string[]).includes(op))
      throw invalidRequest(`Received unknown parameter: ${name}[${op}]`, 'parameter_unknown', `${name}[${op}]`);
    bounds[op as (typeof OPS)[number]] = toInt(raw, `${name}[${op}]`);
  }
  return (x) =>
    (bounds.gt === undefined || x > bounds.gt) &&
    (bounds.gte === undefined || x >= bounds.gte) &&
    (bounds.lt === undefined || x < bounds.lt) &&
    (bounds.lte === undefined || x <= bounds.lte);
}
