#!/usr/bin/env node
// The stripe-emulator command. It runs the compiled sources in dist/ (`npm run build` in this package; Settle's own
// build compiles them too). The state file holds webhook signing secrets: files are made private to their owner.
process.umask(0o077);

const { existsSync } = await import('node:fs');
const { fileURLToPath } = await import('node:url');

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('stripe-emulator: dist/ is missing. Run `npm run build` in packages/stripe-emulator (or in Settle).');
  process.exit(1);
}
const { runCli } = await import(entry.href);
await runCli(process.argv.slice(2));
