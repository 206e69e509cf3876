// Which test files run how (vitest.config.ts). Most files share their worker process's modules (isolate: false):
// importing the app once per worker instead of once per file saved about 65 s of a 535 s suite on 2 vCPUs.
//
// RUNS_ISOLATED: files that replace a module with vi.mock, which needs a module graph of their own (a shared one
// may already hold the real module). test/support/test-groups.test.ts fails when a file mocks a module and is not
// listed here.
//
// RUNS_ALONE: the multi-process rate-limit test measures, at the emulator, when requests arrive from 4 worker
// processes; it runs last and alone, so that no other test file's work shares the CPUs with its workers while it
// measures (beside the crash test, which forks and kills servers, the old client let 64 requests reach the gateway in
// one second at a limit of 60: CI, 2026-11-25).
export const RUNS_ISOLATED: readonly string[] = ['test/webhooks/events.test.ts'];
export const RUNS_ALONE: readonly string[] = ['test/jobs/workers.test.ts'];
