// The only place that maps error kinds to HTTP statuses, and the API's error shape:
// { "error": { "type", "code", "message", "param"? } } (api.md). 5xx answers carry a generic message;
// the details go to the log.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorKind, isSettleError, type SettleError } from '../domain/errors.js';

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

export interface ErrorBody {
  error: { type: string; code: string; message: string; param?: string; current?: string; allowed?: string[] };
}

/** The HTTP status of a SettleError (for answers that embed errors, like batch results). */
export function errorStatus(error: SettleError): number {
  return STATUS[error.kind];
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
  const params = first.params as Record<string, unknown>;
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
  switch (keyword) {
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
      return send(reply, STATUS[error.kind], errorBody(error));
    }
    if (error.validation) {
      const param = validationParam(error);
      const code = validationCode(error, param);
      return send(reply, 400, { error: { type: 'invalid_request_error', code, message: validationMessage(error, param, code), ...(param ? { param } : {}) } });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (error.statusCode === 400 && error instanceof SyntaxError)) {
      return send(reply, 400, { error: { type: 'invalid_request_error', code: 'invalid_json', message: 'The request body is not valid JSON.' } });
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return send(reply, 413, { error: { type: 'invalid_request_error', code: 'request_too_large', message: 'The request body is too large.' } });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return send(reply, 415, { error: { type: 'invalid_request_error', code: 'unsupported_media_type', message: 'Send the request body as application/json.' } });
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return send(reply, error.statusCode, { error: { type: 'invalid_request_error', code: 'invalid_request', message: error.message } });
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(reply, 500, { error: { type: 'api_error', code: 'internal_error', message: 'Something went wrong on our side; the details are in the server log.' } });
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, 404, {
      error: { type: 'invalid_request_error', code: 'route_not_found', message: `No route ${request.method} ${request.url.split('?')[0]}.` },
    }),
  );
}
