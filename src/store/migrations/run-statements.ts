import { type Kysely, sql } from 'kysely';

/**
 * Runs a migration script one statement at a time. PGlite's query protocol takes a single statement per
 * call, so a script is split on the semicolons that end a line (migration scripts keep no such semicolon
 * inside a literal).
 */
export async function runStatements(db: Kysely<unknown>, script: string): Promise<void> {
  const statements = script
    .split(/;\s*\n/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}
