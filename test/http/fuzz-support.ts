// Support for the fuzz suite (fuzz.test.ts): the operations listed by the app's own /openapi.json, fast-check
// arbitraries of requests built from their schemas (valid, nearly valid and hostile), and a digest of the whole
// database taken in one query.
import fc from 'fast-check';
import { type Kysely, sql } from 'kysely';

/** The part of JSON Schema the API's schemas use. */
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  $ref?: string;
}

export interface Operation {
  /** 'POST /v1/transactions/{id}/refund' */
  name: string;
  method: string;
  path: string;
  pathParams: string[];
  query: [string, Schema][];
  body: Schema | undefined;
}

interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { in: string; name: string; schema: Schema }[];
        requestBody?: { content?: Record<string, { schema: Schema }> };
      }
    >
  >;
  components?: { schemas?: Record<string, Schema> };
}

/** Every operation of the document, with `$ref`s resolved. */
export function operationsOf(doc: OpenApiDoc): Operation[] {
  const resolve = (schema: Schema): Schema => {
    let current = schema;
    for (let i = 0; current.$ref && i < 10; i += 1) {
      const name = current.$ref.replace('#/components/schemas/', '');
      current = doc.components?.schemas?.[name] ?? {};
    }
    const out: Schema = { ...current };
    if (out.properties)
      out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, resolve(v)]));
    if (out.items) out.items = resolve(out.items);
    if (out.anyOf) out.anyOf = out.anyOf.map(resolve);
    if (typeof out.additionalProperties === 'object') out.additionalProperties = resolve(out.additionalProperties);
    return out;
  };
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const parameters = op.parameters ?? [];
      const body = op.requestBody?.content?.['application/json']?.schema;
      operations.push({
        name: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: parameters.filter((p) => p.in === 'query').map((p) => [p.name, resolve(p.schema)]),
        body: body ? resolve(body) : undefined,
      });
    }
  }
  return operations;
}

/** Ids the fuzz can aim at: seeded and created objects, by prefix (trx, acc, ...), plus well-formed ids of nothing. */
export class IdPool {
  readonly #byPrefix = new Map<string, string[]>();
  readonly #excluded = new Set<string>();

  /** Never aim at this id (the fuzz's own API key: revoking it would leave every later request a 401). */
  exclude(id: string): void {
    this.#excluded.add(id);
    for (const list of this.#byPrefix.values()) {
      const at = list.indexOf(id);
      if (at !== -1) list.splice(at, 1);
    }
  }

  add(id: unknown): void {
    if (typeof id !== 'string' || this.#excluded.has(id)) return;
    const match = /^([a-z]+)_[0-9a-z]{26}$/.exec(id);
    if (!match) return;
    const list = this.#byPrefix.get(match[1]!) ?? [];
    if (!list.includes(id)) list.push(id);
    this.#byPrefix.set(match[1]!, list);
  }

  /** The `index`-th id (modulo) of `prefix`, or of any prefix when there is none of it. */
  pick(index: number, prefix?: string): string {
    const list = (prefix && this.#byPrefix.get(prefix)) || [...this.#byPrefix.values()].flat();
    return list.length === 0 ? 'trx_00000000000000000000000000' : list[index % list.length]!;
  }
}

const NUMBERS = [
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 31 + 1,
  2 ** 53,
  2 ** 53 - 1,
  -(2 ** 53),
  2 ** 63,
  -1,
  0,
  1,
  1.5,
  -0.5,
  1e308,
  -1e308,
  99_999_999,
  100_000_000,
];

/** Strings that break things: NUL, lone surrogates, unicode, escapes, lengths, look-alike ids. */
const STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  '\udbff',
  '\ud83d\udcb3',
  'é',
  'ß'.repeat(100),
  'Ω'.repeat(300),
  "' or 1=1 --",
  '%00',
  '%',
  '../../etc/passwd',
  'null',
  'true',
  '1e308',
  '-1',
  'x'.repeat(65),
  'x'.repeat(1001),
  '\u202e\u0645',
  '\ufeff',
  '\n\r\t',
  '\\',
  '"',
  '<script>',
  'trx_',
  'trx_0000000000',
  'trx_zzzzzzzzzzzzzzzzzzzzzzzzzz',
  'trx_00000000000000000000000000_',
  'TRX_00MWUN79C00UDDETGX9TY1A7DM',
  '2026-02-30',
  '2026-11-24T12:00:00',
  '9999-12-31T23:59:59Z',
  '0000-01-01T00:00:00Z',
  '2026-11-24T12:00:00.123456789+14:00',
];

const HUGE = 'x'.repeat(1024 * 1024);

/** Instants at and past what a database timestamp holds, written in ways RFC 3339 allows and does not. */
const EDGE_INSTANTS = [
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00Z',
  '0001-01-01T00:00:00+14:00',
  '9999-12-31T23:59:59Z',
  '9999-12-31T23:59:59-14:00',
  '2026-11-24T23:59:60Z',
  '2026-11-24T24:00:00Z',
  '2026-02-30T12:00:00Z',
  '2026-11-24t12:00:00z',
  '2026-11-24T12:00:00.123456789+00:00',
  '1969-12-31T23:59:59.999Z',
];
const EDGE_DATES = [
  '0000-01-01',
  '0001-01-01',
  '1899-12-31',
  '1900-01-01',
  '9999-12-31',
  '2026-02-29',
  '2024-02-29',
  '2026-13-01',
  '2026-11-31',
];

export function oddString(pool: IdPool): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...STRINGS) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
    { weight: 2, arbitrary: fc.tuple(fc.nat(), fc.constantFrom(...PREFIXES)).map(([i, p]) => pool.pick(i, p)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.string({ unit: 'binary', maxLength: 4 }), fc.constantFrom('\u0000', '\ud800', '\udfff'))
        .map(([s, bad]) => `${s}${bad}${s}`),
    },
    { weight: 1, arbitrary: fc.constant(HUGE) },
  );
}

/** Any JSON value of the wrong kind, boundary numbers included. */
export function oddValue(pool: IdPool): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...NUMBERS) },
    { weight: 4, arbitrary: oddString(pool) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [1, 2], { a: 1 }, ['x'], { '': '' }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
}

export const PREFIXES = ['trx', 'pmt', 'acc', 'con', 'gw', 'glog', 'whe', 'dsp', 'jrun', 'key', 'aud'];

/** The prefix an id field most likely holds. */
function prefixFor(name: string): string | undefined {
  const table: Record<string, string> = {
    transaction_id: 'trx',
    original_transaction_id: 'trx',
    reattempt_of_id: 'trx',
    payment_method_id: 'pmt',
    default_payment_method_id: 'pmt',
    account_id: 'acc',
    contact_id: 'con',
    gateway_id: 'gw',
  };
  return table[name];
}

const types = (schema: Schema): string[] =>
  Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];

/** Values that mostly satisfy `schema` (and so reach the use cases), for a field called `name`. */
export function validValue(
  schema: Schema,
  name: string,
  pool: IdPool,
  context: FuzzContext,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => validValue(s, name, pool, context, depth)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const kinds = types(schema);
  if (kinds.includes('null') && kinds.length > 1) {
    const rest = { ...schema, type: kinds.filter((k) => k !== 'null') };
    return fc.oneof(
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 4, arbitrary: validValue(rest, name, pool, context, depth) },
    );
  }
  const kind = kinds[0];
  switch (kind) {
    case 'string':
      return validString(schema, name, pool, context);
    case 'integer': {
      const min = Math.max(schema.minimum ?? -1000, name.includes('amount') ? 1 : -1000);
      const max = Math.min(schema.maximum ?? 100_000, name.includes('amount') ? 5000 : 100_000);
      return fc.oneof(
        { weight: 5, arbitrary: fc.integer({ min: Math.min(min, max), max }) },
        { weight: 1, arbitrary: fc.constantFrom(schema.minimum ?? 0, schema.maximum ?? 0) },
      );
    }
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return depth > 3
        ? fc.constant([])
        : fc.array(validValue(schema.items ?? {}, name, pool, context, depth + 1), {
            minLength: schema.minItems ?? 0,
            maxLength: Math.min(schema.maxItems ?? 4, 4),
          });
    case 'object':
      return validObject(schema, pool, context, depth);
    case undefined:
    default:
      // A schema without a type (unknown): any JSON value.
      return fc.jsonValue({ maxDepth: 2 });
  }
}

export interface FuzzContext {
  jobNames: readonly string[];
  /**
   * The one api_base a valid gateway body names: the running emulator's. The fuzz must not break a gateway by giving it
   * an address nothing answers on: that would be a fault it injected itself (a 503 gateway_unavailable, as documented).
   */
  apiBase: string;
}

function validString(schema: Schema, name: string, pool: IdPool, context: FuzzContext): fc.Arbitrary<string> {
  if (schema.format === 'date-time') {
    return fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .integer({ min: Date.UTC(2026, 9, 1), max: Date.UTC(2027, 0, 1) })
          .map((ms) => new Date(ms).toISOString()),
      },
      { weight: 1, arbitrary: fc.constantFrom(...EDGE_INSTANTS) },
    );
  }
  if (name === 'id' || name.endsWith('_id') || name === 'ids' || name === 'starting_after') {
    return fc.tuple(fc.nat(), fc.constantFrom(...PREFIXES)).map(([i, p]) => pool.pick(i, prefixFor(name) ?? p));
  }
  if (name === 'name' && context.jobNames.length > 0 && schema.maxLength === 64)
    return fc.constantFrom(...context.jobNames);
  if (name.includes('date') || name.startsWith('due_')) {
    return fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .integer({ min: Date.UTC(2026, 9, 1), max: Date.UTC(2027, 0, 1) })
          .map((ms) => new Date(ms).toISOString().slice(0, 10)),
      },
      { weight: 1, arbitrary: fc.constantFrom(...EDGE_DATES) },
    );
  }
  if (name === 'currency' || name === 'settlement_currency')
    return fc.constantFrom('USD', 'usd', 'EUR', 'JPY', 'KWD', 'XXX');
  if (name === 'gateway_token')
    return fc.constantFrom(
      'pm_card_visa',
      'pm_card_mastercard',
      'pm_card_chargeDeclined',
      'tok_unknown',
      '4242424242424242',
    );
  if (name === 'last4') return fc.constantFrom('4242', '0000', '12345');
  if (name.endsWith('_env'))
    return fc.constantFrom('STRIPE_SECRET_KEY', 'SETTLE_GATEWAY_FUZZ_UNSET', 'SETTLE_FUZZ_NOT_ALLOWED', 'lower_case');
  if (name === 'api_base')
    return fc.constantFrom(
      context.apiBase,
      context.apiBase,
      'https://example.invalid',
      'http://169.254.169.254',
      'ftp://x',
    );
  if (name.includes('email')) return fc.constantFrom('a@example.com', 'not-an-email');
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(schema.maxLength ?? 24, 24));
  return fc.string({ minLength, maxLength });
}

function validObject(
  schema: Schema,
  pool: IdPool,
  context: FuzzContext,
  depth: number,
): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const fields = Object.fromEntries(
    Object.entries(properties).map(([key, s]) => [key, validValue(s, key, pool, context, depth + 1)]),
  );
  const record = fc.record(fields, { requiredKeys: [...required].filter((k) => k in fields) }) as fc.Arbitrary<
    Record<string, unknown>
  >;
  if (typeof schema.additionalProperties === 'object' && Object.keys(properties).length === 0) {
    // A map (metadata): a few entries of the value schema.
    return fc.dictionary(
      fc.string({ minLength: 1, maxLength: 10 }),
      validValue(schema.additionalProperties, 'value', pool, context, depth + 1),
      { maxKeys: 3 },
    );
  }
  return record;
}

/** A request as app.inject() takes it, and a line saying what it is. */
export interface FuzzRequest {
  operation: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload: string | Buffer | undefined;
}

/** Percent-encodes text; a lone surrogate (which encodeURIComponent refuses) is written as its WTF-8 bytes. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    let out = '';
    for (const char of text) {
      const code = char.charCodeAt(0);
      if (char.length === 1 && code >= 0xd800 && code <= 0xdfff) {
        out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
          .map((b) => `%${b.toString(16).toUpperCase()}`)
          .join('');
      } else {
        out += encodeURIComponent(char);
      }
    }
    return out;
  }
}

function queryText(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => queryText(v));
  if (typeof value === 'string') return [value];
  if (value !== null && typeof value === 'object') return [JSON.stringify(value)];
  return [String(value)];
}

/** Payloads no JSON body parser should accept quietly. */
const RAW_PAYLOADS: (string | Buffer)[] = [
  Buffer.from([0xff, 0xfe, 0xfd]),
  Buffer.concat([Buffer.from('{"description":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
  Buffer.concat([Buffer.from('{"description":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
  Buffer.concat([Buffer.from('{"metadata":{"'), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), Buffer.from('":"x"}}')]),
  '{"amount": 1',
  '',
  ' ',
  '{}garbage',
  'null',
  '[]',
  '"text"',
  '42',
  'true',
  '\ufeff{}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"amount":1e400,"currency":"USD"}',
  '{"amount":-0,"currency":"USD"}',
  '{"amount":12345678901234567890,"currency":"USD"}',
  '{"amount":100,"amount":200,"currency":"USD"}',
  '{"description":"\\u0000"}',
  '{"description":"\\ud800"}',
  '{"metadata":{"\\u0000":"x"}}',
  '{"metadata":{"a":"\\udfff"}}',
  `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`,
  `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
  `{"description":"${'x'.repeat(300 * 1024)}"}`,
];

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'APPLICATION/JSON; charset=UTF-8',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'application/json-patch+json',
  'application/json;;;',
  'json',
  '',
];

type BodyPlan = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; payload: string | Buffer };

function bodyPlan(operation: Operation, pool: IdPool, context: FuzzContext): fc.Arbitrary<BodyPlan> {
  const odd = oddValue(pool);
  const json = (arb: fc.Arbitrary<unknown>) => arb.map((value): BodyPlan => ({ kind: 'json', value }));
  const hostile: fc.WeightedArbitrary<BodyPlan>[] = [
    { weight: 1, arbitrary: json(fc.constantFrom<unknown>(null, [], [{}], 0, -1, 1.5, 'x', '', true, false)) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_PAYLOADS).map((payload): BodyPlan => ({ kind: 'raw', payload })) },
  ];
  if (!operation.body) {
    return fc.oneof(
      { weight: 12, arbitrary: fc.constant<BodyPlan>({ kind: 'none' }) },
      { weight: 1, arbitrary: json(fc.constantFrom({}, { x: 1 })) },
      ...hostile,
    );
  }
  const valid = validValue(operation.body, 'body', pool, context) as fc.Arbitrary<Record<string, unknown>>;
  const keys = Object.keys(operation.body.properties ?? {});
  const required = operation.body.required ?? [];
  const withOdd =
    keys.length === 0
      ? valid
      : fc.tuple(valid, fc.constantFrom(...keys), odd).map(([object, key, value]) => ({ ...object, [key]: value }));
  const withoutRequired =
    required.length === 0
      ? valid
      : fc
          .tuple(valid, fc.constantFrom(...required))
          .map(([object, key]) => Object.fromEntries(Object.entries(object).filter(([k]) => k !== key)));
  const withUnknown = fc
    .tuple(valid, oddString(pool), odd)
    .map(([object, key, value]) => ({ ...object, [key]: value }));
  const withOddMetadata = fc
    .tuple(valid, fc.dictionary(oddString(pool), oddValue(pool), { minKeys: 1, maxKeys: 3 }))
    .map(([object, metadata]) => ({ ...object, metadata }));
  return fc.oneof(
    { weight: 6, arbitrary: json(valid) },
    { weight: 6, arbitrary: json(withOdd) },
    { weight: 1, arbitrary: json(withoutRequired) },
    { weight: 1, arbitrary: json(withUnknown) },
    { weight: 1, arbitrary: json(withOddMetadata) },
    { weight: 1, arbitrary: fc.constant<BodyPlan>({ kind: 'none' }) },
    ...hostile,
  );
}

function pathValue(name: string, pool: IdPool, context: FuzzContext): fc.Arbitrary<string> {
  const good =
    name === 'name'
      ? fc.constantFrom(...context.jobNames)
      : fc
          .tuple(fc.nat(), fc.constantFrom(...PREFIXES))
          .map(([i, p]) => pool.pick(i, name === 'gateway_id' ? 'gw' : p));
  const sameKind = fc.nat().map((i) => pool.pick(i, name === 'gateway_id' ? 'gw' : 'trx'));
  return fc.oneof(
    { weight: 5, arbitrary: good },
    { weight: 3, arbitrary: sameKind },
    { weight: 2, arbitrary: oddString(pool) },
  );
}

/** Requests for one operation: path ids, query, body and headers each valid, nearly valid or hostile. */
export function requestsFor(
  operation: Operation,
  pool: IdPool,
  context: FuzzContext,
  apiKey: string,
): fc.Arbitrary<FuzzRequest> {
  const params = fc.tuple(...operation.pathParams.map((name) => pathValue(name, pool, context)));
  const queryArb = fc.tuple(
    ...operation.query.map(([name, schema]) =>
      fc
        .option(
          fc.oneof(
            { weight: 3, arbitrary: validValue(schema, name, pool, context) },
            { weight: 1, arbitrary: oddValue(pool) },
          ),
          { freq: 3 },
        )
        .map((value) => [name, value] as const),
    ),
  );
  const extraQuery = fc.oneof(
    { weight: 8, arbitrary: fc.constant('') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'unknown=1',
        'limit=1&limit=2',
        '=x',
        '%',
        'a[b]=1',
        'limit=%ZZ',
        'starting_after',
        '&&&',
        'limit=0x10',
        'limit=1e2',
        'limit= 5',
      ),
    },
    { weight: 1, arbitrary: fc.tuple(oddString(pool), oddString(pool)).map(([k, v]) => `${encode(k)}=${encode(v)}`) },
  );
  const headers = fc.record({
    auth: fc.oneof(
      { weight: 30, arbitrary: fc.constant(`Bearer ${apiKey}`) },
      { weight: 1, arbitrary: fc.constantFrom('', 'Bearer', 'Bearer x', 'Basic YTpi', `bearer ${apiKey}`) },
    ),
    idempotencyKey: fc.oneof(
      { weight: 12, arbitrary: fc.constant<string | undefined>(undefined) },
      { weight: 4, arbitrary: fc.uuid() },
      { weight: 2, arbitrary: fc.constantFrom('fuzz-shared-1', 'fuzz-shared-2') },
      { weight: 1, arbitrary: fc.constantFrom('', ' ', 'has space', 'x'.repeat(256), 'caf\u00e9', 'tab\there') },
    ),
    contentType: fc.oneof(
      { weight: 12, arbitrary: fc.constant<string | undefined>('application/json') },
      { weight: 1, arbitrary: fc.constantFrom<string | undefined>(...CONTENT_TYPES, undefined) },
    ),
  });
  return fc
    .tuple(params, queryArb, extraQuery, bodyPlan(operation, pool, context), headers)
    .map(([values, query, extra, body, head]) => {
      let path = operation.path;
      operation.pathParams.forEach((name, i) => {
        path = path.replace(`{${name}}`, encode(values[i] ?? ''));
      });
      const parts: string[] = [];
      for (const [name, value] of query) {
        if (value === null) continue;
        for (const text of queryText(value)) parts.push(`${encode(name)}=${encode(text)}`);
      }
      if (extra) parts.push(extra);
      const url = parts.length > 0 ? `${path}?${parts.join('&')}` : path;
      const requestHeaders: Record<string, string> = {};
      if (head.auth) requestHeaders.authorization = head.auth;
      if (head.idempotencyKey !== undefined) requestHeaders['idempotency-key'] = head.idempotencyKey;
      let payload: string | Buffer | undefined;
      if (body.kind === 'json') payload = JSON.stringify(body.value);
      if (body.kind === 'raw') payload = body.payload;
      if (payload !== undefined && head.contentType !== undefined) requestHeaders['content-type'] = head.contentType;
      const request: FuzzRequest = {
        operation: operation.name,
        method: operation.method,
        url,
        headers: requestHeaders,
        payload,
      };
      // fast-check prints a failing request through this (a 1 MB body is cut).
      return Object.assign(request, { [fc.toStringMethod]: () => describeRequest(request) });
    });
}

/** A short description of a request for a failure message (long strings cut). */
export function describeRequest(request: FuzzRequest): string {
  const cut = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}... (${text.length} characters)` : text);
  const payload =
    request.payload === undefined
      ? '(no body)'
      : Buffer.isBuffer(request.payload)
        ? `bytes ${request.payload.toString('hex').slice(0, 200)}`
        : cut(request.payload);
  return `${request.method} ${cut(request.url)}\nheaders: ${JSON.stringify(request.headers)}\nbody: ${payload}`;
}

export type Digest = Record<string, [number, string | null, string | null]>;

/**
 * One query that reads, for every table of the public schema: its row count, its largest id and its latest
 * updated_at (where it has those columns). Built from information_schema once.
 */
export async function digestQuery(db: Kysely<any>, exclude: readonly string[]): Promise<() => Promise<Digest>> {
  const columns = await sql<{ table_name: string; column_name: string }>`
    select c.table_name, c.column_name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = 'public' and t.table_type = 'BASE TABLE'`.execute(db);
  const tables = new Map<string, Set<string>>();
  for (const row of columns.rows) {
    if (exclude.includes(row.table_name)) continue;
    const set = tables.get(row.table_name) ?? new Set<string>();
    set.add(row.column_name);
    tables.set(row.table_name, set);
  }
  const parts = [...tables.keys()].sort().map((table) => {
    const cols = tables.get(table)!;
    const id = cols.has('id') ? 'max(id)::text' : 'null';
    const updated = cols.has('updated_at') ? 'max(updated_at)::text' : 'null';
    return `'${table}', (select json_build_array(count(*), ${id}, ${updated}) from "${table}")`;
  });
  // A function takes at most 100 arguments: objects of 40 tables each, merged.
  const chunks: string[] = [];
  for (let i = 0; i < parts.length; i += 40) chunks.push(`jsonb_build_object(${parts.slice(i, i + 40).join(', ')})`);
  const text = `select ${chunks.length > 0 ? chunks.join(' || ') : "'{}'::jsonb"} as digest`;
  return async () => {
    const result = await sql<{ digest: Digest | string }>`${sql.raw(text)}`.execute(db);
    const digest = result.rows[0]!.digest;
    return typeof digest === 'string' ? (JSON.parse(digest) as Digest) : digest;
  };
}

/** The tables whose digest entry differs. */
export function changedTables(before: Digest, after: Digest): string[] {
  return Object.keys({ ...before, ...after }).filter(
    (table) => JSON.stringify(before[table]) !== JSON.stringify(after[table]),
  );
}
