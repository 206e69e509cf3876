import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import { HEAVY, RUNS_ISOLATED, UNIT } from './test/support/test-groups.js';

// The projects (test/support/test-groups.ts says which files and why). `npm test` runs them all; `npm run test:unit`
// only `unit`. Two test files at a time: `unit`, `suite` (most files, in workers that share modules across files),
// `isolated` (files that mock modules, in workers of their own), the named heavy ones `crash` and `storm`, and the
// emulator package's tests run together; then `workers`, the multi-process rate-limit test, last and alone.
//
// The global setup (a migrated PGlite archive, checks of TEST_DATABASE_URL) belongs to the projects that use a
// database, so `unit` runs without it; it runs once per `vitest run` however many of them are selected.
const DATABASE_SETUP = ['test/support/global-setup.ts'];
const HEAVY_FILES = Object.values(HEAVY).flat();

export default defineConfig({
  // Settle's code and tests load the emulator package from its TypeScript sources, not from its built dist/.
  resolve: {
    alias: [
      {
        find: /^@settle\/stripe-emulator$/,
        replacement: fileURLToPath(new URL('./packages/stripe-emulator/src/index.ts', import.meta.url)),
      },
    ],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: [...UNIT], maxWorkers: 2, isolate: false, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...UNIT, ...RUNS_ISOLATED, ...HEAVY_FILES],
          globalSetup: DATABASE_SETUP,
          maxWorkers: 2,
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'isolated',
          include: [...RUNS_ISOLATED],
          globalSetup: DATABASE_SETUP,
          maxWorkers: 2,
          isolate: true,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'crash',
          include: [...HEAVY.crash],
          globalSetup: DATABASE_SETUP,
          maxWorkers: 2,
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'storm',
          include: [...HEAVY.storm],
          globalSetup: DATABASE_SETUP,
          maxWorkers: 2,
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'workers',
          include: [...HEAVY.workers],
          globalSetup: DATABASE_SETUP,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: [...HEAVY.browser],
          maxWorkers: 1,
          testTimeout: 90_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 2 },
        },
      },
      // The emulator package's own tests, with its own config (packages/stripe-emulator/vitest.config.ts).
      'packages/stripe-emulator',
    ],
  },
});
