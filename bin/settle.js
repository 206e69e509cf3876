#!/usr/bin/env node
// The settle CLI. The TypeScript sources are compiled to dist/ by `npm install` (prepare) and `npm start`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('settle: dist/ is missing. Run `npm run build` (npm install does it for you).');
  process.exit(1);
}
await import(entry.href);
