// The only place that maps error kinds to HTTP statuses, and the API's error shape:
// { "error": { "type", "code", "message", "param"? } } (README, "API overview"). 5xx answers carry a generic message;
// the details go to the log. Every 4xx has the shape, Fastify's and Node's own refusals included: the router's
// (frameworkErrors), the body parser's, and the HTTP parser's, answered on the socket (clientErrorHandler).
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { type ErrorKind, isSettleError, type SettleError } from '../domain/errors.js';
import { MAX_URL_LENGTH } from './request-guard.js';

const STATUS: Record<ErrorKind, number> = {
  invalid_request: 400,
  authentication: 401,
  permission: 403,
  not_found: 404,
  conflict: 409,
  rate_limit: 429,
  unavailable: 503,
  internal: 500,
};

const TYPE: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'invalid_request_error',
  conflict: 'invalid_request_error',
  rate_limit: 'rate_limit_error',
  unavailable: 'api_error',
  internal: 'api_error',
};

/** Refusals of the request as a whole whose HTTP status is not their kind's (the request-guard's). */
const CODE_STATUS: Record<string, number> = {
  request_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  request_header_fields_too_large: 431,
};

export interface ErrorBody {
  error: { type: string; code: string; message: string; param?: string; current?: string; allowed?: string[] };
}

/** The HTTP status of a SettleError (for answers that embed errors, like batch results). */
export function errorStatus(error: SettleError): number {
  return CODE_STATUS[error.code] ?? STATUS[error.kind];
}

export function errorBody(error: SettleError): ErrorBody {
  const type = error.code.startsWith('idempotency_') ? 'idempotency_error' : TYPE[error.kind];
  const body: ErrorBody = { error: { type, code: error.code, message: error.message } };
  if (error.param !== undefined) body.error.param = error.param;
  if (error.code === 'unexpected_state' && error.details) {
    body.error.current = error.details.current as string;
    body.error.allowed = error.details.allowed as string[];
  }
  return body;
}

function send(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  return reply.code(status).type('application/json').send(body);
}

/** AJV error -> the field it concerns ('amount', 'metadata.plan', 'Idempotency-Key'...). */
function validationParam(error: FastifyError): string | undefined {
  const first = error.validation?.[0];
  if (!first) return undefined;
  const path = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const params = first.params;
  if (first.keyword === 'required' && typeof params.missingProperty === 'string') {
    return path ? `${path}.${params.missingProperty}` : params.missingProperty;
  }
  if (first.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return path ? `${path}.${params.additionalProperty}` : params.additionalProperty;
  }
  return path || undefined;
}

function validationCode(error: FastifyError, param: string | undefined): string {
  const keyword = error.validation?.[0]?.keyword;
  if (param && /(^|\.)amount$/.test(param) && keyword === 'type') return 'invalid_amount';
  if (param && /(^|\.)amount$/.test(param) && (keyword === 'maximum' || keyword === 'minimum'))
    return 'amount_too_large';
  if (!param && keyword === 'type') return 'invalid_body';
  switch (keyword ?? '') {
    case 'required':
      return 'parameter_missing';
    case 'additionalProperties':
      return 'parameter_unknown';
    case 'type':
      return 'parameter_invalid_type';
    case 'enum':
    case 'const':
    case 'anyOf':
      return 'parameter_invalid_value';
    default:
      return 'parameter_invalid';
  }
}

function validationMessage(error: FastifyError, param: string | undefined, code: string): string {
  const first = error.validation?.[0];
  const where = param ? `'${param}'` : 'The request body';
  if (!param && first?.keyword === 'type') return 'The request body must be a JSON object.';
  switch (code) {
    case 'invalid_amount':
      return `${where} must be an integer amount in the currency's minor unit (e.g. 1050 for 10.50 USD).`;
    case 'amount_too_large':
      return `${where} is too large: the limit is ${Number.MAX_SAFE_INTEGER} minor units in either direction.`;
    case 'parameter_missing':
      return `${where} is required.`;
    case 'parameter_unknown':
      return `${where} is not a field of this request.`;
    case 'parameter_invalid_value': {
      const allowed = (first?.params as { allowedValues?: unknown[] } | undefined)?.allowedValues;
      return allowed ? `${where} must be one of: ${allowed.join(', ')}.` : `${where} has a value that is not allowed.`;
    }
    default:
      return `${where} ${first?.message ?? 'is invalid'}.`;
  }
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isSettleError(error)) {
      if (error.kind === 'internal') request.log.error({ err: error }, 'internal error');
      return send(reply, errorStatus(error), errorBody(error));
    }
    if (error.validation) {
      const param = validationParam(error);
      const code = validationCode(error, param);
      return send(reply, 400, {
        error: {
          type: 'invalid_request_error',
          code,
          message: validationMessage(error, param, code),
          ...(param ? { param } : {}),
        },
      });
    }
    if (
      error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      (error.statusCode === 400 && error instanceof SyntaxError)
    ) {
      return send(reply, 400, {
        error: { type: 'invalid_request_error', code: 'invalid_json', message: 'The request body is not valid JSON.' },
      });
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return send(reply, 413, {
        error: { type: 'invalid_request_error', code: 'request_too_large', message: 'The request body is too large.' },
      });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return send(reply, 415, {
        error: {
          type: 'invalid_request_error',
          code: 'unsupported_media_type',
          message: 'Send the request body as application/json.',
        },
      });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
      return send(reply, 400, {
        error: {
          type: 'invalid_request_error',
          code: 'invalid_content_length',
          message: 'The request body size did not match its Content-Length header.',
        },
      });
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return send(reply, error.statusCode, clientErrorBody(error.statusCode, error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(reply, 500, {
      error: {
        type: 'api_error',
        code: 'internal_error',
        message: 'Something went wrong on our side; the details are in the server log.',
      },
    });
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, 404, {
      error: {
        type: 'invalid_request_error',
        code: 'route_not_found',
        message: `No route ${request.method} ${request.url.split('?')[0]}.`,
      },
    }),
  );
}

/** A 4xx that has no code of its own: a code from its HTTP status and Fastify's message. */
function clientErrorBody(status: number, message: string): ErrorBody {
  const code = (STATUS_CODES[status] ?? 'invalid request').toLowerCase().replace(/[^a-z0-9]+/g, '_');
  return {
    error: { type: 'invalid_request_error', code, message: message || `${STATUS_CODES[status] ?? 'Invalid request'}.` },
  };
}

/**
 * Fastify's router refusals that never reach a route (the `frameworkErrors` option): a path whose percent-encoding
 * is not UTF-8, a path parameter longer than the router's limit.
 */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (error, request, anyReply) => {
  // Cast: frameworkErrors receives a reply typed for the raw server; it is the same FastifyReply object at run time.
  const reply = anyReply as unknown as FastifyReply;
  if (error.code === 'FST_ERR_BAD_URL') {
    void send(reply, 400, {
      error: {
        type: 'invalid_request_error',
        code: 'invalid_url',
        message: 'The URL path is not valid: its percent-encoded bytes must be UTF-8.',
      },
    });
    return;
  }
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void send(reply, 414, {
      error: { type: 'invalid_request_error', code: 'uri_too_long', message: 'A path segment of the URL is too long.' },
    });
    return;
  }
  request.log.error({ err: error }, 'router error');
  void send(reply, 500, {
    error: {
      type: 'api_error',
      code: 'internal_error',
      message: 'Something went wrong on our side; the details are in the server log.',
    },
  });
};

/**
 * The HTTP parser's refusals, answered on the socket before any request exists (the `clientErrorHandler` option):
 * headers over the server's maxHeaderSize (431, or 414 when the request line alone does not fit), a malformed
 * request (400), a request that took too long to arrive (408). Always in the error shape, then the connection closes.
 */
export function clientErrorHandler(error: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let body: ErrorBody = {
    error: { type: 'invalid_request_error', code: 'malformed_request', message: 'The request is not valid HTTP/1.1.' },
  };
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    body = {
      error: { type: 'invalid_request_error', code: 'request_timeout', message: 'The request did not arrive in time.' },
    };
  } else if (error.code === 'HPE_HEADER_OVERFLOW') {
    // What the parser had read when it gave up: a request line that does not end within it is the URL's fault.
    const lineEnd = Buffer.isBuffer(error.rawPacket) ? error.rawPacket.indexOf('\r\n') : -1;
    const headersTooLarge = lineEnd !== -1 && lineEnd <= MAX_URL_LENGTH;
    status = headersTooLarge ? 431 : 414;
    body = headersTooLarge
      ? {
          error: {
            type: 'invalid_request_error',
            code: 'request_header_fields_too_large',
            message: 'The request headers are too large.',
          },
        }
      : { error: { type: 'invalid_request_error', code: 'uri_too_long', message: 'The URL is too long.' } };
  }
  if (socket.writable) {
    const text = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(error);
}
