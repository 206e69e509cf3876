// `npx tsx scripts/console-screenshots.ts`: PNGs of the console's main pages in docs/console/, for the README and the
// docs. Starts `settle serve` as the browser tests do (test/browser/support.ts: PGlite in a temporary folder, the
// offline Stripe emulator, the built dist/ and console, built first when stale), makes a small, realistic ledger
// through the API (accounts, cards, captured, refunded, declined, open and scheduled charges, an invoice, a payout, a
// job run), signs an admin in and saves one PNG per page. A page the console does not have (yet) is skipped with a
// line saying so. Needs Chromium (apt-get install chromium, or PLAYWRIGHT_CHROMIUM_PATH).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import {
  CHROMIUM_MISSING,
  type ConsoleServer,
  HAS_CHROMIUM,
  killAllChildren,
  launchBrowser,
  openConsole,
  signIn,
  startConsoleServer,
  TEST_PASSWORD,
} from '../test/browser/support.js';
import { ROOT } from '../test/chaos/support.js';

const OUT = path.join(ROOT, 'docs', 'console');

type Json = Record<string, unknown>;

const idOf = (record: Json): string => String(record.id);

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function call(server: ConsoleServer, method: string, apiPath: string, body?: unknown): Promise<Json> {
  const res = await server.api(method, apiPath, body);
  if (res.status >= 300)
    throw new Error(`${method} ${apiPath} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  return res.body as Json;
}

/** The day `n` days after `day` (YYYY-MM-DD). */
function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** A small ledger a reader recognises: three customers, their cards, charges in every state, an invoice, a payout. */
async function seed(server: ConsoleServer): Promise<{ transactionId: string }> {
  const today = String((await call(server, 'GET', '/v1/reports/revenue_by_month')).date);
  const customers = [
    { name: 'Acme Fitness Ltd', email: 'billing@acme-fitness.example' },
    { name: 'Blue Harbour Yoga', email: 'accounts@blueharbour.example' },
    { name: 'Northwind Climbing Club', email: 'treasurer@northwind.example' },
  ];
  const accounts: string[] = [];
  const cards: string[] = [];
  for (const customer of customers) {
    const account = await call(server, 'POST', '/v1/accounts', { name: customer.name, email: customer.email });
    accounts.push(idOf(account));
    const card = await call(server, 'POST', '/v1/payment-methods', {
      gateway_token: 'pm_card_visa',
      type: 'card',
      exp_month: 12,
      exp_year: 2030,
      account_id: idOf(account),
    });
    cards.push(idOf(card));
  }
  // (Not on an account: saving it to a customer at the gateway would be declined already.)
  const declined = await call(server, 'POST', '/v1/payment-methods', {
    gateway_token: 'pm_card_visa_chargeDeclined',
    type: 'card',
    exp_month: 6,
    exp_year: 2029,
  });

  let shown = '';
  const amounts = [4900, 12900, 2500, 8900, 4900, 19900];
  for (const [i, amount] of amounts.entries()) {
    const charge = await call(server, 'POST', '/v1/transactions', {
      amount,
      currency: 'usd',
      payment_method_id: cards[i % cards.length],
      account_id: accounts[i % accounts.length],
      description: `Membership ${['January', 'February', 'March'][i % 3]}`,
    });
    await call(server, 'POST', `/v1/transactions/${idOf(charge)}/capture`, {});
    if (i === 1) {
      await call(server, 'POST', `/v1/transactions/${idOf(charge)}/refund`, { amount: 2900 });
      shown = idOf(charge);
    }
  }
  await call(server, 'POST', '/v1/transactions', {
    amount: 35000,
    currency: 'eur',
    status: 'completed',
    non_gateway: true,
    account_id: accounts[2],
    description: 'Bank transfer, annual plan',
  });
  const failing = await call(server, 'POST', '/v1/transactions', {
    amount: 7500,
    currency: 'usd',
    payment_method_id: idOf(declined),
    account_id: accounts[1],
    description: 'Class pack',
  });
  await call(server, 'POST', `/v1/transactions/${idOf(failing)}/capture`, {});
  for (const [i, days] of [1, 3, 5].entries()) {
    await call(server, 'POST', '/v1/transactions', {
      amount: 4900 + i * 1000,
      currency: 'usd',
      payment_method_id: cards[i],
      account_id: accounts[i],
      auto_process: true,
      due_date: addDays(today, days),
      description: 'Monthly membership',
    });
  }
  await call(server, 'POST', '/v1/transactions', {
    amount: 2000,
    currency: 'usd',
    auto_process: true,
    account_id: accounts[0],
    description: 'Locker rental (no card on file)',
  });
  const invoice = await server.api('POST', '/v1/invoices', {
    account_id: accounts[0],
    number: 'INV-2026-0042',
    currency: 'usd',
    total: 25000,
    description: 'Corporate memberships, 5 seats',
    due_date: addDays(today, 14),
  });
  if (invoice.status >= 300) log(`(no invoice made: ${invoice.status} ${JSON.stringify(invoice.body).slice(0, 200)})`);
  await call(server, 'POST', '/v1/transactions', { record_type: 'payout', amount: 21450, currency: 'usd' });
  const jobs = await server.api('GET', '/v1/jobs');
  const job = (jobs.body as { data?: { name: string }[] } | undefined)?.data?.[0]?.name;
  if (job) await server.api('POST', `/v1/jobs/${job}/run`, {});
  return { transactionId: shown };
}

async function shoot(page: Page, name: string, at: string, heading: RegExp | string, waitFor?: string): Promise<void> {
  await page.goto(at);
  try {
    await page.getByRole('heading', { level: 1, name: heading }).first().waitFor({ timeout: 15_000 });
  } catch {
    log(`skipped ${name}: ${at} shows no heading ${String(heading)} (the page may not exist yet)`);
    return;
  }
  if (waitFor)
    await page
      .locator(waitFor)
      .first()
      .waitFor({ timeout: 15_000 })
      .catch(() => undefined);
  // Loaders gone, fonts and charts settled.
  await page
    .locator('[aria-busy="true"], .mantine-Loader-root')
    .first()
    .waitFor({ state: 'detached', timeout: 15_000 })
    .catch(() => undefined);
  await page.waitForTimeout(400);
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  log(`saved ${path.relative(ROOT, file)}`);
}

async function main(): Promise<number> {
  if (!HAS_CHROMIUM) {
    log(CHROMIUM_MISSING);
    return 1;
  }
  mkdirSync(OUT, { recursive: true });
  const server = await startConsoleServer();
  const browser = await launchBrowser();
  try {
    const { transactionId } = await seed(server);
    // A fixed, plausible name: it shows in every page's header.
    const admin = { email: 'alex.morgan@example.com', password: TEST_PASSWORD };
    await call(server, 'POST', '/v1/users', { email: admin.email, role: 'admin', password: admin.password });
    const { page, context } = await openConsole(browser, server);
    await page.getByRole('heading', { name: 'Sign in to Settle' }).waitFor();
    await page.getByLabel(/^Email/).fill(admin.email);
    const file = path.join(OUT, 'sign-in.png');
    await page.screenshot({ path: file, fullPage: true });
    log(`saved ${path.relative(ROOT, file)}`);
    await page.getByLabel(/^Email/).fill('');
    await signIn(page, admin.email, admin.password);
    const base = `${server.url}/console`;
    await shoot(page, 'dashboard', `${base}/dashboard`, 'Dashboard', '.recharts-surface');
    await shoot(
      page,
      'transactions',
      `${base}/transactions`,
      /Transactions/,
      'table[data-testid="transactions-table"]',
    );
    if (transactionId) await shoot(page, 'transaction', `${base}/transactions/${transactionId}`, /./);
    await shoot(page, 'invoices', `${base}/invoices`, /Invoices/, 'table');
    await shoot(page, 'jobs', `${base}/jobs`, /Jobs/, 'table');
    await shoot(page, 'users', `${base}/users`, /Users/, 'table');
    await context.close();
    return 0;
  } finally {
    await browser.close();
    await server.stop();
    await killAllChildren();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
