// npm run dupes, before jscpd runs: every path that .jscpd.json ignores has its one-line reason in
// docs/DUPLICATES.md, exists, and the table lists nothing the config does not ignore. Exits 1 with what is wrong.
import { existsSync, readFileSync } from 'node:fs';

const config = JSON.parse(readFileSync('.jscpd.json', 'utf8'));
const ignored = Array.isArray(config.ignore) ? config.ignore : [];
const reasons = new Map();
for (const line of readFileSync('docs/DUPLICATES.md', 'utf8').split('\n')) {
  const row = /^\|\s*`([^`]+)`\s*\|(.*)\|\s*$/.exec(line);
  if (row) reasons.set(row[1], row[2].trim());
}

const problems = [];
for (const path of ignored) {
  if (!reasons.get(path)) problems.push(`${path}: ignored by .jscpd.json without a reason in docs/DUPLICATES.md`);
  if (!existsSync(path))
    problems.push(`${path}: ignored by .jscpd.json but no such file (give an exact path; drop a stale entry)`);
}
for (const path of reasons.keys()) {
  if (!ignored.includes(path)) problems.push(`${path}: listed in docs/DUPLICATES.md but not ignored by .jscpd.json`);
}
if (problems.length > 0) {
  console.error(`jscpd ignore list:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
