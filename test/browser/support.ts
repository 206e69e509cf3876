// The browser suite's harness: a real `settle serve` (the built dist/ and the built console) on PGlite in a temporary
// data folder with the offline Stripe emulator, driven by playwright-core through the system's Chromium (Debian's
// `chromium` package, or PLAYWRIGHT_CHROMIUM_PATH). Playwright never downloads a browser here.
//
// Without Chromium: under CI=true every browser file fails with CHROMIUM_MISSING (CI installs the package, so a
// missing one is a broken machine); otherwise the files are skipped and `npm test` ends with the same line
// (scripts/browser-check.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, killAllChildren, ROOT, startSettle, type Child } from '../chaos/support.js';

export const CHROMIUM_PATH = process.env.PLAYWRIGHT_CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_MISSING = `Browser tests need Chromium at ${CHROMIUM_PATH}: apt-get install chromium (Debian's package), or set PLAYWRIGHT_CHROMIUM_PATH.`;
export const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);

/** How long a page may take to show what a test waits for (a loaded 2-CPU CI machine is slow, never this slow). */
export const UI_TIMEOUT = 20_000;

/**
 * A browser suite: run when Chromium is there; otherwise one failing test naming the package under CI=true, and
 * skipped elsewhere.
 */
export function describeBrowser(name: string, body: () => void): void {
  if (HAS_CHROMIUM) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(CHROMIUM_MISSING);
      });
    });
  } else {
    describe.skip(name, body);
  }
}

const CONSOLE = path.join(ROOT, 'packages', 'console');

/** True when some file of the console's src/ (or its index.html, config) is newer than its built index.html. */
function consoleIsStale(): boolean {
  const built = path.join(CONSOLE, 'dist', 'index.html');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? newer(full) : statSync(full).mtimeMs > builtAt;
    });
  return (
    newer(path.join(CONSOLE, 'src')) ||
    ['index.html', 'vite.config.ts'].some((file) => statSync(path.join(CONSOLE, file)).mtimeMs > builtAt)
  );
}

/** Builds Settle's dist/ and the console's dist/ when they are older than their sources. */
export function ensureConsoleBuilt(): void {
  ensureBuilt();
  if (!consoleIsStale()) return;
  // Built into a folder of its own, then swapped in: two test processes building at once never leave a half-written
  // dist/ behind.
  const vite = path.join(ROOT, 'node_modules', '.bin', 'vite');
  const outDir = path.join(CONSOLE, `dist.build-${process.pid}`);
  const res = spawnSync(vite, ['build', '--logLevel', 'warn', '--outDir', outDir, '--emptyOutDir', '--bypass-lock'], {
    cwd: CONSOLE,
    encoding: 'utf8',
    // Vitest sets NODE_ENV=test, which would make Vite build React's development bundle; test what ships.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (res.status !== 0) throw new Error(`Building the console failed:\n${res.stdout}\n${res.stderr}`);
  const dist = path.join(CONSOLE, 'dist');
  rmSync(dist, { recursive: true, force: true });
  renameSync(outDir, dist);
}

export interface ConsoleServer {
  url: string;
  dataDir: string;
  child: Child;
  adminKey: string;
  /** The first user's generated password (data/console-admin-password). */
  firstUserPassword: string;
  /** A call with the admin API key: the test's view of what the API reports. */
  api<T = any>(method: string, apiPath: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/** `settle serve` on a fresh data folder (PGlite, the emulator) with the API rate limit off. */
export async function startConsoleServer(env: NodeJS.ProcessEnv = {}): Promise<ConsoleServer> {
  ensureConsoleBuilt();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'settle-browser-'));
  const clean = { ...process.env };
  delete clean.DATABASE_URL;
  delete clean.SETTLE_API_KEY;
  const { child, url } = await startSettle({ ...clean, SETTLE_DATA_DIR: dataDir, ...env });
  const adminKey = readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim();
  const firstUserPassword = readFileSync(path.join(dataDir, 'console-admin-password'), 'utf8').trim();
  const api = async (method: string, apiPath: string, body?: unknown) => {
    const res = await fetch(`${url}${apiPath}`, {
      method,
      headers: {
        Authorization: `Bearer ${adminKey}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
  };
  return {
    url,
    dataDir,
    child,
    adminKey,
    firstUserPassword,
    api,
    stop: async () => {
      await child.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Chromium, headless, from the system (never downloaded). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** Errors the page reported: console.error messages, uncaught exceptions and CSP violations. */
  errors: string[];
}

/** A fresh browser context (no cookies) on the console, collecting the page's errors. */
export async function openConsole(browser: Browser, server: ConsoleServer, at = '/console/'): Promise<ConsolePage> {
  // Reduced motion: the console then opens dialogs without a fade, so no check sees one half-drawn.
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, reducedMotion: 'reduce' });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  await page.goto(`${server.url}${at}`);
  return { page, context, errors };
}

/** Signs in through the sign-in page and waits for the console's navigation. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel(/^Email/).fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in-user').waitFor();
}

export const TEST_PASSWORD = 'correct horse battery staple';

/** A console user made through the API (with a password: nothing to change at first sign-in). */
export async function createUser(
  server: ConsoleServer,
  role: 'admin' | 'operator' | 'viewer',
): Promise<{ id: string; email: string; password: string }> {
  const email = `${role}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const res = await server.api('POST', '/v1/users', { email, role, password: TEST_PASSWORD });
  if (res.status !== 201) throw new Error(`POST /v1/users answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { id: res.body.id, email, password: TEST_PASSWORD };
}

/** A console page signed in as a new user of `role`. */
export async function signedInPage(
  browser: Browser,
  server: ConsoleServer,
  role: 'admin' | 'operator' | 'viewer',
  at = '/console/',
): Promise<ConsolePage & { user: { id: string; email: string } }> {
  const user = await createUser(server, role);
  const opened = await openConsole(browser, server, at);
  await signIn(opened.page, user.email, user.password);
  return { ...opened, user };
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2 A and AA rules). */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, not as a <script> (the console's CSP allows none inline).
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(async () => {
    const axe = (globalThis as any).axe;
    const result = await axe.run((globalThis as any).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations;
  })) as AxeViolation[];
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    );
}

/** Fails with the list when axe finds a serious or critical violation. */
export async function expectAccessible(page: Page): Promise<void> {
  expect(await seriousAxeViolations(page)).toEqual([]);
}

export { killAllChildren };
