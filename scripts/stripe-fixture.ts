// Writes test/fixtures/stripe/openapi-operations.json: what the request-shape contract test
// (test/gateway-adapters/stripe-request-shape.test.ts) needs to know about Stripe's API, taken from Stripe's OpenAPI
// description: for each operation the Stripe adapter calls, its path template, its method and every parameter name
// it accepts, in the bracket notation requests are sent in. It also writes the allow-list below: parameters the
// SDK sends that the spec copy lacks, each with its reason.
//
// Usage: npx tsx scripts/stripe-fixture.ts SPEC_FILE [--out FILE]
//   SPEC_FILE: Stripe's published OpenAPI description (spec3.json from https://github.com/stripe/openapi, MIT
//   licence), any API version. Rerun it when the adapter calls a new operation (add it to OPERATIONS first) or
//   when a newer spec is at hand. Not part of `npm test`; the output is committed.
//
// Parameter names in the fixture: `amount` (a field), `shipping[address][city]` (a field of an object),
// `expand[]` (an element of a list: sent as `expand[0]`, `expand[1]`, ...), `metadata[*]` (a free-form map: any key,
// and anything below it). Every prefix of a name is listed too, since Stripe takes an empty string for an object
// (`metadata=` clears it).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The operations the Stripe adapter (src/gateway-adapters/stripe/) calls, as `METHOD /path/template` of the spec. */
export const OPERATIONS = [
  'GET /v1/accounts/{account}',
  'POST /v1/accounts',
  'GET /v1/application_fees',
  'GET /v1/application_fees/{id}',
  'GET /v1/balance',
  'GET /v1/balance_transactions',
  'GET /v1/customers',
  'POST /v1/customers',
  'GET /v1/customers/{customer}/payment_methods',
  'GET /v1/disputes',
  'GET /v1/disputes/{dispute}',
  'GET /v1/payment_intents',
  'POST /v1/payment_intents',
  'GET /v1/payment_intents/search',
  'GET /v1/payment_intents/{intent}',
  'POST /v1/payment_intents/{intent}/cancel',
  'POST /v1/payment_intents/{intent}/capture',
  'GET /v1/payment_methods/{payment_method}',
  'POST /v1/payment_methods/{payment_method}/attach',
  'GET /v1/payouts',
  'POST /v1/payouts',
  'GET /v1/payouts/{payout}',
  'GET /v1/refunds',
  'POST /v1/refunds',
  'GET /v1/refunds/{refund}',
  'POST /v1/setup_intents',
  'GET /v1/setup_intents/{intent}',
  'POST /v1/transfers',
  'POST /v1/transfers/{id}/reversals',
] as const;

/**
 * Parameters the pinned SDK sends (or lets the adapter send) that the spec copy lacks, with the reason. Top-level
 * names only: anything below them is accepted. The script refuses an entry the spec already has, so the list
 * shrinks when the spec copy is renewed; the contract test checks the SDK's types declare each one. An entry reads
 * { operation: 'POST /v1/payment_intents', parameter: 'payment_method_configuration',
 *   reason: 'added to Stripe\'s API after 2023-08-16; PaymentIntentCreateParams of stripe 23.1.0 has it' }.
 * Empty today: every request the adapter sends uses names the 2023-08-16 spec already has.
 */
export const SDK_ONLY: readonly SdkOnly[] = [];

export interface SdkOnly {
  operation: string;
  parameter: string;
  reason: string;
}

export interface StripeOperationsFixture {
  about: string;
  source: string;
  /** `info.version` of the spec the names come from. */
  apiVersion: string;
  /** `METHOD /path/template` -> accepted parameter names, sorted. */
  operations: Record<string, string[]>;
  sdkOnly: SdkOnly[];
}

type Schema = {
  $ref?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  items?: Schema;
};
interface Operation {
  parameters?: { name: string; in: string; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface Spec {
  info?: { version?: string };
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const MAX_DEPTH = 12;

/** The alternatives a schema stands for, with references followed (a reference already on the way is cut). */
function alternatives(
  spec: Spec,
  schema: Schema | undefined,
  seen: ReadonlySet<string>,
): { schema: Schema; seen: ReadonlySet<string> }[] {
  if (!schema) return [];
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    if (seen.has(name)) return [];
    return alternatives(spec, spec.components?.schemas?.[name], new Set([...seen, name]));
  }
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.flatMap((s) => alternatives(spec, s, seen));
  return [{ schema, seen }];
}

function collect(
  spec: Spec,
  name: string,
  schema: Schema | undefined,
  out: Set<string>,
  depth = 0,
  seen: ReadonlySet<string> = new Set(),
): void {
  out.add(name);
  if (depth >= MAX_DEPTH) {
    out.add(`${name}[*]`);
    return;
  }
  for (const alt of alternatives(spec, schema, seen)) {
    const s = alt.schema;
    if (s.items) collect(spec, `${name}[]`, s.items, out, depth + 1, alt.seen);
    for (const [key, child] of Object.entries(s.properties ?? {}))
      collect(spec, `${name}[${key}]`, child, out, depth + 1, alt.seen);
    if (s.additionalProperties !== undefined && s.additionalProperties !== false) out.add(`${name}[*]`);
  }
}

/** The parameter names one operation accepts: query parameters for GET and DELETE, form fields otherwise. */
export function parameterNames(spec: Spec, method: string, operation: Operation): string[] {
  const out = new Set<string>();
  if (method === 'GET' || method === 'DELETE') {
    for (const p of operation.parameters ?? []) if (p.in === 'query') collect(spec, p.name, p.schema, out);
  } else {
    const form = operation.requestBody?.content?.['application/x-www-form-urlencoded']?.schema;
    for (const alt of alternatives(spec, form, new Set())) {
      for (const [key, child] of Object.entries(alt.schema.properties ?? {}))
        collect(spec, key, child, out, 0, alt.seen);
    }
  }
  return [...out].sort();
}

export function buildFixture(
  spec: Spec,
  operations: readonly string[] = OPERATIONS,
  sdkOnly: readonly SdkOnly[] = SDK_ONLY,
): StripeOperationsFixture {
  const apiVersion = spec.info?.version;
  if (!apiVersion || !spec.paths)
    throw new Error("not an OpenAPI description of Stripe's API: no info.version or no paths");
  const result: Record<string, string[]> = {};
  for (const key of operations) {
    const [method = '', template = ''] = key.split(' ');
    const operation = spec.paths[template]?.[method.toLowerCase()];
    if (!operation) throw new Error(`${key}: not in the spec (API version ${apiVersion})`);
    result[key] = parameterNames(spec, method, operation);
  }
  for (const entry of sdkOnly) {
    const names = result[entry.operation];
    if (!names) throw new Error(`allow-list: ${entry.operation} is not one of OPERATIONS`);
    if (names.includes(entry.parameter)) {
      throw new Error(
        `allow-list: ${entry.operation} '${entry.parameter}' is in the spec (API version ${apiVersion}): remove the entry`,
      );
    }
  }
  return {
    about:
      "Generated by scripts/stripe-fixture.ts from Stripe's OpenAPI description; do not edit by hand. Parameter names in " +
      'bracket notation: [] is a list element, [*] any key of a free-form map.',
    source: 'https://github.com/stripe/openapi (MIT licence)',
    apiVersion,
    operations: result,
    sdkOnly: [...sdkOnly],
  };
}

function main(argv: string[]): void {
  const usage =
    'usage: npx tsx scripts/stripe-fixture.ts SPEC_FILE [--out FILE]\n' +
    '  SPEC_FILE: spec3.json from https://github.com/stripe/openapi';
  const args = [...argv];
  const outAt = args.indexOf('--out');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  let out = path.join(root, 'test', 'fixtures', 'stripe', 'openapi-operations.json');
  if (outAt >= 0) {
    const value = args[outAt + 1];
    if (!value) throw new Error(usage);
    out = path.resolve(value);
    args.splice(outAt, 2);
  }
  const [specFile, ...rest] = args;
  if (!specFile || rest.length > 0 || specFile === '--help' || specFile === '-h') {
    console.error(usage);
    process.exitCode = 2;
    return;
  }
  const fixture = buildFixture(JSON.parse(readFileSync(specFile, 'utf8')) as Spec);
  writeFileSync(out, `${JSON.stringify(fixture, null, 2)}\n`);
  const count = Object.values(fixture.operations).reduce((n, names) => n + names.length, 0);
  console.log(
    `${path.relative(process.cwd(), out)}: API version ${fixture.apiVersion}, ${Object.keys(fixture.operations).length} operations, ${count} parameter names, ${fixture.sdkOnly.length} allow-listed`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
