// The one error catalogue. Every failure the API can report is a SettleError with a stable `code`.
// Only the HTTP layer turns a `kind` into a status code (http/errors.ts).

export type ErrorKind =
  | 'invalid_request' // 400
  | 'authentication' // 401
  | 'permission' // 403
  | 'not_found' // 404
  | 'conflict' // 409
  | 'rate_limit' // 429
  | 'unavailable' // 503: a dependency (the gateway) could not do it now; nothing was changed
  | 'internal'; // 500

export class SettleError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly param: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    kind: ErrorKind,
    code: string,
    message: string,
    options: { param?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SettleError';
    this.kind = kind;
    this.code = code;
    this.param = options.param;
    this.details = options.details;
  }
}

/** A request that is malformed or breaks a rule. Nothing was changed. */
export class ValidationError extends SettleError {
  constructor(code: string, message: string, param?: string, details?: Record<string, unknown>) {
    super('invalid_request', code, message, {
      ...(param === undefined ? {} : { param }),
      ...(details ? { details } : {}),
    });
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends SettleError {
  constructor(what: string, id: string, param?: string) {
    super('not_found', 'resource_missing', `No ${what} with id '${id}'.`, param === undefined ? {} : { param });
    this.name = 'NotFoundError';
  }
}

/** An action that is not allowed from the current state (409 unexpected_state). */
export class StateConflictError extends SettleError {
  readonly current: string;
  readonly allowed: readonly string[];

  constructor(action: string, current: string, allowed: readonly string[], extra?: string) {
    const allowedText = allowed.length === 0 ? 'none' : allowed.join(', ');
    super(
      'conflict',
      'unexpected_state',
      `Cannot ${action} a transaction in state '${current}'; allowed from: ${allowedText}.${extra ? ` ${extra}` : ''}`,
      { details: { current, allowed: [...allowed] } },
    );
    this.name = 'StateConflictError';
    this.current = current;
    this.allowed = allowed;
  }
}

export class ConflictError extends SettleError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super('conflict', code, message, details ? { details } : {});
    this.name = 'ConflictError';
  }
}

export function isSettleError(error: unknown): error is SettleError {
  return error instanceof SettleError;
}
