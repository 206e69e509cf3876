import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { toMermaid } from '../../src/domain/transaction-state.js';

it('docs/ARCHITECTURE.md shows the state diagram generated from the transition table', () => {
  const doc = readFileSync(new URL('../../docs/ARCHITECTURE.md', import.meta.url), 'utf8');
  expect(doc).toContain('```mermaid\n' + toMermaid() + '\n```');
});
