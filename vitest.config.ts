import { configDefaults, defineConfig } from 'vitest/config';

// The multi-process rate-limit test measures, at the emulator, when requests arrive from 4 worker processes. Beside
// another test file (the crash test forks and kills servers) those processes can be kept off the CPU for hundreds of
// milliseconds between their turn and their write, which bunches arrivals past any allowance (CI, 2026-11-25: 64
// requests in one second at a limit of 60). So it runs last, alone.
const RUNS_ALONE = ['test/jobs/workers.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...RUNS_ALONE],
          // Two test files at a time: the crash test (about 4 minutes, mostly its own processes) runs beside the rest.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'alone', include: RUNS_ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
