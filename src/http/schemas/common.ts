// Schema pieces shared by routes (TypeBox: the same schema validates requests, serialises responses and
// documents the API in /openapi.json).
import type { FastifyRequest } from 'fastify';
import { type Static, type TSchema, Type } from 'typebox';

/**
 * `T | null`. A schema with a plain `type` becomes `type: [type, 'null']` (OpenAPI 3.1): the response
 * serialiser handles that directly, while an `anyOf` would make it run a validator per field per response.
 */
export const Nullable = <T extends TSchema>(schema: T) => {
  const type = (schema as { type?: unknown }).type;
  return typeof type === 'string'
    ? Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'] })
    : Type.Union([schema, Type.Null()]);
};

/** An integer amount in the currency's minor unit, within the safe integers (the int8 columns hold more). */
export const Amount = (description = "Integer amount in the currency's minor unit (1050 = 10.50 USD).") =>
  Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, description });

/** The range of an `integer` (int4) column: a request integer stored in one is bounded by it. */
export const INT4_MIN = -2_147_483_648;
export const INT4_MAX = 2_147_483_647;

export const Currency = Type.String({
  minLength: 3,
  maxLength: 3,
  description: 'ISO 4217 code, any case (returned upper-case).',
});

export const DateOnly = (description: string) => Type.String({ description, examples: ['2026-12-01'] });

export const Id = (prefix: string) =>
  Type.String({ minLength: 1, maxLength: 64, description: `An id starting ${prefix}_` });

export const Metadata = Type.Record(Type.String(), Type.String(), {
  description: 'String map: up to 50 keys of up to 40 characters, values up to 500 characters.',
});

export const MetadataUpdate = Type.Record(Type.String(), Nullable(Type.String()), {
  description: 'Keys to set; an empty string or null removes a key.',
});

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      type: Type.String(),
      code: Type.String(),
      message: Type.String(),
      param: Type.Optional(Type.String()),
      current: Type.Optional(Type.String()),
      allowed: Type.Optional(Type.Array(Type.String())),
    }),
  },
  { $id: 'Error' },
);

export const ListQuery = {
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 200, default: undefined, description: 'Page size, 1 to 200 (default 20).' }),
  ),
  starting_after: Type.Optional(Type.String({ maxLength: 64, description: "The previous page's next_cursor." })),
};

export const ListOf = <T extends TSchema>(item: T) =>
  Type.Object({
    object: Type.Literal('list'),
    data: Type.Array(item),
    has_more: Type.Boolean(),
    next_cursor: Nullable(Type.String()),
  });

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** The body of an action that takes no fields: none, or an empty object; any field is refused (parameter_unknown). */
export const NoBody = Type.Object(
  {},
  { additionalProperties: false, description: 'No fields: send no body or an empty object.' },
);

/**
 * A preValidation hook for routes whose body is optional: no body is an empty one, still checked for unknown fields.
 * Only an absent body: a literal JSON `null` is a body that is not an object, refused (400 invalid_body) by the
 * request guard (http/request-guard.ts), which also treats an absent body as {} on every route with a body schema.
 */
export async function absentBodyIsEmpty(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
}

export const Deleted = Type.Object({ id: Type.String(), object: Type.String(), deleted: Type.Boolean() });

/** Standard error responses for a route's documentation. */
export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
};
