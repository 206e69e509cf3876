// The settle CLI (U2): serve, migrate, keys create. Commands call app/ and store/, never raw SQL.
import { Command, InvalidArgumentError } from 'commander';
import {
  type BootstrapKeySource,
  bootstrapKeyFile,
  createApiKey,
  listApiKeys,
  parseScopes,
  revokeApiKey,
} from '../app/api-keys.js';
import { CLI_ACTOR } from '../app/audit.js';
import { loadConfig } from '../config.js';
import { ConflictError, isSettleError } from '../domain/errors.js';
import { recoverInFlight } from '../app/processing/recover.js';
import { recoverConnectSends } from '../app/connect/recover-sends.js';
import {
  deleteOldWebhookEvents,
  listWebhookEvents,
  replayWebhookEvent,
  type WebhookEventView,
} from '../app/webhooks/events.js';
import { setUpDefaultGateway } from '../gateway-adapters/default-gateway.js';
import { openDatabase } from '../store/database.js';
import { DataDirLockedError } from '../store/data-dir-lock.js';
import { describeProblems, PRIVATE_UMASK, restrictDataDir } from '../store/file-modes.js';
import { migrateToLatest } from '../store/migrate.js';
import { openRuntime } from '../runtime.js';
import type { SyncCommandOptions } from './sync-command.js';

// What Settle writes is private to its owner (docs/SECURITY.md). bin/settle.js sets this before loading anything;
// here again for `tsx src/cli/main.ts`.
process.umask(PRIVATE_UMASK);

const program = new Command();
program.name('settle').description('Settle: a self-hosted payments transaction ledger').showHelpAfterError();

// Before a command uses the data directory: its directories 0700 and files 0600, whatever an earlier version or
// PGlite left (store/file-modes.ts; only Settle's own entries when the directory holds other things). A
// configuration error is left for the command itself to report.
program.hook('preAction', async (_program, command) => {
  if (command.name() === 'emulator') return;
  let dataDir: string;
  try {
    dataDir = loadConfig().dataDir;
  } catch {
    return;
  }
  const report = await restrictDataDir(dataDir);
  if (report.shared)
    console.error(
      `settle: the data directory ${dataDir} ${report.shared}; only Settle's own files in it are made private (set SETTLE_DATA_DIR to a directory for Settle alone)`,
    );
  for (const line of describeProblems(report.problems)) console.error(`settle: ${line}`);
});

program
  .command('serve')
  .description('migrate the database and serve the API (PGlite under ./data unless DATABASE_URL is set)')
  .option('-p, --port <port>', 'port to listen on (default: PORT or 3000)', (value) => {
    if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('a port number from 0 to 65535');
    return value;
  })
  .action(async (options: { port?: string }) => {
    const config = loadConfig({ ...process.env, ...(options.port ? { PORT: options.port } : {}) });
    // Loaded here, not at the top: the other commands (recover, keys, migrate) start faster without the HTTP stack.
    const { serve } = await import('../http/server.js');
    await serve(config);
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const config = loadConfig();
    const database = await openDatabase({
      url: config.databaseUrl,
      dataDir: config.databaseUrl ? undefined : `${config.dataDir}/pglite`,
    });
    try {
      const report = await migrateToLatest(database.db);
      console.log(report.applied.length === 0 ? 'Database is up to date.' : `Applied: ${report.applied.join(', ')}`);
    } finally {
      await database.close();
    }
  });

program
  .command('emulator')
  .description('run the offline Stripe emulator alone; point any Stripe SDK at it with an sk_test_ key')
  .option('-p, --port <port>', 'port to listen on', '12111')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--state <file>', 'keep the emulator state in this JSON file (default: memory only)')
  .action(async (options: { port: string; host: string; state?: string }) => {
    if (!/^\d+$/.test(options.port) || Number(options.port) > 65535)
      throw new InvalidArgumentError('--port takes a port number');
    const { startEmulator } = await import('@settle/stripe-emulator');
    const emulator = await startEmulator({
      port: Number(options.port),
      host: options.host,
      ...(options.state ? { stateFile: options.state } : {}),
    });
    console.log(`Stripe emulator listening on ${emulator.url}`);
    console.log(
      `  use any key starting sk_test_, e.g. new Stripe('sk_test_x', { host: '${options.host}', port: ${emulator.port}, protocol: 'http' })`,
    );
    console.log(`  point Settle at it with STRIPE_API_BASE=${emulator.url}`);
    const stop = () => void emulator.close().finally(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('recover')
  .description(
    'resolve gateway calls whose outcome Settle does not know (after a crash, a timeout or a lost answer): replay with the same idempotency key, else look the payment up at the gateway',
  )
  .option('--older-than <seconds>', 'only attempts started at least this long ago', '0')
  .option('--max-tries <n>', 'unresolved tries after which a transaction goes to needs_review', '5')
  .action(async (options: { olderThan: string; maxTries: string }) => {
    if (!/^\d+$/.test(options.olderThan))
      throw new InvalidArgumentError('--older-than takes a whole number of seconds');
    if (!/^[1-9]\d*$/.test(options.maxTries))
      throw new InvalidArgumentError('--max-tries takes a positive whole number');
    const config = loadConfig();
    const runtime = await openRuntime(config);
    let gateway: Awaited<ReturnType<typeof setUpDefaultGateway>> | undefined;
    try {
      // The built-in emulator runs inside Settle: start it (on its saved state) so its payments can be asked about.
      gateway = await setUpDefaultGateway(config, runtime.deps);
      const report = await recoverInFlight(runtime.deps, {
        actor: 'cli:recover',
        olderThanMs: Number(options.olderThan) * 1000,
        maxTries: Number(options.maxTries),
        limit: 100_000,
      });
      console.log(
        `Examined ${report.examined} in-flight gateway call(s): ${report.applied} resolved from the gateway's answer, ${report.reverted} proven not to have happened (put back), ${report.needs_review} sent to needs_review, ${report.still_unknown} still unknown.`,
      );
      for (const e of report.errors) console.error(`  ${e.attempt_id}: ${e.message}`);
      if (report.errors.length > 0) process.exitCode = 1;
      // Connect sends (transfers, reversals) left in process: resent with their fixed key (app/connect/recover-sends.ts).
      const connect = await recoverConnectSends(runtime.deps, {
        actor: 'cli:recover',
        graceMs: Number(options.olderThan) * 1000,
        limit: 100_000,
      });
      console.log(
        `Examined ${connect.examined} Connect send(s) in process: ${connect.applied} resolved from the gateway's answer, ${connect.needs_review} sent to needs_review, ${connect.still_unknown} still unknown.`,
      );
      for (const e of connect.errors) console.error(`  ${e.transaction_id}: ${e.message}`);
      if (connect.errors.length > 0) process.exitCode = 1;
    } finally {
      await gateway?.close();
      await runtime.close();
    }
  });

program
  .command('check')
  .description(
    "the auditor's check: recompute every total, invoice balance and allocation from the transactions and print each difference (exit code 1 when any differ)",
  )
  .action(async () => {
    const config = loadConfig();
    const runtime = await openRuntime(config).catch((error: unknown) => {
      if (!(error instanceof DataDirLockedError)) throw error;
      throw new Error(
        `${error.message}\nIf that is \`settle serve\`, run the check through its API instead: POST /v1/jobs/totals_check/run, then GET /v1/job-runs/<run id> for its errors.`,
      );
    });
    try {
      const { checkTotals, describeDifference, totalsCheckSummary } = await import('../app/totals-check.js');
      const report = await checkTotals(runtime.deps.db);
      for (const difference of report.differences) console.log(`  ${describeDifference(difference)}`);
      console.log(totalsCheckSummary(report));
      if (report.differences.length > 0) process.exitCode = 1;
    } finally {
      await runtime.close();
    }
  });

const keys = program
  .command('keys')
  .description('manage API keys (while `settle serve` runs on the embedded database, use the API: /v1/api-keys)');

/**
 * The runtime for a keys command. PGlite (the default) is opened by one process at a time: while `settle serve`
 * runs on it, keys are managed through the API, and the message says how.
 */
async function openForKeys(command: 'create' | 'list' | 'revoke'): Promise<Awaited<ReturnType<typeof openRuntime>>> {
  const config = loadConfig();
  try {
    return await openRuntime(config);
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
    const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}/v1/api-keys`;
    const bearer = config.apiKey ? '$SETTLE_API_KEY' : `$(cat ${bootstrapKeyFile(config.dataDir)})`;
    const auth = `-H "Authorization: Bearer ${bearer}"`;
    const curl = {
      create: `curl -X POST ${auth} -H 'content-type: application/json' -d '{"name": "reporting", "scopes": ["read"]}' ${base}`,
      list: `curl ${auth} ${base}`,
      revoke: `curl -X POST ${auth} ${base}/<key id>/revoke`,
    }[command];
    throw new Error(
      `${error.message}\nIf that is \`settle serve\`, manage keys through its API with an admin key instead, e.g.:\n  ${curl}`,
    );
  }
}

keys
  .command('create')
  .description('create an API key; the secret is printed once and stored only as a SHA-256 digest')
  .requiredOption('-n, --name <name>', 'what the key is for')
  .option('-s, --scopes <scopes>', 'comma-separated scopes: read, write, admin', 'read,write')
  .action(async (options: { name: string; scopes: string }) => {
    const scopes = parseScopes(options.scopes);
    const runtime = await openForKeys('create');
    try {
      const { body: key } = await createApiKey(runtime.deps, { actor: CLI_ACTOR }, { name: options.name, scopes });
      console.log(`Created API key ${key.id} (${key.name}) with scopes ${key.scopes.join(', ')}.`);
      console.log('Secret (shown only now):');
      console.log(key.secret);
    } finally {
      await runtime.close();
    }
  });

keys
  .command('list')
  .description('list API keys (ids, names, scopes, last use, revocation; secrets are never stored)')
  .action(async () => {
    const runtime = await openForKeys('list');
    try {
      const all = await listApiKeys(runtime.deps.db);
      if (all.length === 0) console.log('No API keys in the database (the bootstrap admin key is not stored there).');
      for (const key of all) {
        const state = key.revoked_at ? `revoked ${key.revoked_at.toISOString()}` : 'active';
        const used = key.last_used_at ? `used ${key.last_used_at.toISOString()}` : 'never used';
        console.log(
          `${key.id}  ${key.scopes.join(',').padEnd(16)}  ${state.padEnd(32)}  ${used.padEnd(29)}  ${key.name}`,
        );
      }
    } finally {
      await runtime.close();
    }
  });

keys
  .command('revoke <id>')
  .description(
    'revoke an API key by id (key_...); every process refuses it within SETTLE_KEY_CACHE_SECONDS (default 5)',
  )
  .action(async (id: string) => {
    const config = loadConfig();
    const runtime = await openForKeys('revoke');
    try {
      const bootstrap: BootstrapKeySource = config.apiKey
        ? { kind: 'env' }
        : { kind: 'file', file: bootstrapKeyFile(config.dataDir) };
      const key = await revokeApiKey(runtime.deps.db, id, runtime.deps.clock.now(), CLI_ACTOR, bootstrap);
      console.log(`Revoked ${key.id} (${key.name}) at ${key.revoked_at?.toISOString() ?? '?'}.`);
    } finally {
      await runtime.close();
    }
  });

const users = program
  .command('users')
  .description('manage console users (while `settle serve` runs on the embedded database, use the API: /v1/users)');

users
  .command('create')
  .description(
    'create a console user; without --password one is generated, printed once, and must be changed at first sign-in',
  )
  .requiredOption('-e, --email <email>', 'the email the user signs in with (stored lower-case)')
  .requiredOption('-r, --role <role>', 'admin, operator or viewer (the API scopes admin, write, read)')
  .option('-p, --password <password>', 'a password of 12 to 256 characters (default: generated)')
  .action(async (options: { email: string; role: string; password?: string }) => {
    const { createUser, parseEmail, parseRole, checkPassword } = await import('../app/users.js');
    // Checked before the database is opened, so a mistake is reported without waiting for it.
    parseEmail(options.email);
    parseRole(options.role);
    if (options.password !== undefined) checkPassword(options.password);
    const config = loadConfig();
    const runtime = await openRuntime(config).catch((error: unknown) => {
      if (!(error instanceof DataDirLockedError)) throw error;
      const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}/v1/users`;
      const bearer = config.apiKey ? '$SETTLE_API_KEY' : `$(cat ${bootstrapKeyFile(config.dataDir)})`;
      throw new Error(
        `${error.message}\nIf that is \`settle serve\`, create the user through its API with an admin key instead, e.g.:\n  curl -X POST -H "Authorization: Bearer ${bearer}" -H 'content-type: application/json' -d '{"email": "${options.email}", "role": "${options.role}"}' ${base}`,
      );
    });
    try {
      const { body: user } = await createUser(
        runtime.deps,
        { actor: CLI_ACTOR },
        {
          email: options.email,
          role: options.role,
          ...(options.password === undefined ? {} : { password: options.password }),
        },
      );
      console.log(`Created console user ${user.id} (${user.email}) with role ${user.role}.`);
      if (user.password !== null) {
        console.log('Password (shown only now; it must be changed at first sign-in):');
        console.log(user.password);
      }
    } finally {
      await runtime.close();
    }
  });

const webhooks = program.command('webhooks').description('events received from gateways (webhooks)');

function webhookLine(event: WebhookEventView): string {
  const detail = event.error ?? event.outcome ?? '';
  return [
    event.id,
    event.received_at,
    event.status.padEnd(13),
    event.type.padEnd(34),
    event.object_id ?? '-',
    `x${event.deliveries}`,
    `tries ${event.attempts}`,
    detail,
  ].join('  ');
}

webhooks
  .command('list')
  .description('list stored events, newest first')
  .option('--status <status>', 'pending, processed, failed or not_supported')
  .option('--type <type>', 'an event type, e.g. payment_intent.succeeded')
  .option('--limit <n>', 'how many, 1 to 200', '20')
  .action(async (options: { status?: string; type?: string; limit: string }) => {
    if (!/^\d+$/.test(options.limit)) throw new InvalidArgumentError('--limit takes a whole number from 1 to 200');
    const runtime = await openRuntime(loadConfig());
    try {
      const page = await listWebhookEvents(runtime.deps, {
        status: options.status,
        type: options.type,
        limit: Number(options.limit),
      });
      if (page.data.length === 0) console.log('No webhook events match.');
      for (const event of page.data) console.log(webhookLine(event));
      if (page.has_more) console.log(`... more: GET /v1/webhook-events?starting_after=${page.next_cursor ?? ''}`);
    } finally {
      await runtime.close();
    }
  });

webhooks
  .command('replay <id>')
  .description('set an event (whe_...) back to pending and process it now, whatever its status')
  .action(async (id: string) => {
    const config = loadConfig();
    const runtime = await openRuntime(config);
    let gateway: Awaited<ReturnType<typeof setUpDefaultGateway>> | undefined;
    try {
      // Processing may ask the gateway about the event's object: the built-in emulator has to be running.
      gateway = await setUpDefaultGateway(config, runtime.deps);
      const event = await replayWebhookEvent(runtime.deps, id);
      console.log(webhookLine(event));
      if (event.status === 'failed') process.exitCode = 1;
    } finally {
      await gateway?.close();
      await runtime.close();
    }
  });

webhooks
  .command('cleanup')
  .description(
    'delete processed and not-supported events older than the webhook_retention_days setting (failed and pending ones are kept)',
  )
  .action(async () => {
    const runtime = await openRuntime(loadConfig());
    try {
      const result = await deleteOldWebhookEvents(runtime.deps);
      console.log(
        `Deleted ${result.deleted} processed or not-supported webhook event(s) received before ${result.received_before}.`,
      );
    } finally {
      await runtime.close();
    }
  });

program
  .command('worker')
  .description(
    'run scheduled jobs and webhook processing without the API (several workers on one PostgreSQL share the work; point them at one gateway, e.g. STRIPE_API_BASE)',
  )
  .action(async () => {
    const config = loadConfig();
    const runtime = await openRuntime(config);
    let gateway: Awaited<ReturnType<typeof setUpDefaultGateway>> | undefined;
    try {
      gateway = await setUpDefaultGateway(config, runtime.deps);
    } catch (error) {
      await runtime.close();
      throw error;
    }
    const { backgroundWork } = await import('../jobs/background.js');
    const background = backgroundWork(runtime.deps, { ...config, schedulerEnabled: true }, (message) =>
      console.error(message),
    );
    background.start();
    console.log(`Settle worker ${background.runner.worker} started`);
    console.log(
      `  database: ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}/pglite`}`,
    );
    console.log(`  gateway:  ${gateway.description}`);
    console.log(
      `  jobs:     scheduler on, ${config.jobConcurrency} at a time per batch, claims held ${config.jobLeaseSeconds} s`,
    );
    let closing = false;
    const shutdown = () => {
      if (closing) return;
      closing = true;
      console.log('stopping: finishing the items under way, giving back the rest');
      void background
        .stop()
        .then(() => gateway?.close())
        .then(() => runtime.close())
        .finally(() => process.exit(0));
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });

program
  .command('sync')
  .description(
    "import the gateway's history (W6): customers, payment methods, payments, refunds, disputes, payouts and balance transactions created since a date, with progress; resumable and safe to run twice",
  )
  .option('--since <date>', 'from this date (YYYY-MM-DD, UTC) or ISO timestamp with its offset')
  .option('--until <date>', 'up to (not including) this date or timestamp; default: no end')
  .option('--objects <list>', 'comma-separated object types to import (default: all)')
  .option('--resume', "carry on the default gateway's running sync whose process died")
  .option('--force', 'with --resume: take the sync over even if its lease has not lapsed (its process is known gone)')
  .option('--page-size <n>', 'objects per gateway list request, 1 to 100', '100')
  .action(async (options: SyncCommandOptions) => {
    const { runSyncCommand } = await import('./sync-command.js');
    await runSyncCommand(options);
  });

const jobs = program.command('jobs').description('scheduled jobs (S1-S5)');

jobs
  .command('list')
  .description('the jobs, their schedule, next run and latest run')
  .action(async () => {
    const runtime = await openRuntime(loadConfig());
    try {
      const { listJobs } = await import('../jobs/list-jobs.js');
      for (const job of (await listJobs(runtime.deps)).data) {
        const last = job.last_run
          ? `last ${job.last_run.id} ${job.last_run.status} ${job.last_run.started_at}`
          : 'never run';
        console.log(`${job.name.padEnd(20)} ${job.schedule.padEnd(58)} next ${job.next_run_at}  ${last}`);
      }
    } finally {
      await runtime.close();
    }
  });

jobs
  .command('run <name>')
  .description('run a job now, here, with a progress bar; other workers that are up share a batch job')
  .action(async (name: string) => {
    const config = loadConfig();
    const runtime = await openRuntime(config);
    let gateway: Awaited<ReturnType<typeof setUpDefaultGateway>> | undefined;
    const { JobRunner } = await import('../jobs/runner.js');
    const { findRun } = await import('../jobs/job-runs.js');
    const { ProgressPrinter } = await import('./progress.js');
    const runner = new JobRunner(runtime.deps, {
      concurrency: config.jobConcurrency,
      leaseMs: config.jobLeaseSeconds * 1000,
    });
    const stop = () => {
      console.error(
        '\nstopping: finishing the items under way; the run goes on in other workers or at the next scheduler tick',
      );
      void runner.stop();
    };
    try {
      gateway = await setUpDefaultGateway(config, runtime.deps);
      let run;
      try {
        run = await runner.runNow(name, 'cli', `cli:${process.env.USER ?? 'unknown'}`);
      } catch (error) {
        if (error instanceof ConflictError) {
          console.error(`settle: ${error.message}`);
          process.exitCode = 1;
          return;
        }
        throw error;
      }
      process.once('SIGINT', stop);
      console.log(`Run ${run.id} of ${name} started${run.total === null ? '' : `: ${run.total} due`}.`);
      const printer = new ProgressPrinter();
      let finished = false;
      const done = runner.finished(run.id).finally(() => {
        finished = true;
      });
      while (!finished) {
        await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 250))]);
        const row = await findRun(runtime.deps.db, run.id);
        if (row) printer.update(row);
      }
      const last = await findRun(runtime.deps.db, run.id);
      if (!last) throw new Error(`run ${run.id} disappeared`);
      printer.update(last, true);
      if (last.status === 'running') {
        // Interrupted here: the run itself goes on (other workers, or the next scheduler tick of any worker, join it).
        console.log(
          `Stopped taking part. Run ${last.id} is still running; other workers or the next scheduler tick of any worker carry it on.`,
        );
        process.exitCode = 130;
        return;
      }
      console.log(`${last.status}: ${last.summary ?? ''}`);
      for (const e of last.errors.slice(0, 20)) console.log(`  ${e.transaction_id ?? '-'}  ${e.code}  ${e.message}`);
      if (last.error_count > 20) console.log(`  ... ${last.error_count - 20} more: GET /v1/job-runs/${last.id}`);
      if (last.status === 'failed') process.exitCode = 1;
    } finally {
      process.off('SIGINT', stop);
      await runner.stop();
      await gateway?.close();
      await runtime.close();
    }
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (isSettleError(error)) {
    console.error(`settle: ${error.message}`);
  } else {
    console.error(`settle: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
}
