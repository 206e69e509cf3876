// One owner for SQL writes (issue 16, item 3): transaction history is written by src/store/history.ts alone, and
// inserts that send their rows as one JSON parameter name their columns, typed against the Database interface,
// so that a renamed or missing field is a compile error or a refused row, never a silent NULL.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayLogRecord, insertGatewayLogs } from '../../src/app/gateway-log.js';
import { everyColumn, rowsJson, selectFromJson } from '../../src/store/json-rows.js';
import type { Database, JobRunRow, TransactionRow, WebhookEventRow } from '../../src/store/schema.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Files under src/ (migrations aside) whose code matches `pattern`, as paths relative to src/. */
function filesMatching(pattern: RegExp): string[] {
  return sourceFiles(SRC)
    .filter((file) => pattern.test(readFileSync(file, 'utf8')))
    .map((file) => relative(SRC, file).split('\\').join('/'))
    .sort();
}

describe('who writes what', () => {
  it('only store/history.ts writes transaction history', () => {
    const writers = filesMatching(
      /insertInto\(\s*['"`]transaction_history['"`]|insert\s+into\s+["'`]?transaction_history\b/i,
    );
    expect(writers).toEqual(['store/history.ts']);
  });

  it('no insert takes its columns from jsonb_populate_record(set) by position (select *)', () => {
    expect(filesMatching(/select\s+\*\s+from\s+jsonb_populate_record/i)).toEqual([]);
  });
});

describe('typed column lists', () => {
  it('a column list must name every column of its table, and only those (checked by tsc)', () => {
    // @ts-expect-error 'changes' is missing from the list
    everyColumn<'transaction_history'>()(['id', 'transaction_id', 'at', 'actor', 'action']);
    // @ts-expect-error 'change' is not a column of transaction_history
    everyColumn<'transaction_history'>()(['id', 'transaction_id', 'at', 'actor', 'action', 'changes', 'change']);
    const columns = everyColumn<'transaction_history'>()(['id', 'transaction_id', 'at', 'actor', 'action', 'changes']);
    // @ts-expect-error a row without 'changes'
    expect(() => rowsJson(columns, [{ id: 1, transaction_id: 't', at: 'x', actor: 'a', action: 'b' }])).toThrow(
      /no value for changes/,
    );
  });

  it('status and enum columns are unions (checked by tsc)', () => {
    const statuses: TransactionRow['status'][] = ['open', 'completed'];
    // @ts-expect-error not a transaction status
    statuses.push('complete');
    const events: WebhookEventRow['status'][] = ['pending'];
    // @ts-expect-error not a webhook event status
    events.push('done');
    const runs: JobRunRow['status'][] = ['running'];
    // @ts-expect-error not a job run status
    runs.push('finished');
    expect(statuses).toHaveLength(3);
  });

  it('sends exactly the listed columns and refuses a row without a value for one', () => {
    expect(JSON.parse(rowsJson(['a', 'b'], [{ a: 1, b: null, extra: 2 } as { a: number; b: null }]))).toEqual([
      { a: 1, b: null },
    ]);
    expect(() => rowsJson(['a', 'b'], [{ a: 1, b: undefined }])).toThrow(/no value for b/);
  });

  it('names the columns it reads from the JSON', () => {
    const db = new Kysely<Database>({
      dialect: {
        createAdapter: () => new PostgresAdapter(),
        createDriver: () => new DummyDriver(),
        createIntrospector: (k) => new PostgresIntrospector(k),
        createQueryCompiler: () => new PostgresQueryCompiler(),
      },
    });
    const query = db
      .insertInto('transaction_history')
      .columns(['transaction_id', 'actor'])
      .expression(
        selectFromJson('transaction_history', ['transaction_id', 'actor'], '[]', {
          gate: 'updated',
          orderBy: ['transaction_id'],
        }),
      );
    expect(query.compile().sql).toBe(
      'insert into "transaction_history" ("transaction_id", "actor") select "transaction_id", "actor" from jsonb_populate_recordset(null::"transaction_history", $1::jsonb) where exists (select 1 from "updated") order by "transaction_id"',
    );
  });
});

for (const kind of databaseKinds()) {
  describe(`gateway log rows sent as JSON [${kind}]`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await createTestDatabase(kind, 4);
      await t.database.db
        .insertInto('gateways')
        .values({
          id: 'gw_typed',
          name: 'typed',
          provider: 'stripe',
          mode: 'test',
          settlement_currency: 'USD',
          rate_limit_per_second: 25,
          secret_key_env: null,
          webhook_secret_env: null,
          api_base: null,
          metadata: '{}',
          created_at: new Date(),
          updated_at: new Date(),
        })
        .execute();
    });
    afterAll(async () => {
      await t.drop();
    });

    const record = (id: string): GatewayLogRecord => ({
      id,
      gateway_id: 'gw_typed',
      transaction_id: null,
      interaction_type: 'sale',
      order_payment_summary_id: null,
      interaction_status: 'success',
      result_code: 'success',
      gateway_ref_number: 'pi_1',
      gateway_auth_code: null,
      gateway_date: new Date('2026-11-24T12:00:00.000Z'),
      gateway_message: 'ok',
      gateway_result_code: null,
      gateway_result_code_description: null,
      idempotency_key: 'settle_x',
      is_notification: false,
      http_method: 'POST',
      http_path: '/v1/payment_intents',
      http_status: 200,
      request_id: 'req_1',
      request_body: { amount: '5000' },
      response_body: { id: 'pi_1', nested: [1, 2] },
      latency_ms: 7,
      created_at: new Date('2026-11-24T12:00:01.000Z'),
    });

    it('stores every column as sent', async () => {
      await insertGatewayLogs(t.database.db, [record('glog_typed_1')]);
      const row = await t.database.db
        .selectFrom('gateway_logs')
        .selectAll()
        .where('id', '=', 'glog_typed_1')
        .executeTakeFirstOrThrow();
      expect({
        ...row,
        gateway_date: new Date(row.gateway_date as Date),
        created_at: new Date(row.created_at),
      }).toEqual(record('glog_typed_1'));
    });

    it('refuses a record that lacks a field (it used to be stored as NULL) and stores none of the batch', async () => {
      const lacking = { ...record('glog_typed_3'), gateway_message: undefined } as unknown as GatewayLogRecord;
      await expect(insertGatewayLogs(t.database.db, [record('glog_typed_2'), lacking])).rejects.toThrow(
        /no value for gateway_message/,
      );
      const stored = await t.database.db
        .selectFrom('gateway_logs')
        .select('id')
        .where('id', 'in', ['glog_typed_2', 'glog_typed_3'])
        .execute();
      expect(stored).toEqual([]);
    });
  });
}
