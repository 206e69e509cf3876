// What every request must be before a schema or a handler sees it: text that is well-formed Unicode without NUL
// characters (path, query, and the body at any depth, object keys included), a body that is strict UTF-8 JSON
// holding an object, a URL of bounded length. Each refusal is a 400 (414 for the URL, 415 for a body sent as another
// type) naming the field, raised before anything is read or written. PostgreSQL cannot store a NUL in text, and a
// lone surrogate would be stored as U+FFFD: either way the stored text would not be what was sent.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SettleError, ValidationError } from '../domain/errors.js';

/** Longer URLs are refused (414 uri_too_long); a real server's HTTP parser also stops at its header size limit. */
export const MAX_URL_LENGTH = 8 * 1024;
/** JSON nested deeper than this is refused: no request field needs more than a few levels. */
export const MAX_BODY_DEPTH = 32;

/** A NUL character, or a UTF-16 surrogate that is not half of a pair. */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const BAD_CHARACTER = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const BAD_CHARACTERS = new RegExp(BAD_CHARACTER.source, 'g');

export function hasBadCharacter(text: string): boolean {
  return BAD_CHARACTER.test(text);
}

/** A key as it can be shown in `param`: its NUL characters and lone surrogates written as \uXXXX escapes. */
function printable(key: string): string {
  return key.replace(BAD_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function badString(param: string, what: string): ValidationError {
  return new ValidationError(
    'invalid_string',
    `'${param}' ${what} a NUL character or an unpaired UTF-16 surrogate; text must be well-formed Unicode without NUL characters.`,
    param,
  );
}

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

/**
 * Walks a parsed value without recursion (so no depth can overflow the stack) and throws a 400 naming the first
 * string or object key that is not well-formed text, or the first value nested too deeply.
 */
export function checkStrings(value: unknown, root: string, maxDepth = MAX_BODY_DEPTH): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value: current, path, depth } = item;
    if (typeof current === 'string') {
      if (hasBadCharacter(current)) throw badString(path || 'body', 'contains');
      continue;
    }
    if (typeof current !== 'object' || current === null || Buffer.isBuffer(current)) continue;
    if (depth >= maxDepth) {
      throw new ValidationError(
        'invalid_body',
        `The request body is nested more than ${maxDepth} levels deep at '${path}'.`,
        path || undefined,
      );
    }
    const entries = Array.isArray(current) ? current.map((v, i) => [String(i), v] as const) : Object.entries(current);
    // Pushed in reverse, so the first offending field in document order is the one reported.
    for (let i = entries.length - 1; i >= 0; i -= 1) {
      const [key, child] = entries[i]!;
      if (hasBadCharacter(key)) throw badString(join(path, printable(key)), 'has a name with');
      stack.push({ value: child, path: join(path, key), depth: depth + 1 });
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

const NOT_AN_OBJECT = 'The request body must be a JSON object.';

/**
 * The body rules of one request. A route with a body schema: no body at all means no fields ({}); a body that is not
 * an object (a literal null, an array, a number, a string) is refused. A route without one (DELETE) takes no fields.
 * Raw bodies (the webhook intake's Buffer) are left to their route.
 */
function checkBody(request: FastifyRequest): void {
  if (Buffer.isBuffer(request.body)) return;
  const hasSchema = request.routeOptions.schema?.body !== undefined;
  if (request.body === undefined) {
    if (hasSchema) request.body = {};
    return;
  }
  if (!isPlainObject(request.body)) throw new ValidationError('invalid_body', NOT_AN_OBJECT);
  if (!hasSchema) {
    const field = Object.keys(request.body)[0];
    if (field !== undefined) {
      const param = hasBadCharacter(field) ? printable(field) : field;
      throw new ValidationError(
        'parameter_unknown',
        `'${param}' is not a field of this request: it takes no body.`,
        param,
      );
    }
  }
  checkStrings(request.body, '');
}

/** A query string's name or value as text; undefined when its percent-escapes are not UTF-8. */
function decodeQueryText(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/**
 * The query string's own encoding. Fastify's parser keeps a percent-escape that does not decode (a lone surrogate
 * sent as its UTF-8-like bytes %ED%A0%80, a byte like %FF, a stray %) as literal text, which would then be used as a
 * filter or a cursor: each name and value must be well-formed percent-encoded UTF-8.
 */
function checkQueryEncoding(url: string): void {
  const start = url.indexOf('?');
  if (start === -1) return;
  for (const part of url.slice(start + 1).split('&')) {
    const [name = '', value = ''] = part.split(/=(.*)/s);
    const decodedName = decodeQueryText(name);
    const param = decodedName !== undefined && !hasBadCharacter(decodedName) ? decodedName : 'query';
    if (decodedName === undefined || decodeQueryText(value) === undefined) {
      throw new ValidationError(
        'invalid_string',
        `'${param}' is not percent-encoded UTF-8 (a lone surrogate, a byte that is not UTF-8 or a stray '%').`,
        param,
      );
    }
  }
}

/** params, query and body of a matched route (an unknown route is left to the 404 answer). */
async function checkRequest(request: FastifyRequest): Promise<void> {
  if (request.is404) return;
  checkQueryEncoding(request.url);
  const params = request.params;
  if (isPlainObject(params)) {
    for (const [name, value] of Object.entries(params)) {
      if (typeof value === 'string' && hasBadCharacter(value)) throw badString(name, 'contains');
    }
  }
  const query = request.query;
  if (isPlainObject(query)) {
    for (const [name, value] of Object.entries(query)) {
      if (hasBadCharacter(name)) throw badString(printable(name), 'has a name with');
      checkStrings(value, name, 2);
    }
  }
  checkBody(request);
}

async function checkUrlLength(request: FastifyRequest): Promise<void> {
  if (request.url.length > MAX_URL_LENGTH) {
    throw new SettleError('invalid_request', 'uri_too_long', `The URL is longer than ${MAX_URL_LENGTH} characters.`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** charset=... of a Content-Type header, lower-case, without quotes; undefined when none is given. */
function charsetOf(contentType: string | undefined): string | undefined {
  const match = contentType ? /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType) : null;
  return match?.[1]?.toLowerCase();
}

/**
 * Registers the checks on the root instance, before the routes (which inherit them). The JSON parser replaces
 * Fastify's, whose decoding turns invalid UTF-8 into U+FFFD silently: the bytes are decoded strictly (400
 * invalid_utf8), then parsed by Fastify's own parser (same body limit, same invalid_json and prototype-poisoning
 * refusals). text/plain is not a body type of this API (415). The webhook intake replaces the parsers for its own
 * route, so it still gets the raw bytes.
 */
export function registerRequestGuard(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const charset = charsetOf(request.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(
        new SettleError(
          'invalid_request',
          'unsupported_media_type',
          `Send the request body as application/json in UTF-8 (not charset=${charset}).`,
        ),
        undefined,
      );
      return;
    }
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new ValidationError('invalid_utf8', 'The request body is not valid UTF-8.'), undefined);
      return;
    }
    // The default parser calls done itself; its declared type also allows a promise, which it never returns here.
    void parseJson(request, text, done);
  });
  app.addHook('onRequest', checkUrlLength);
  app.addHook('preValidation', checkRequest);
}
