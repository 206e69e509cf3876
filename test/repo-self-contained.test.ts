// The repository stands alone: no text file in it refers to a path outside it, so a fresh clone in any folder, with
// nothing beside it, reads only what it holds. Two kinds of reference fail this test:
// - a relative path that climbs above the repository when resolved from the folder of the file that names it (in a
//   markdown link, a code string or a comment alike); in-repo relative imports stay inside and pass. Prose (Markdown
//   outside link targets, and code comments) names paths from the repository root, as these docs do (`src/app/x.ts`),
//   so a path there also fails when it climbs out read from the root: in docs/A.md, one `..` up to a folder `shared`
//   means a sibling of the checkout, though resolved from docs/ it would be inside;
// - an absolute path that starts with the checkout's parent folder or with the home folder of the user running the
//   test. Both folders are found at run time, so this file names no machine's folders; system paths such as
//   /usr/bin or /var/run are not concerned.
// Files: those git tracks plus untracked ones it does not ignore (no git: a walk that skips .gitignore's entries),
// regular files only, except binary files and package-lock.json.
// Also here: every feature id the repository cites (`P12`, `S2`) is one docs/FEATURES.md defines.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

export interface Finding {
  line: number;
  token: string;
  why: string;
}

/** Characters of a path token (no quotes, spaces, brackets, `$`, `{`, `=` or `:`, which end it). */
const PATH_CHAR = /[\w.~@%+\-/]/;
const PATH_TOKEN = /[\w.~@%+\-/]+/g;
const URL = /\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s'"`<>()[\]{}]*/g;

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

const CODE = /\.(c|m)?(t|j)sx?$/;
const HASH_COMMENTS = /(\.(sh|ya?ml|toml)|^\.gitignore|^run)$/;

/**
 * Is the text at `index` prose, where paths are named from the repository root: Markdown outside link targets, or a
 * comment in code (a line comment, a block comment's lines, `#` lines of shell and YAML, `--` lines of SQL)?
 */
function proseAt(text: string, file: string, index: number): boolean {
  const name = path.basename(file);
  if (name.endsWith('.md')) {
    const before = text.slice(Math.max(0, index - 6), index);
    return !/(\]\(|\]: |href="|src=")$/.test(before);
  }
  const lineStart = text.lastIndexOf('\n', index - 1) + 1;
  const head = text.slice(lineStart, index);
  const trimmed = head.trimStart();
  if (CODE.test(name)) return /^(\/\/|\/?\*)/.test(trimmed) || /(^|\s)\/\//.test(head);
  if (HASH_COMMENTS.test(name)) return trimmed.startsWith('#');
  if (name.endsWith('.sql')) return trimmed.startsWith('--');
  return false;
}

/** Does a relative path, followed from `fromDir` (inside `root`), climb above `root` at any step? */
function climbsOut(root: string, fromDir: string, token: string): boolean {
  let depth = path
    .relative(root, fromDir)
    .split(path.sep)
    .filter((s) => s !== '').length;
  for (const segment of token.split('/')) {
    if (segment === '..') depth--;
    else if (segment !== '' && segment !== '.') depth++;
    if (depth < 0) return true;
  }
  return false;
}

/**
 * Paths in `text` (the content of `file`, inside `root`) that point outside the repository: relative ones that climb
 * above `root`, and absolute ones under any of `outside` (absolute folders).
 */
export function findOutsidePaths(text: string, file: string, root: string, outside: readonly string[]): Finding[] {
  const findings: Finding[] = [];
  // URLs are not file paths, except file:// ones, whose path is checked like any absolute path below.
  const plain = text.replace(URL, (url) => (url.startsWith('file://') ? url : ' '.repeat(url.length)));
  for (const match of plain.matchAll(PATH_TOKEN)) {
    const token = match[0];
    if (token.startsWith('/') || !token.includes('/') || !token.split('/').includes('..')) continue;
    if (climbsOut(root, path.dirname(file), token)) {
      findings.push({ line: lineAt(text, match.index), token, why: 'relative path leaving the repository' });
    } else if (proseAt(text, file, match.index) && climbsOut(root, root, token)) {
      findings.push({
        line: lineAt(text, match.index),
        token,
        why: 'leaves the repository read from its root, as prose names paths',
      });
    }
  }
  for (const folder of outside) {
    for (let i = plain.indexOf(folder); i >= 0; i = plain.indexOf(folder, i + 1)) {
      const before = plain[i - 1];
      const after = plain[i + folder.length];
      const startsToken = before === undefined || !PATH_CHAR.test(before) || plain.slice(0, i).endsWith('file://');
      const endsFolder = after === undefined || after === '/' || !PATH_CHAR.test(after);
      if (!startsToken || !endsFolder) continue;
      const token = plain.slice(i).match(PATH_TOKEN)?.[0] ?? folder;
      findings.push({ line: lineAt(text, i), token, why: 'absolute path outside the repository' });
    }
  }
  return findings;
}

/** The folders whose absolute paths count as outside: the checkout's parent and the home folder, but never `/`. */
export function outsideFolders(root: string, home: string): string[] {
  const folders = [path.dirname(root), home].filter((f) => f !== '' && path.isAbsolute(f) && path.dirname(f) !== f);
  return [...new Set(folders.map((f) => f.replace(/\/+$/, '')))];
}

/**
 * A crude reading of the top .gitignore for a tree without git: `name/` (a folder at any depth), `a/b/` (that
 * folder), `*.ext` and plain names.
 */
function walk(root: string): string[] {
  const ignore = existsSync(path.join(root, '.gitignore'))
    ? readFileSync(path.join(root, '.gitignore'), 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
    : [];
  const matches = (e: string, rel: string, name: string) => {
    if (e.startsWith('*.')) return name.endsWith(e.slice(1));
    const folder = e.replace(/\/$/, '');
    return folder.includes('/') ? rel === folder.replace(/^\//, '') : name === folder;
  };
  const ignored = (rel: string, name: string) => name === '.git' || ignore.some((e) => matches(e, rel, name));
  const files: string[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (ignored(rel, entry.name)) continue;
      if (entry.isDirectory()) visit(rel);
      else if (entry.isFile()) files.push(rel);
    }
  };
  visit('');
  return files;
}

function repositoryFiles(root: string): string[] {
  let listed: string[];
  try {
    listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\0')
      .filter((f) => f !== '');
  } catch {
    listed = walk(root);
  }
  // Regular files only: a symlink (say node_modules linked in) is not the repository's text.
  const isFile = (f: string) => existsSync(path.join(root, f)) && lstatSync(path.join(root, f)).isFile();
  return [...new Set(listed)].filter((f) => path.basename(f) !== 'package-lock.json' && isFile(f)).sort();
}

/** The repository's text files (binary ones skipped), read once. */
function textFiles(root: string): { rel: string; text: string }[] {
  return repositoryFiles(root).flatMap((rel) => {
    const bytes = readFileSync(path.join(root, rel));
    return bytes.subarray(0, 8000).includes(0) ? [] : [{ rel, text: bytes.toString('utf8') }];
  });
}

/** Feature ids defined in docs/FEATURES.md: the first cell of a table row, `P12` or a range `O1-O5`. */
export function definedFeatureIds(features: string): Set<string> {
  const ids = new Set<string>();
  for (const m of features.matchAll(/^\| ([A-Z])(\d+)(?:-[A-Z](\d+))? \|/gm)) {
    const [, area = '', from = '', to] = m;
    for (let n = Number(from); n <= Number(to ?? from); n++) ids.add(`${area}${n}`);
  }
  return ids;
}

/** Feature ids cited in a text: an area letter and a number (`S2`, `P1-P13`), not a marker such as `[S1]`. */
export function citedFeatureIds(text: string): { line: number; id: string }[] {
  return [...text.matchAll(/(?<![[\w./-])[LPGWSROMUX]\d{1,2}(?:[-/][LPGWSROMUX]\d{1,2})*\b/g)].flatMap((m) =>
    m[0].split(/[-/]/).map((id) => ({ line: lineAt(text, m.index), id })),
  );
}

describe('the repository is self-contained', () => {
  const files = textFiles(ROOT);

  it('no text file refers to a path outside the repository', () => {
    const outside = outsideFolders(ROOT, os.homedir());
    const problems: string[] = [];
    for (const { rel, text } of files) {
      for (const f of findOutsidePaths(text, path.join(ROOT, rel), ROOT, outside))
        problems.push(`${rel}:${f.line}: ${f.token} (${f.why})`);
    }
    expect(problems).toEqual([]);
  });

  it('every feature id cited (P12, S2, ...) is defined in docs/FEATURES.md', () => {
    const defined = definedFeatureIds(files.find((f) => f.rel === 'docs/FEATURES.md')?.text ?? '');
    expect(defined.size).toBeGreaterThan(50);
    const problems = files
      .filter((f) => f.rel !== 'docs/FEATURES.md')
      .flatMap(({ rel, text }) =>
        citedFeatureIds(text)
          .filter((c) => !defined.has(c.id))
          .map((c) => `${rel}:${c.line}: ${c.id}`),
      );
    expect(problems).toEqual([]);
  });

  it('reads feature ids and their definitions', () => {
    expect([
      ...definedFeatureIds('| P12 | Exactly once | x | built |\n| O1-O3 | Orders | y | not yet |\n|---|\nP9 in prose'),
    ]).toEqual(['P12', 'O1', 'O2', 'O3']);
    expect(
      citedFeatureIds('// P1-P13 and S1/S4;\n// [S2] a source, L4x, x.P5, WAL, M1.').map((c) => `${c.line}:${c.id}`),
    ).toEqual(['1:P1', '1:P13', '1:S1', '1:S4', '2:M1']);
  });

  // Made-up folders, built from parts so that this file itself holds no such path.
  const root = path.join(path.sep, 'srv', 'checkouts', 'settle');
  const parent = path.dirname(root);
  const home = path.join(path.sep, 'home', 'someone');
  const outside = outsideFolders(root, home);
  const up = (n: number, ...rest: string[]) => [...Array<string>(n).fill('..'), ...rest].join('/');
  const scan = (relFile: string, text: string) =>
    findOutsidePaths(text, path.join(root, relFile), root, outside).map((f) => [f.line, f.token]);

  it('finds relative paths that climb above the repository, from the folder of the file that names them', () => {
    expect(scan('README.md', `see [the guide](${up(1, 'shared', 'guide', 'api.md')}) first`)).toEqual([
      [1, up(1, 'shared', 'guide', 'api.md')],
    ]);
    expect(scan('src/app/x.ts', `read('${up(2, 'y.md')}')\n// spec: ${up(3, 'shared', 'stripe')}/\n`)).toEqual([
      [2, `${up(3, 'shared', 'stripe')}/`],
    ]);
    expect(
      scan('test/a/b.ts', `import x from '${up(2, 'src', 'app', 'x.js')}';\nreadFileSync('${up(3, 'y')}')`),
    ).toEqual([[2, up(3, 'y')]]);
    expect(scan('docs/A.md', `[r](${up(1, 'README.md')}) and [m](${up(2, 'main', 'src')})`)).toEqual([
      [1, up(2, 'main', 'src')],
    ]);
    // Climbing out and back in still depends on the checkout's folder name.
    expect(scan('x.md', `[s](${up(1, 'settle', 'src')})`)).toEqual([[1, up(1, 'settle', 'src')]]);
  });

  it('reads paths in prose (Markdown outside links, code comments) from the repository root as well', () => {
    expect(
      scan('docs/A.md', `follows \`${up(1, 'shared', 'guide', 'a.md')}\`; [b](${up(1, 'shared', 'b.md')})`),
    ).toEqual([[1, up(1, 'shared', 'guide', 'a.md')]]);
    const code = [
      `// shaped like (${up(1, 'shared', 'f.json')})`,
      ` * see ${up(1, 'shared', 'g.md')}`,
      `import { x } from '${up(1, 'x.js')}'; // x from ${up(1, 'x.ts')}`,
      `const y = read('${up(1, 'y.json')}');`,
    ].join('\n');
    expect(scan('src/a/b.ts', code)).toEqual([
      [1, up(1, 'shared', 'f.json')],
      [2, up(1, 'shared', 'g.md')],
      [3, up(1, 'x.ts')],
    ]);
    expect(scan('bench/p/q.sql', `-- from ${up(1, 'r')}\nselect '${up(1, 's')}'`)).toEqual([[1, up(1, 'r')]]);
    expect(scan('.ci/run', `# see ${up(1, 't')}\ncd "$(dirname "$0")/${up(1)}"`)).toEqual([[1, up(1, 't')]]);
  });

  it('leaves alone in-repo relative paths, URLs, URL paths and words with dots', () => {
    const text = [
      `import { a } from '${up(2, 'src', 'app', 'a.js')}';`,
      `new URL('${up(2)}', import.meta.url); new URL(\`${up(1)}/\${file}\`, import.meta.url)`,
      `fetch('https://example.com/${up(3, 'x')}'); ['/v1/x/${up(1, 'transactions')}']`,
      'postgres://.../settle_db; STRIPE_.../SETTLE_...; range 1..10; args...rest',
    ].join('\n');
    expect(scan('test/http/a.test.ts', text)).toEqual([]);
  });

  it("finds absolute paths under the checkout's parent or the home folder, not system paths", () => {
    expect(scan('src/a.ts', `const spec = '${path.join(parent, 'shared', 'spec.json')}';`)).toEqual([
      [1, path.join(parent, 'shared', 'spec.json')],
    ]);
    expect(scan('a.md', `cd ${home}/code; or ${home}`)).toEqual([
      [1, `${home}/code`],
      [1, home],
    ]);
    expect(scan('a.md', `file://${parent}/x.json`)).toEqual([[1, `${parent}/x.json`]]);
    expect(scan('a.md', `${root}/src/app`)).toEqual([[1, `${root}/src/app`]]);
    expect(
      scan('a.md', `/usr/bin/chromium, /var/run/postgresql, ${parent}-old/x, /x${parent}/y, https://h${parent}/z`),
    ).toEqual([]);
  });

  it('names no folder when the checkout sits at the top of the file system', () => {
    expect(outsideFolders(path.join(path.sep, 'repo'), path.sep)).toEqual([]);
    expect(outsideFolders(path.join(path.sep, 'repo'), home)).toEqual([home]);
  });
});
