// SETTLE_ENV_VARS (src/config.ts), the variables a gateway may never name for its secrets, stays equal to the
// README's configuration table and to the variables config.ts actually reads: a new setting added to one and not
// the others fails here, so a gateway could never be pointed at it.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { SETTLE_ENV_VARS } from '../src/config.js';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

/** The first column of the table between "## Configuration" and the next heading. */
function readmeVariables(): string[] {
  const readme = read('README.md');
  const start = readme.indexOf('\n## Configuration\n');
  expect(start).toBeGreaterThan(-1);
  const rest = readme.slice(start + 1);
  const next = rest.slice(3).search(/\n#{1,6} /);
  const section = next === -1 ? rest : rest.slice(0, next + 3);
  return section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) => line.split('|')[1]!.trim())
    .filter((cell) => /^`[A-Z][A-Z0-9_]*`$/.test(cell))
    .map((cell) => cell.slice(1, -1));
}

it("SETTLE_ENV_VARS lists exactly the README's configuration table", () => {
  const documented = readmeVariables();
  expect(documented.length).toBeGreaterThan(20);
  expect(new Set(documented).size).toBe(documented.length);
  expect(new Set(SETTLE_ENV_VARS).size).toBe(SETTLE_ENV_VARS.length);
  expect([...SETTLE_ENV_VARS].sort()).toEqual([...documented].sort());
});

it('SETTLE_ENV_VARS lists every variable config.ts reads', () => {
  const source = read('src/config.ts');
  const reads = new Set<string>();
  for (const match of source.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)) reads.add(match[1]!);
  for (const match of source.matchAll(/\benv\[\s*'([A-Z][A-Z0-9_]*)'\s*\]/g)) reads.add(match[1]!);
  for (const match of source.matchAll(/FromEnv\(\s*env,\s*'([A-Z][A-Z0-9_]*)'/g)) reads.add(match[1]!);
  expect(reads.size).toBeGreaterThan(20);
  expect([...reads].filter((name) => !(SETTLE_ENV_VARS as readonly string[]).includes(name))).toEqual([]);
});
