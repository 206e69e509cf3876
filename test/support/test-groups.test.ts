// The test groups of vitest.config.ts stay true: every file that mocks a module runs isolated, every pattern names
// files that exist, no file is in two groups, and the unit tests need no database, no server and no process.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HEAVY, matchesAny, RUNS_ISOLATED, UNIT } from './test-groups.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function testFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return testFiles(relative);
    return entry.name.endsWith('.test.ts') ? [relative] : [];
  });
}

const GROUPS: Record<string, readonly string[]> = { unit: UNIT, isolated: RUNS_ISOLATED, ...HEAVY };

// What a unit test's code (the file and the test helpers it imports, followed transitively) must not import, and
// must not do. Source modules are not followed: a unit test may import a pure function from a module whose
// neighbours open databases; loading that code opens nothing.
const DATABASE_MODULES = [
  'test/support/databases.ts',
  'test/support/harness.ts',
  'src/store/database.ts',
  'src/runtime.ts',
];
const DATABASE_PACKAGES = ['pg', '@electric-sql/pglite'];
const STARTS_SOMETHING =
  /(?<![.\w])(startEmulator|createServer|createHarness|describeEachDatabase|describePostgres|spawn|spawnSync|fork|execFile|exec|fetch)\(|\.listen\(/;

/** The repository files a TypeScript file imports (relative specifiers, `.js` written for `.ts`), and its packages. */
function importsOf(file: string): { files: string[]; packages: string[] } {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\('([^']+)'\)/g),
  ].map((m) => m[1] ?? m[2]!);
  const files: string[] = [];
  const packages: string[] = [];
  for (const specifier of specifiers) {
    if (!specifier.startsWith('.')) {
      packages.push(specifier);
      continue;
    }
    const resolved = path
      .relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), specifier))
      .replace(/\.js$/, '.ts');
    if (existsSync(path.join(ROOT, resolved))) files.push(resolved.split(path.sep).join('/'));
  }
  return { files, packages };
}

/** The test files `file` reaches through its imports, itself included: what each imports (files, packages). */
function reachable(file: string): Map<string, { files: string[]; packages: string[] }> {
  const seen = new Map<string, { files: string[]; packages: string[] }>();
  const queue = [file];
  while (queue.length > 0) {
    const next = queue.pop()!;
    if (seen.has(next)) continue;
    const imports = importsOf(next);
    seen.set(next, imports);
    queue.push(...imports.files.filter((f) => f.startsWith('test/')));
  }
  return seen;
}

describe('test groups', () => {
  const all = testFiles('test');

  it('lists every file that mocks a module (vi.mock, vi.doMock) as isolated, and only those', () => {
    const mocking = all.filter((file) => /\bvi\.(do)?[mM]ock\(/.test(readFileSync(path.join(ROOT, file), 'utf8')));
    expect(mocking.length).toBeGreaterThan(0);
    expect([...RUNS_ISOLATED].sort()).toEqual(mocking.sort());
  });

  it('names files that exist: every pattern matches at least one test file', () => {
    for (const [group, patterns] of Object.entries(GROUPS)) {
      for (const pattern of patterns)
        expect(
          all.filter((file) => matchesAny([pattern], file)),
          `${group}: ${pattern}`,
        ).not.toEqual([]);
    }
  });

  it('puts no file in two groups', () => {
    for (const file of all) {
      const groups = Object.entries(GROUPS)
        .filter(([, patterns]) => matchesAny(patterns, file))
        .map(([group]) => group);
      expect(groups.length, `${file} is in ${groups.join(' and ')}`).toBeLessThanOrEqual(1);
    }
  });

  it('keeps every test of the pure domain in the unit group', () => {
    const domain = all.filter((file) => file.startsWith('test/domain/'));
    expect(domain.length).toBeGreaterThan(0);
    for (const file of domain) expect(matchesAny(UNIT, file), file).toBe(true);
  });

  it('unit tests import no database module or driver, and start no server or process', () => {
    const unit = all.filter((file) => matchesAny(UNIT, file));
    expect(unit.length).toBeGreaterThan(5);
    for (const file of unit) {
      for (const [reached, imports] of reachable(file)) {
        for (const module of DATABASE_MODULES)
          expect(imports.files, `${reached} (from ${file}) imports ${module}`).not.toContain(module);
        for (const name of DATABASE_PACKAGES)
          expect(imports.packages, `${reached} (from ${file}) imports ${name}`).not.toContain(name);
        if (reached !== 'test/support/test-groups.test.ts') {
          expect(
            readFileSync(path.join(ROOT, reached), 'utf8'),
            `${reached} (from ${file}) starts something`,
          ).not.toMatch(STARTS_SOMETHING);
        }
      }
    }
  });

  it('matches globs as vitest does for these patterns', () => {
    expect(matchesAny(['test/domain/**/*.test.ts'], 'test/domain/money.test.ts')).toBe(true);
    expect(matchesAny(['test/domain/**/*.test.ts'], 'test/domain/deep/er.test.ts')).toBe(true);
    expect(matchesAny(['test/webhooks/storm-*.test.ts'], 'test/webhooks/storm-apply.test.ts')).toBe(true);
    expect(matchesAny(['test/webhooks/storm-*.test.ts'], 'test/webhooks/stormy/x.test.ts')).toBe(false);
    expect(matchesAny(['test/config.test.ts'], 'test/configXtest.ts')).toBe(false);
  });
});
