// Which test files run how (vitest.config.ts). Paths and globs are relative to the repository root; `*` matches
// within one folder, `**/` any number of folders.
//
// UNIT: the pure tests, `npm run test:unit` (the `unit` project): no database, no server, no child process, so no
// global setup either. test/support/test-groups.test.ts fails when one of them reaches a database or test harness
// module through its imports, or starts a server or a process.
//
// Most other files share their worker process's modules (isolate: false): importing the app once per worker
// instead of once per file saved about 65 s of a 535 s suite on 2 vCPUs.
//
// RUNS_ISOLATED: files that replace a module with vi.mock, which needs a module graph of their own (a shared one
// may already hold the real module). test-groups.test.ts fails when a file mocks a module and is not listed here.
//
// HEAVY: each a named project of its own, so that its time shows by name. `crash` (SIGKILL of `settle serve` in 50
// rounds, about 4 minutes, mostly its own processes) and `storm` (webhook storms over a real socket) run two files
// at a time beside the rest. `workers`, the multi-process rate-limit test, measures at the emulator when requests
// arrive from 4 worker processes; it runs last and alone, so that no other test file's work shares the CPUs with
// its workers while it measures (beside the crash test, which forks and kills servers, the old client let 64
// requests reach the gateway in one second at a limit of 60: CI, 2026-11-25).
//
// `browser`: the console in the system's Chromium against a real `settle serve` (test/browser/support.ts), one file
// at a time after everything else, so that no other test's load makes a page wait past its timeouts.
export const UNIT: readonly string[] = [
  'test/domain/**/*.test.ts',
  'test/config.test.ts',
  'test/config-env-vars.test.ts',
  'test/chaos/checker.test.ts',
  'test/gateway-logs/redact.test.ts',
  'test/gateway-adapters/host-policy.test.ts',
  'test/gateway-adapters/rate-limiter.test.ts',
  'test/gateway-adapters/stripe-classify-error.test.ts',
  'test/gateway-adapters/stripe-map-status.test.ts',
  'test/jobs/schedule.test.ts',
  'test/store/group-commit.test.ts',
  'test/support/test-groups.test.ts',
  'test/sync/sync-input.test.ts',
  'test/money/settlement-fields.test.ts',
  'test/payouts/match-item.test.ts',
];
export const RUNS_ISOLATED: readonly string[] = ['test/webhooks/events.test.ts'];
export const HEAVY = {
  crash: ['test/chaos/crash.test.ts'],
  storm: ['test/webhooks/storm-*.test.ts'],
  workers: ['test/jobs/workers.test.ts'],
  browser: ['test/browser/*.test.ts'],
} as const satisfies Record<string, readonly string[]>;

/** Whether `file` (relative to the repository root, with `/`) matches one of `patterns` (as vitest reads them here). */
export function matchesAny(patterns: readonly string[], file: string): boolean {
  return patterns.some((pattern) => {
    const source = pattern
      .split(/(\*\*\/|\*)/)
      .map((part) =>
        part === '**/' ? '(?:[^/]+/)*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('');
    return new RegExp(`^${source}$`).test(file);
  });
}
