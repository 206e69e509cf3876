// The dashboard in a real browser against `settle serve`: each report of GET /v1/reports/{name} in its card, with data
// made through the API against the offline emulator (a captured charge and part of it refunded, a charge paid outside
// the gateway in EUR, a declined charge, an open auto-process charge due in two days, one with nothing to charge, a
// payout). The charts' accessible tables show the integer amounts formatted by their digits, the "Show as table"
// toggle shows them in place of the chart, the CSV download is the API's CSV; axe finds nothing serious, the page
// logs no error, and a viewer sees the same read-only page.
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type ConsoleServer,
  describeBrowser,
  expectAccessible,
  killAllChildren,
  launchBrowser,
  signedInPage,
  startConsoleServer,
} from './support.js';

type Json = Record<string, any>;

describeBrowser('console dashboard', () => {
  let server: ConsoleServer;
  let browser: Browser;
  const made = { failedId: '', payoutId: '', dueDate: '', month: '', today: '' };

  async function call(method: string, apiPath: string, body: unknown, status: number): Promise<Json> {
    const res = await server.api(method, apiPath, body);
    if (res.status !== status)
      throw new Error(`${method} ${apiPath} answered ${res.status}, not ${status}: ${JSON.stringify(res.body)}`);
    return res.body as Json;
  }

  const card = (page: Page, name: string) => page.getByTestId(`report-${name}`);

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
    const today = (await call('GET', '/v1/reports/revenue_by_month', undefined, 200)).date as string;
    made.today = today;
    made.month = today.slice(0, 7);
    const [y, m, d] = today.split('-').map(Number) as [number, number, number];
    made.dueDate = new Date(Date.UTC(y, m - 1, d + 2)).toISOString().slice(0, 10);

    const card = async (token: string) =>
      (
        await call(
          'POST',
          '/v1/payment-methods',
          { gateway_token: token, type: 'card', exp_month: 12, exp_year: 2040 },
          201,
        )
      ).id as string;
    const visa = await card('pm_card_visa');
    const declined = await card('pm_card_visa_chargeDeclined');

    // Revenue: 123.45 USD captured at the emulator, 23.45 of it refunded (net 100.00); 50.00 EUR paid outside it.
    const charge = await call(
      'POST',
      '/v1/transactions',
      { amount: 12345, currency: 'usd', payment_method_id: visa },
      201,
    );
    expect(await call('POST', `/v1/transactions/${charge.id}/capture`, {}, 200)).toMatchObject({
      status: 'completed',
      payment_status: 'captured',
    });
    await call('POST', `/v1/transactions/${charge.id}/refund`, { amount: 2345 }, 201);
    await call(
      'POST',
      '/v1/transactions',
      { amount: 5000, currency: 'eur', status: 'completed', non_gateway: true },
      201,
    );

    // Failed today: a declined capture.
    const failing = await call(
      'POST',
      '/v1/transactions',
      { amount: 6789, currency: 'usd', payment_method_id: declined },
      201,
    );
    expect(await call('POST', `/v1/transactions/${failing.id}/capture`, {}, 200)).toMatchObject({ status: 'failed' });
    made.failedId = failing.id;

    // Due in two days (auto-process, a usable card), and one with nothing to charge (to fix).
    await call(
      'POST',
      '/v1/transactions',
      { amount: 4321, currency: 'usd', payment_method_id: visa, auto_process: true, due_date: made.dueDate },
      201,
    );
    await call('POST', '/v1/transactions', { amount: 100, currency: 'usd', auto_process: true }, 201);

    // A payout.
    made.payoutId = (
      await call('POST', '/v1/transactions', { record_type: 'payout', amount: 98765, currency: 'usd' }, 201)
    ).id as string;
    // A longer hook time than the suite's: the console is rebuilt here when its sources changed (a loaded 2-CPU machine).
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await killAllChildren();
  });

  it('shows each report in its card, the charts with their figures as tables, and downloads the CSV', async () => {
    const { page, context, errors } = await signedInPage(browser, server, 'admin', '/console/dashboard');
    // The sign-in page's own check of the session (401 before signing in) is not this page's.
    errors.splice(0);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    for (const title of ['Revenue by month', 'Due in the next 7 days', 'To fix', 'Failed today', 'Payouts'])
      await page.getByRole('heading', { level: 2, name: title }).waitFor();
    // The navigation lists it first under Payments.
    await expect
      .poll(() => page.getByRole('navigation', { name: 'Payments' }).getByRole('link').first().textContent())
      .toBe('Dashboard');

    // Revenue, per currency: a chart (an SVG drawn by Recharts) and its table, visually hidden, with the amounts.
    const usd = page.getByTestId('revenue-usd');
    await usd.waitFor({ state: 'attached' });
    await page.getByTestId('revenue-usd-chart').locator('svg.recharts-surface').first().waitFor();
    const usdRow = usd.locator('tbody tr').filter({ hasText: made.month });
    expect(await usdRow.locator('td').allTextContents()).toEqual([
      made.month,
      'USD 123.45',
      'USD 23.45',
      'USD 100.00',
      '1',
      '1',
    ]);
    expect(await page.getByTestId('revenue-eur').locator('tbody tr td').allTextContents()).toEqual([
      made.month,
      'EUR 50.00',
      'EUR 0.00',
      'EUR 50.00',
      '1',
      '0',
    ]);
    // The axis labels are the same formatting (whole minor units, never a fraction of a cent).
    // (Recharts 3 draws the tick labels in a layer of their own: every tick of the chart, the months left out.)
    const ticks = (
      await page.getByTestId('revenue-usd-chart').locator('.recharts-cartesian-axis-tick-value').allTextContents()
    ).filter((tick) => tick !== made.month);
    expect(ticks.length).toBeGreaterThan(1);
    for (const tick of ticks) expect(tick).toMatch(/^USD -?[\d,]+\.\d{2}$/);

    // Due in the next 7 days: every day of the seven, the one with the charge at its amount.
    const due = page.getByTestId('due-usd');
    await due.waitFor({ state: 'attached' });
    expect(await due.locator('tbody tr').count()).toBe(7);
    expect(await due.locator('tbody tr').filter({ hasText: made.dueDate }).locator('td').allTextContents()).toEqual([
      made.dueDate,
      'USD 43.21',
      '1',
    ]);

    // "Show as table" shows the table in place of the chart, and back.
    await card(page, 'due_next_7_days')
      .getByRole('button', { name: /Show as table/ })
      .click();
    await expect.poll(() => page.getByTestId('due-usd-chart').count()).toBe(0);
    await page.getByRole('table', { name: 'Due in the next 7 days in USD' }).waitFor();
    expect(await page.getByRole('table', { name: 'Due in the next 7 days in USD' }).isVisible()).toBe(true);
    await card(page, 'due_next_7_days')
      .getByRole('button', { name: /Show as chart/ })
      .click();
    await page.getByTestId('due-usd-chart').waitFor();

    // Failed today, to fix, payouts: tables.
    const failed = card(page, 'failed_today').getByRole('row').filter({ hasText: made.failedId });
    await failed.waitFor();
    expect(await failed.textContent()).toContain('USD 67.89');
    expect(await failed.textContent()).toContain('card_declined');
    expect(await failed.getByRole('link', { name: made.failedId }).getAttribute('href')).toBe(
      `/console/transactions/${made.failedId}`,
    );
    const toFix = (await call('GET', '/v1/reports/to_fix', undefined, 200)).data as Json[];
    expect(toFix.length).toBeGreaterThan(0);
    for (const row of toFix) {
      const line = card(page, 'to_fix')
        .getByRole('row')
        .filter({ hasText: row.message as string });
      expect(await line.locator('td').last().textContent()).toBe(String(row.count));
    }
    const payout = card(page, 'payouts').getByRole('row').filter({ hasText: made.payoutId });
    await payout.waitFor();
    expect(await payout.textContent()).toContain('USD 987.65');
    expect(await payout.getByRole('link', { name: made.payoutId }).getAttribute('href')).toBe(
      `/console/payouts/${made.payoutId}`,
    );

    await expectAccessible(page);

    // The CSV: the API's, downloaded with the session.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card(page, 'revenue_by_month')
        .getByRole('button', { name: /Download CSV.*Revenue by month/ })
        .click(),
    ]);
    expect(download.suggestedFilename()).toBe(`revenue_by_month-${made.today}.csv`);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv.split('\r\n')[0]).toBe('month,currency,captured_amount,refunded_amount,net_amount,count,refund_count');
    expect(csv).toContain(`${made.month},USD,12345,2345,10000,1,1\r\n`);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('a viewer sees the same reports and no action but the downloads', async () => {
    const { page, context, errors } = await signedInPage(browser, server, 'viewer', '/console/dashboard');
    errors.splice(0);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await card(page, 'payouts').getByRole('row').filter({ hasText: made.payoutId }).waitFor();
    const buttons = await page.getByRole('main').getByRole('button').allTextContents();
    for (const text of buttons) expect(text).toMatch(/^(Download CSV|Show as table): .+$/);
    await expectAccessible(page);
    expect(errors).toEqual([]);
    await context.close();
  });
});
