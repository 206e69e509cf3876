// The test groups of vitest.config.ts stay true: every file that mocks a module runs isolated.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNS_ALONE, RUNS_ISOLATED } from './test-groups.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function testFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return testFiles(relative);
    return entry.name.endsWith('.test.ts') ? [relative] : [];
  });
}

describe('test groups', () => {
  it('lists every file that mocks a module (vi.mock, vi.doMock) as isolated, and only those', () => {
    const mocking = testFiles('test').filter((file) => /\bvi\.(do)?[mM]ock\(/.test(readFileSync(path.join(ROOT, file), 'utf8')));
    expect(mocking.length).toBeGreaterThan(0);
    expect([...RUNS_ISOLATED].sort()).toEqual(mocking.sort());
  });

  it('names files that exist', () => {
    const all = new Set(testFiles('test'));
    for (const file of [...RUNS_ISOLATED, ...RUNS_ALONE]) expect(all.has(file), file).toBe(true);
  });
});
