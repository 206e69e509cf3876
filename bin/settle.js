#!/usr/bin/env node
// The settle CLI. The TypeScript sources are compiled to dist/ by `npm install` (prepare) and `npm start`.
// First of all, files are made private to their owner: the data directory holds the database, the admin API key
// and webhook signing secrets (docs/SECURITY.md; src/store/file-modes.ts keeps what PGlite writes in line).
process.umask(0o077);

const { existsSync } = await import('node:fs');
const { fileURLToPath } = await import('node:url');

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('settle: dist/ is missing. Run `npm run build` (npm install does it for you).');
  process.exit(1);
}
await import(entry.href);
