// Statements that Settle sends again and again run as named prepared statements on PostgreSQL: the server parses
// and plans a named statement once per connection instead of on every call, which is a good part of a statement's
// cost on the hot path (the transactions table is wide and the writes are CTEs). Kysely sends every statement
// unnamed, so the pool's clients are wrapped: a statement text seen a second time gets a name derived from the text
// (the same text, the same name, on every connection). Only data statements are named, and only so many texts per
// process: texts that vary (an IN list's length, a batch's size) stay unnamed once the budget is spent.
import { createHash } from 'node:crypto';
import type pg from 'pg';

/** How many distinct statement texts a process names (each is held by the server once per connection). */
export const MAX_NAMED_STATEMENTS = 400;

const DATA_STATEMENT = /^\s*(select|insert|update|delete|with)\b/i;

export class StatementNames {
  readonly #seen = new Set<string>();
  readonly #names = new Map<string, string>();

  constructor(readonly limit = MAX_NAMED_STATEMENTS) {}

  /** The name for `text`, or undefined while it has been seen only once (or is not worth naming). */
  nameFor(text: string): string | undefined {
    const known = this.#names.get(text);
    if (known !== undefined) return known;
    if (this.#names.size >= this.limit || !DATA_STATEMENT.test(text)) return undefined;
    if (!this.#seen.has(text)) {
      if (this.#seen.size >= this.limit * 4) this.#seen.clear();
      this.#seen.add(text);
      return undefined;
    }
    const name = `settle_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    this.#names.set(text, name);
    return name;
  }

  get size(): number {
    return this.#names.size;
  }
}

type Query = (...args: unknown[]) => unknown;

/** Makes `client` send repeated statement texts (query(text, values), as Kysely calls it) as named statements. */
export function nameRepeatedStatements(client: pg.ClientBase, names: StatementNames): void {
  const query = client.query.bind(client) as Query;
  // Cast: pg's ClientBase declares query as overloads; it is replaced by one function accepting all of them.
  (client as unknown as { query: Query }).query = (...args: unknown[]) => {
    const [text, values] = args;
    if (typeof text === 'string' && (values === undefined || Array.isArray(values)) && args.length <= 2) {
      const name = names.nameFor(text);
      if (name !== undefined) return query({ name, text, values });
    }
    return query(...args);
  };
}
