// Files at rest readable by their owner only. Under the data directory (the PGlite cluster, the admin API key, the
// emulator's state with its webhook signing secrets, the registered endpoint's secret) every directory is 0700 and
// every regular file 0600.
//
// The process umask (077, set by the `settle` command before anything else) covers what Settle itself creates, but
// not what PGlite does: it unpacks its initial cluster with modes of its own (0666 files, 0755 directories) and
// writes its relation cache file (pg_internal.init) 0644 at every start, whatever the umask. So Settle also walks
// the directory and corrects modes: at start (the CLI, before a command runs), after PGlite opens, after
// migrations, every minute while the database is open, and after it closes (database.ts).
//
// SETTLE_DATA_DIR is meant for Settle alone. One that holds other things (a project checkout, a home directory:
// a mistaken setting) is not walked whole, which would take the execute bits off scripts and hide files from their
// group: only Settle's own entries in it are made private, and the CLI says so.
//
// The walk never follows a symbolic link (links are left as they are, and a path that turns into a link between the
// look and the change is skipped), takes files that vanish mid-walk in its stride, and only opens what needs a
// change: on a directory already right it costs one lstat per entry (about 1,000 for a PGlite cluster).
import { constants, type Dirent, existsSync, type Stats } from 'node:fs';
import { chmod, lstat, open, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

export const PRIVATE_UMASK = 0o077;
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

export interface ModeProblem {
  path: string;
  /** The errno code (EPERM: owned by someone else; EACCES...). */
  code: string;
}

export interface RestrictReport {
  /** Directories and regular files looked at. */
  checked: number;
  /** Those whose mode was changed. */
  changed: string[];
  /** Those whose mode is wrong and could not be changed. */
  problems: ModeProblem[];
}

/** Gone, or no longer what it was: nothing to do for this path. */
function vanished(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

function wantedMode(stats: Stats): number | undefined {
  if (stats.isDirectory()) return PRIVATE_DIR_MODE;
  if (stats.isFile()) return PRIVATE_FILE_MODE;
  return undefined; // links, sockets, FIFOs: left alone
}

/**
 * Sets the mode through a descriptor opened without following links, so that a path swapped for a link after
 * the lstat cannot redirect the change. A file its owner cannot read (mode 0200, say) cannot be opened: it is
 * changed by path after a second lstat says it is still no link.
 */
async function setMode(file: string, mode: number, isDirectory: boolean): Promise<void> {
  const flags =
    constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (isDirectory ? constants.O_DIRECTORY : 0);
  let handle;
  try {
    handle = await open(file, flags);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    const again = await lstat(file);
    if (again.isSymbolicLink() || again.isDirectory() !== isDirectory) return;
    await chmod(file, mode);
    return;
  }
  try {
    const current = await handle.stat();
    if (current.isDirectory() !== isDirectory || !(current.isDirectory() || current.isFile())) return;
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}

async function restrictOne(file: string, stats: Stats, report: RestrictReport): Promise<boolean> {
  const mode = wantedMode(stats);
  if (mode === undefined) return false;
  report.checked += 1;
  if ((stats.mode & 0o7777) === mode) return true;
  try {
    await setMode(file, mode, stats.isDirectory());
    report.changed.push(file);
  } catch (error) {
    if (vanished(error)) return false;
    report.problems.push({ path: file, code: errorCode(error) });
  }
  return true;
}

async function walk(dir: string, report: RestrictReport): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (!vanished(error)) report.problems.push({ path: dir, code: errorCode(error) });
    return;
  }
  const subdirectories: string[] = [];
  await Promise.all(
    entries.map(async (entry) => {
      if (entry.isSymbolicLink()) return;
      const file = path.join(dir, entry.name);
      let stats: Stats;
      try {
        stats = await lstat(file);
      } catch (error) {
        if (!vanished(error)) report.problems.push({ path: file, code: errorCode(error) });
        return;
      }
      if ((await restrictOne(file, stats, report)) && stats.isDirectory()) subdirectories.push(file);
    }),
  );
  for (const subdirectory of subdirectories) await walk(subdirectory, report);
}

/**
 * Makes `root` and every directory under it 0700 and every regular file under it 0600. `root` itself may be a link
 * (the operator's choice of data directory); nothing under it is followed. A missing root is not an error.
 */
export async function restrictModes(root: string): Promise<RestrictReport> {
  const report: RestrictReport = { checked: 0, changed: [], problems: [] };
  let stats: Stats;
  try {
    stats = await stat(root);
  } catch (error) {
    if (!vanished(error)) report.problems.push({ path: root, code: errorCode(error) });
    return report;
  }
  if (!stats.isDirectory()) return report;
  report.checked += 1;
  if ((stats.mode & 0o7777) !== PRIVATE_DIR_MODE) {
    try {
      await chmod(root, PRIVATE_DIR_MODE);
      report.changed.push(root);
    } catch (error) {
      if (vanished(error)) return report;
      report.problems.push({ path: root, code: errorCode(error) });
    }
  }
  await walk(root, report);
  return report;
}

/**
 * What Settle keeps in its data directory: the PGlite cluster (runtime.ts), the generated admin key
 * (app/api-keys.ts), the emulator's state (gateway-adapters/default-gateway.ts) and the registered endpoint's secret
 * (app/webhooks/secrets.ts). test/store/file-modes.test.ts checks the names against theirs.
 */
export const SETTLE_DATA_ENTRIES: readonly string[] = [
  'pglite',
  'admin-api-key',
  'console-admin-password',
  'stripe-emulator.json',
  'emulator-webhook-endpoint.json',
];

/** Entries that say a directory is not Settle's alone. */
const FOREIGN_MARKERS = ['.git', 'package.json', 'node_modules'];

/** Why `dir` looks like a directory shared with other things (undefined when it does not). */
export function sharedDirectoryReason(dir: string): string | undefined {
  const resolved = path.resolve(dir);
  if (resolved === path.parse(resolved).root) return 'is the root of the file system';
  if (resolved === path.resolve(homedir())) return 'is a home directory';
  const marker = FOREIGN_MARKERS.find((name) => existsSync(path.join(resolved, name)));
  return marker === undefined ? undefined : `holds ${marker}`;
}

/**
 * The start-up pass over the data directory: all of it, or, when it looks shared (`shared` says why), only
 * SETTLE_DATA_ENTRIES in it (a link among them is left alone).
 */
export async function restrictDataDir(dataDir: string): Promise<RestrictReport & { shared: string | undefined }> {
  const shared = sharedDirectoryReason(dataDir);
  if (shared === undefined) return { ...(await restrictModes(dataDir)), shared };
  const report: RestrictReport = { checked: 0, changed: [], problems: [] };
  for (const name of SETTLE_DATA_ENTRIES) {
    const entry = path.join(dataDir, name);
    let stats: Stats;
    try {
      stats = await lstat(entry);
    } catch (error) {
      if (!vanished(error)) report.problems.push({ path: entry, code: errorCode(error) });
      continue;
    }
    if (stats.isDirectory()) {
      const inner = await restrictModes(entry);
      report.checked += inner.checked;
      report.changed.push(...inner.changed);
      report.problems.push(...inner.problems);
    } else {
      await restrictOne(entry, stats, report);
    }
  }
  return { ...report, shared };
}

/** One line per path whose mode could not be made private (for a warning). */
export function describeProblems(problems: readonly ModeProblem[]): string[] {
  return problems.map(
    (problem) =>
      `could not make ${problem.path} private to its owner (${problem.code}); anyone who can read it may see secrets`,
  );
}

export interface ModeKeeper {
  /** Walks now; a call made while a walk runs gets a walk that starts after it, so nothing written before is missed. */
  run(): Promise<RestrictReport>;
  stop(): void;
}

/**
 * Keeps a directory private while something writes into it: walks it every `intervalMs` (0: only when asked), and
 * hands problems to `warn` once per path.
 */
export function keepModesRestricted(
  root: string,
  options: { intervalMs: number; warn: (message: string) => void },
): ModeKeeper {
  const warned = new Set<string>();
  /** The walk under way (settled either way), and the one waiting for it. */
  let running: Promise<void> | undefined;
  let next: Promise<RestrictReport> | undefined;
  const start = (): Promise<RestrictReport> => {
    const walk = restrictModes(root).then((report) => {
      const fresh = report.problems.filter((problem) => !warned.has(problem.path));
      for (const problem of fresh) warned.add(problem.path);
      for (const line of describeProblems(fresh)) options.warn(line);
      return report;
    });
    const settled = walk.then(
      () => undefined,
      () => undefined,
    );
    running = settled;
    void settled.then(() => {
      if (running === settled) running = undefined;
    });
    return walk;
  };
  const run = (): Promise<RestrictReport> => {
    if (next) return next;
    if (!running) return start();
    next = running.then(() => {
      next = undefined;
      return start();
    });
    return next;
  };
  const timer =
    options.intervalMs > 0
      ? setInterval(
          () =>
            void run().catch((error: unknown) =>
              options.warn(`checking file modes under ${root} failed: ${String(error)}`),
            ),
          options.intervalMs,
        )
      : undefined;
  timer?.unref();
  return {
    run,
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}
