// The ordered list of migrations, compiled with the app so `settle migrate` needs no files on disk.
import type { Migration, MigrationProvider } from 'kysely/migration';
import * as m0001 from './0001-ledger.js';
import * as m0002 from './0002-gateways.js';
import * as m0003 from './0003-gateway-logs.js';
import * as m0004 from './0004-gateway-attempts.js';
import * as m0005 from './0005-webhooks.js';
import * as m0006 from './0006-jobs.js';
import * as m0007 from './0007-rate-limit-grant-function.js';
import * as m0008 from './0008-rate-limit-burst-spread.js';
import * as m0009 from './0009-keys-and-audit.js';
import * as m0010 from './0010-saved-cards.js';
import * as m0011 from './0011-snapshots-and-endpoint-limits.js';
import * as m0012 from './0012-sync-runs.js';
import * as m0013 from './0013-payout-reconciliation.js';
import * as m0014 from './0014-settlement-and-balances.js';
import * as m0015 from './0015-connect.js';
import * as m0016 from './0016-transfer-reversals.js';
import * as m0019 from './0019-queue-indexes.js';
import * as m0020 from './0020-parents-and-totals.js';
import * as m0021 from './0021-list-view-indexes.js';
import * as m0022 from './0022-orders.js';
import * as m0023 from './0023-console-users.js';
import * as m0024 from './0024-transaction-sort-indexes.js';

const migrations: Record<string, Migration> = {
  '0001-ledger': m0001,
  '0002-gateways': m0002,
  '0003-gateway-logs': m0003,
  '0004-gateway-attempts': m0004,
  '0005-webhooks': m0005,
  '0006-jobs': m0006,
  '0007-rate-limit-grant-function': m0007,
  '0008-rate-limit-burst-spread': m0008,
  '0009-keys-and-audit': m0009,
  '0010-saved-cards': m0010,
  '0011-snapshots-and-endpoint-limits': m0011,
  '0012-sync-runs': m0012,
  '0013-payout-reconciliation': m0013,
  '0014-settlement-and-balances': m0014,
  '0015-connect': m0015,
  '0016-transfer-reversals': m0016,
  '0019-queue-indexes': m0019,
  '0020-parents-and-totals': m0020,
  '0021-list-view-indexes': m0021,
  '0022-orders': m0022,
  '0023-console-users': m0023,
  '0024-transaction-sort-indexes': m0024,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
