import { configDefaults, defineConfig } from 'vitest/config';
import { RUNS_ALONE, RUNS_ISOLATED } from './test/support/test-groups.js';

// Three groups (test/support/test-groups.ts says why): most files two at a time in workers that share modules
// across files; files that mock modules in workers of their own, beside them; the multi-process rate-limit test
// last and alone.
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
          exclude: [...configDefaults.exclude, ...RUNS_ISOLATED, ...RUNS_ALONE],
          // Two test files at a time: the crash test (about 4 minutes, mostly its own processes) runs beside the rest.
          maxWorkers: 2,
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'isolated', include: [...RUNS_ISOLATED], maxWorkers: 1, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'alone', include: [...RUNS_ALONE], maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
