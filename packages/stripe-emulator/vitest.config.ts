// The emulator's own tests (`npm test` here, or `npm test -w packages/stripe-emulator` from Settle). They need no
// database: each file starts an emulator on a free port and drives it through the official stripe SDK. Settle's
// root vitest.config.ts runs this file's project as well, so `npm test` at the root still covers them.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'stripe-emulator',
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
