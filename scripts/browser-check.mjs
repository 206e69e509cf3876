// The last step of `npm test`: when the browser suite was skipped for want of Chromium (no CI=true), say so, with
// the package to install, as the last line of the run (test/browser/support.ts skips it; under CI=true it fails).
import { existsSync } from 'node:fs';

const path = process.env.PLAYWRIGHT_CHROMIUM_PATH || '/usr/bin/chromium';
if (!existsSync(path)) {
  console.log(
    `Browser tests need Chromium at ${path}: apt-get install chromium (Debian's package), or set PLAYWRIGHT_CHROMIUM_PATH.`,
  );
}
