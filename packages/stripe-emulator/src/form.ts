// Decodes Stripe's form encoding (application/x-www-form-urlencoded with bracket notation) into nested values:
//   metadata[order]=42        -> { metadata: { order: '42' } }
//   expand[]=a&expand[]=b     -> { expand: ['a', 'b'] }
//   expand[0]=a&expand[1]=b   -> { expand: ['a', 'b'] }   (stripe-node sends indexed arrays: utils.js)
// Every leaf is a string. A parameter sent as an empty string (`description=`) stays '' so handlers can treat
// it as "unset", which is what Stripe does with empty values.
import { invalidRequest } from './errors.js';

export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

function splitKey(raw: string): string[] {
  const open = raw.indexOf('[');
  if (open <= 0) return [raw];
  const parts = [raw.slice(0, open)];
  const rest = raw.slice(open);
  const re = /\[([^\]]*)\]/gy;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest)) !== null) {
    parts.push(m[1] ?? '');
    consumed = re.lastIndex;
  }
  if (consumed !== rest.length) throw invalidRequest(`Invalid parameter name: ${raw}`, 'parameter_invalid_string', raw);
  return parts;
}

const isIndex = (s: string): boolean => s === '' || /^\d+$/.test(s);

function assign(target: FormObject | FormValue[], path: readonly string[], value: string, raw: string): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (Array.isArray(target)) {
    const index = head === '' ? target.length : Number(head);
    if (rest.length === 0) {
      target[index] = value;
      return;
    }
    const existing = target[index];
    const child = existing ?? (isIndex(rest[0] ?? '') ? [] : {});
    if (typeof child === 'string')
      throw invalidRequest(`Invalid parameter structure: ${raw}`, 'parameter_invalid_string', raw);
    target[index] = child;
    assign(child, rest, value, raw);
    return;
  }
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const existing = target[head];
  const child = existing ?? (isIndex(rest[0] ?? '') ? [] : {});
  if (typeof child === 'string')
    throw invalidRequest(`Invalid parameter structure: ${raw}`, 'parameter_invalid_string', raw);
  target[head] = child;
  assign(child, rest, value, raw);
}

/** Drops holes left by sparse indexes (`a[3]=x` alone gives ['x']). */
function compact(value: FormValue): FormValue {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(compact);
  const out: FormObject = {};
  for (const [k, v] of Object.entries(value)) out[k] = compact(v);
  return out;
}

export function decodeForm(body: string): FormObject {
  const root: FormObject = {};
  if (body.trim() === '') return root;
  for (const [rawKey, value] of new URLSearchParams(body)) {
    assign(root, splitKey(rawKey), value, rawKey);
  }
  return compact(root) as FormObject;
}
