// Request validation. Bodies are validated strictly: no type coercion (the string "100" is not an
// amount), no silent removal of unknown fields (they are a 400 naming the field). Query strings and path
// parameters arrive as text, so they are coerced to the declared types.
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// Cast: ajv-formats ships CommonJS types whose default export TypeScript's NodeNext resolution sees as the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** The instants PostgreSQL's timestamptz can take from the drivers: years 1 to 9999 in UTC. */
const FIRST_INSTANT = new Date('0001-01-01T00:00:00Z').getTime();
const LAST_INSTANT = new Date('9999-12-31T23:59:59.999Z').getTime();

/**
 * RFC 3339 as ajv-formats checks it, and an instant the database can store and compare: year 0000, or an offset that
 * takes 0001-01-01 or 9999-12-31 past the edge, would make the query fail (a 500) instead of being refused (a 400).
 */
function boundedDateTime(ajv: Ajv): void {
  const format = ajv.formats['date-time'];
  const rfc3339 =
    typeof format === 'object' && format !== null && 'validate' in format && typeof format.validate === 'function'
      ? (format.validate as (text: string) => boolean)
      : undefined;
  if (!rfc3339) throw new Error('ajv-formats has no date-time format');
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (text: string) => {
      if (!rfc3339(text)) return false;
      const at = new Date(text).getTime();
      return at >= FIRST_INSTANT && at <= LAST_INSTANT;
    },
  });
}

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, strict: false, useDefaults: false, removeAdditional: false, ...options });
  addFormats(ajv);
  boundedDateTime(ajv);
  return ajv;
}

const bodyAjv = makeAjv({ coerceTypes: false });
const textAjv = makeAjv({ coerceTypes: 'array' });

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object);
  return (data: unknown) => {
    if (validate(data)) return { value: data };
    // Cast: Fastify's validator result type does not declare the `validation` array its error handler reads (errors.ts).
    return { error: Object.assign(new Error('validation failed'), { validation: validate.errors ?? [] }) } as never;
  };
};
