// Migration 0002: gateway records (G1). Frozen once released: later changes go into new migrations.
// Credentials are stored by reference only: the NAME of the environment variable that holds a secret,
// never the secret. At most one default gateway and at most one built-in emulator gateway.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE gateways (
      id text PRIMARY KEY,
      name text NOT NULL,
      provider text NOT NULL CHECK (provider IN ('stripe', 'spreedly')),
      mode text NOT NULL CHECK (mode IN ('test', 'live')),
      is_default boolean NOT NULL DEFAULT false,
      settlement_currency text NOT NULL CHECK (settlement_currency ~ '^[A-Z]{3}$'),
      rate_limit_per_second integer NOT NULL CHECK (rate_limit_per_second BETWEEN 1 AND 10000),
      secret_key_env text CHECK (secret_key_env ~ '^[A-Z_][A-Z0-9_]{0,127}$'),
      webhook_secret_env text CHECK (webhook_secret_env ~ '^[A-Z_][A-Z0-9_]{0,127}$'),
      api_base text CHECK (api_base ~ '^https?://'),
      is_emulator boolean NOT NULL DEFAULT false,
      metadata jsonb NOT NULL DEFAULT '{}',
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT gateways_live_https CHECK (mode <> 'live' OR api_base IS NULL OR api_base ~ '^https://'),
      CONSTRAINT gateways_emulator_test_mode CHECK (NOT is_emulator OR mode = 'test')
    );
    CREATE UNIQUE INDEX gateways_one_default ON gateways ((true)) WHERE is_default;
    CREATE UNIQUE INDEX gateways_one_emulator ON gateways ((true)) WHERE is_emulator;
  `,
  );
}
