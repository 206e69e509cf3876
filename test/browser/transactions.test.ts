// The console's Transactions pages in a real browser against `settle serve` (the offline emulator): the list's views,
// filters, sorting, paging and batch capture; the detail page's fields and each action, checked afterwards through
// the API; a viewer's read-only pages; axe on both pages; no console errors.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type ConsolePage,
  type ConsoleServer,
  describeBrowser,
  expectAccessible,
  killAllChildren,
  launchBrowser,
  signedInPage,
  startConsoleServer,
} from './support.js';

const VISA = 'pm_card_visa';
/** A soft decline: the failed charge may be reattempted by hand. */
const INSUFFICIENT = 'pm_card_visa_chargeDeclinedInsufficientFunds';

describeBrowser('console transactions', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let operator: ConsolePage;
  let visa: string;
  let declined: string;
  let account: string;
  /** More open charges than one page holds (50). */
  const OPEN_COUNT = 55;

  async function call(method: string, path: string, body?: unknown, expected?: number) {
    const res = await server.api(method, path, body);
    if (expected !== undefined && res.status !== expected)
      throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async function paymentMethod(token: string): Promise<string> {
    const pm = await call(
      'POST',
      '/v1/payment-methods',
      { gateway_token: token, type: 'card', exp_month: 12, exp_year: 2030 },
      201,
    );
    return pm.id;
  }

  async function charge(amount: number, extra: Record<string, unknown> = {}) {
    return call('POST', '/v1/transactions', { amount, currency: 'usd', payment_method_id: visa, ...extra }, 201);
  }

  async function authorized(amount: number) {
    const t = await charge(amount);
    return call('POST', `/v1/transactions/${t.id}/authorize`, undefined, 200);
  }

  async function failed(amount: number) {
    const t = await charge(amount, { payment_method_id: declined });
    const res = await call('POST', `/v1/transactions/${t.id}/capture`, undefined, 200);
    expect(res.status).toBe('failed');
    return res;
  }

  const get = (id: string) => call('GET', `/v1/transactions/${id}`, undefined, 200);

  const table = (page: Page) => page.getByTestId('transactions-table');
  const bodyRows = (page: Page) => table(page).locator('tbody tr');

  /** The ids in the list's rows, once it shows some. */
  async function rowIds(page: Page): Promise<string[]> {
    await table(page).locator('tbody tr a').first().waitFor();
    return table(page).locator('tbody tr a').allTextContents();
  }

  /** The API's first page (limit 50) for `query` (plus `starting_after`), as ids. */
  async function apiIds(query: string): Promise<{ ids: string[]; next: string | null }> {
    const list = await call('GET', `/v1/transactions?limit=50${query ? `&${query}` : ''}`, undefined, 200);
    return { ids: list.data.map((t: { id: string }) => t.id), next: list.next_cursor };
  }

  /** Waits until the table shows exactly `ids`, in order, and is not loading. */
  async function expectRows(page: Page, ids: string[]): Promise<void> {
    await expect
      .poll(async () => {
        if ((await table(page).getAttribute('aria-busy')) === 'true') return ['(loading)'];
        return table(page).locator('tbody tr a').allTextContents();
      })
      .toEqual(ids);
  }

  async function openDetail(page: Page, id: string) {
    await page.goto(`${server.url}/console/transactions/${id}`);
    await page.getByRole('heading', { level: 1, name: `Transaction ${id}` }).waitFor();
    await page.getByRole('table', { name: 'Amounts' }).waitFor();
  }

  /** Presses the action button, then the dialog's confirm button, and waits for the dialog's outcome. */
  async function act(page: Page, label: string, fill?: (dialog: ReturnType<Page['getByRole']>) => Promise<void>) {
    await page.getByRole('button', { name: label, exact: true }).first().click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    if (fill) await fill(dialog);
    await dialog.getByRole('button', { name: label, exact: true }).click();
    const result = dialog.getByRole('status');
    await result.waitFor();
    expect(await result.textContent()).toContain('Done.');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });
  }

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
    visa = await paymentMethod(VISA);
    declined = await paymentMethod(INSUFFICIENT);
    account = (await call('POST', '/v1/accounts', { name: 'Filtered Ltd' }, 201)).id;
    for (let i = 0; i < OPEN_COUNT; i++) await charge(1000 + i * 7, { due_date: '2030-01-15' });
    await charge(4242, { account_id: account });
    operator = await signedInPage(browser, server, 'operator', '/console/transactions');
    // The sign-in page's first session check answers 401 (nobody signed in yet): not an error of these pages.
    operator.errors.length = 0;
  });

  afterAll(async () => {
    await operator?.context.close();
    await browser?.close();
    await server?.stop();
    await killAllChildren();
  });

  it('lists transactions newest first with their columns, and is accessible', async () => {
    const { page } = operator;
    await page.getByRole('heading', { level: 1, name: 'Transactions' }).waitFor();
    const ids = await rowIds(page);
    expect(ids).toHaveLength(50);
    expect(ids).toEqual((await apiIds('')).ids);
    // The first row is the newest: the account's charge, USD 42.42, open.
    const first = bodyRows(page).first();
    expect(await first.textContent()).toContain('USD 42.42');
    expect(await first.textContent()).toContain('open');
    await expect.poll(() => page.getByRole('tab', { name: 'All' }).getAttribute('aria-selected')).toBe('true');
    expect(await table(page).locator('thead th').allTextContents()).toEqual(
      expect.arrayContaining(['ID', 'Record type', 'Status', 'Payment status']),
    );
    await expectAccessible(page);
  });

  it('pages forward and back with the cursor', async () => {
    const { page } = operator;
    const first = await apiIds('');
    await expectRows(page, first.ids);
    await page.getByRole('button', { name: 'Next page' }).click();
    const second = await apiIds(`starting_after=${first.next}`);
    expect(second.ids).toHaveLength(OPEN_COUNT + 1 - 50);
    await expectRows(page, second.ids);
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expectRows(page, first.ids);
  });

  it('switches views (kept in the URL) and filters (refetching from page 1)', async () => {
    const { page } = operator;
    const auth = await authorized(3100);
    const fail = await failed(3200);
    await page.reload();
    await expectRows(page, (await apiIds('')).ids);

    await page.getByRole('tab', { name: 'Failed' }).click();
    await expectRows(page, [fail.id]);
    expect(page.url()).toContain('view=failed');
    // The view survives a reload.
    await page.reload();
    await expectRows(page, [fail.id]);
    await expect.poll(() => page.getByRole('tab', { name: 'Failed' }).getAttribute('aria-selected')).toBe('true');

    await page.getByRole('tab', { name: 'Authorized uncaptured' }).click();
    await expectRows(page, [auth.id]);
    expect(page.url()).toContain('view=authorized_uncaptured');

    await page.getByRole('tab', { name: 'All' }).click();
    const all = (await apiIds('')).ids;
    await expectRows(page, all);
    expect(page.url()).not.toContain('view=');

    // A select filter: payment status authorized.
    await page.getByLabel('Payment status').selectOption('authorized');
    await expectRows(page, [auth.id]);
    expect(page.url()).toContain('payment_status=authorized');
    await page.getByLabel('Payment status').selectOption('');
    await expectRows(page, all);

    // A text filter (applied on Enter): the account's one charge.
    await page.getByLabel('Account ID').fill(account);
    await page.getByLabel('Account ID').press('Enter');
    const mine = (await apiIds(`account_id=${account}`)).ids;
    expect(mine).toHaveLength(1);
    await expectRows(page, mine);
    expect(page.url()).toContain(`account_id=${account}`);
    await page.getByLabel('Account ID').fill('');
    await page.getByLabel('Account ID').press('Enter');
    await expectRows(page, all);

    // Due dates: only the charges due 2030-01-15 are due after 2030-01-01.
    await page.getByLabel('Due after').fill('2030-01-01');
    await expect.poll(() => page.url()).toContain('due_after=2030-01-01');
    const due = (await apiIds('due_after=2030-01-01')).ids;
    expect(due).toHaveLength(50);
    expect(due).not.toContain(mine[0]);
    await expectRows(page, due);
    await page.goto(`${server.url}/console/transactions`);
    await rowIds(page);
  });

  it('sorts by amount through the API when the server supports `sort`', async (ctx) => {
    const probe = await server.api('GET', '/v1/transactions?sort=amount&limit=1');
    if (probe.status !== 200) ctx.skip();
    const { page } = operator;
    await expectRows(page, (await apiIds('')).ids);
    await page.getByRole('button', { name: 'Amount' }).click();
    const ascending = await apiIds('sort=amount');
    await expectRows(page, ascending.ids);
    expect(page.url()).toContain('sort=amount');
    expect(await table(page).locator('th[aria-sort="ascending"]').textContent()).toContain('Amount');
    const amounts = (await call('GET', '/v1/transactions?sort=amount&limit=50', undefined, 200)).data.map(
      (t: { amount: number }) => t.amount,
    );
    expect([...amounts].sort((x, y) => x - y)).toEqual(amounts);

    await page.getByRole('button', { name: 'Amount' }).click();
    const descending = await apiIds('sort=-amount');
    await expectRows(page, descending.ids);
    expect(page.url()).toContain('sort=-amount');
    expect(await table(page).locator('th[aria-sort="descending"]').textContent()).toContain('Amount');

    // Paging keeps the sort.
    await page.getByRole('button', { name: 'Next page' }).click();
    await expectRows(page, (await apiIds(`sort=-amount&starting_after=${encodeURIComponent(descending.next!)}`)).ids);

    // Due date, then back to the default (newest first, not sent).
    await page.getByRole('button', { name: 'Due date' }).click();
    await expectRows(page, (await apiIds('sort=due_date')).ids);
    expect(await table(page).locator('th[aria-sort="ascending"]').textContent()).toContain('Due date');
    await page.getByRole('button', { name: 'Created' }).click();
    await expectRows(page, (await apiIds('')).ids);
    expect(page.url()).not.toContain('sort=');
    expect(await table(page).locator('th[aria-sort="descending"]').textContent()).toContain('Created');
  });

  it('batch-captures the selected authorized charges and shows each result', async () => {
    const { page } = operator;
    const charges = [await authorized(2001), await authorized(2002), await authorized(2003)];
    await page.goto(`${server.url}/console/transactions?view=authorized_uncaptured`);
    await rowIds(page);
    for (const t of charges) await page.getByRole('checkbox', { name: `Select transaction ${t.id}` }).check();
    await page.getByRole('button', { name: 'Batch capture (3 selected)' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Capture 3' }).click();
    const results = dialog.getByTestId('batch-capture-results');
    await results.waitFor();
    await expectAccessible(page);
    const lines = await results.locator('tbody tr').allTextContents();
    expect(lines).toHaveLength(3);
    for (const [i, t] of charges.entries()) {
      expect(lines[i]).toContain(t.id);
      expect(lines[i]).toContain('Done (200)');
      expect(lines[i]).toContain('captured');
    }
    await dialog.getByRole('button', { name: 'Close' }).click();
    for (const t of charges) {
      const now = await get(t.id);
      expect([now.status, now.payment_status, now.captured_amount]).toEqual(['completed', 'captured', t.amount]);
    }
    // The list reloaded: they are no longer authorized and uncaptured.
    await expect
      .poll(async () => (await table(page).locator('tbody tr a').allTextContents()).some((id) => id === charges[0]!.id))
      .toBe(false);

    // A refused item shows its error: an already captured charge.
    await page.goto(`${server.url}/console/transactions?payment_status=captured`);
    await rowIds(page);
    await page.getByRole('checkbox', { name: `Select transaction ${charges[0]!.id}` }).check();
    await page.getByRole('button', { name: 'Batch capture (1 selected)' }).click();
    await dialog.getByRole('button', { name: 'Capture 1' }).click();
    await results.waitFor();
    const refused = await results.locator('tbody tr').first().textContent();
    expect(refused).toContain('Refused (409)');
    expect(refused).toContain('unexpected_state');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('refuses a batch of more than 200 in the page, before calling the API', async () => {
    const { page } = operator;
    // Enough rows for five full pages (the selection is kept across pages).
    const existing = (await call('GET', '/v1/transactions?limit=200', undefined, 200)).data.length;
    for (let i = existing; i < 255; i++) await charge(500 + i, { description: 'bulk' });
    await page.goto(`${server.url}/console/transactions`);
    let ids = await rowIds(page);
    for (let n = 1; n <= 5; n++) {
      await page.getByRole('checkbox', { name: 'Select all transactions on this page' }).check();
      await page.getByRole('button', { name: `Batch capture (${n * 50} selected)` }).waitFor();
      if (n < 5) {
        await page.getByRole('button', { name: 'Next page' }).click();
        const next = (await apiIds(`starting_after=${ids[ids.length - 1]}`)).ids;
        await expectRows(page, next);
        ids = next;
      }
    }
    const before = (await call('GET', '/v1/transactions?status=completed&limit=200', undefined, 200)).data.length;
    await page.getByRole('button', { name: 'Batch capture (250 selected)' }).click();
    const dialog = page.getByRole('dialog');
    const alert = dialog.getByRole('alert');
    expect(await alert.textContent()).toContain('At most 200 transactions can be captured at once; 250 are selected');
    expect(await dialog.getByRole('button', { name: /^Capture/ }).count()).toBe(0);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    // Nothing was captured.
    expect((await call('GET', '/v1/transactions?status=completed&limit=200', undefined, 200)).data.length).toBe(before);
    await page.goto(`${server.url}/console/transactions`);
    await rowIds(page);
  });

  it('shows a transaction with its fields, sections and accessible page', async () => {
    const { page } = operator;
    const t = await authorized(10000);
    await openDetail(page, t.id);
    const amounts = page.getByRole('table', { name: 'Amounts' });
    expect(await amounts.textContent()).toContain('USD 100.00');
    const gateway = await page.getByRole('table', { name: 'Gateway', exact: true }).textContent();
    expect(gateway).toContain(t.gateway_ref.payment_intent);
    const links = await page.getByRole('table', { name: 'Links' }).textContent();
    expect(links).toContain(visa);
    const state = await page.getByRole('table', { name: 'State' }).textContent();
    expect(state).toContain('authorized');
    await expect.poll(() => page.getByTestId('history-table').locator('tbody tr').count()).toBeGreaterThan(1);
    await expect.poll(() => page.getByTestId('gateway-logs-table').locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('gateway-logs-table').textContent()).toContain('POST');
    await expectAccessible(page);

    // The failed one shows its error fields.
    const fail = await failed(777);
    await openDetail(page, fail.id);
    const failure = await page.getByRole('table', { name: 'State' }).textContent();
    expect(failure).toContain(fail.error_code);
    expect(failure).toContain(fail.error_message);
  });

  it('captures part of an authorization, then refunds part of it with a reason', async () => {
    const { page } = operator;
    const t = await authorized(10000);
    await openDetail(page, t.id);
    await act(page, 'Capture', async (dialog) => {
      await dialog.getByLabel('Amount to capture (USD)').fill('40.00');
    });
    let now = await get(t.id);
    expect([now.status, now.payment_status, now.captured_amount]).toEqual(['completed', 'partially_captured', 4000]);
    await expect.poll(() => page.getByRole('table', { name: 'Amounts' }).textContent()).toContain('USD 40.00');

    await act(page, 'Refund', async (dialog) => {
      await dialog.getByLabel('Amount to refund (USD)').fill('15.00');
      await dialog.getByLabel('Reason').selectOption('requested_by_customer');
      // The dialog with its inputs is accessible too.
      await expectAccessible(page);
    });
    now = await get(t.id);
    expect([now.payment_status, now.refunded_amount]).toEqual(['partially_refunded', 1500]);
    const refunds = await call(
      'GET',
      `/v1/transactions?original_transaction_id=${t.id}&transaction_type=refund`,
      undefined,
      200,
    );
    expect(refunds.data).toHaveLength(1);
    expect(refunds.data[0].amount).toBe(-1500);
    await expect.poll(() => page.getByTestId('refunds-table').textContent()).toContain(refunds.data[0].id);
    await expectAccessible(page);
    // The reason went to the gateway.
    const logs = await call('GET', `/v1/transactions/${refunds.data[0].id}/gateway-logs`, undefined, 200);
    expect(JSON.stringify(logs.data.map((l: { request_body: unknown }) => l.request_body))).toContain(
      'requested_by_customer',
    );
  });

  it('refuses an invalid amount in the dialog (no call made)', async () => {
    const { page } = operator;
    const t = await authorized(5000);
    await openDetail(page, t.id);
    await page.getByRole('button', { name: 'Capture', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Amount to capture (USD)').fill('50.001');
    expect(await dialog.getByRole('button', { name: 'Capture', exact: true }).isDisabled()).toBe(true);
    await dialog.getByLabel('Amount to capture (USD)').fill('60.00');
    expect(await dialog.getByRole('button', { name: 'Capture', exact: true }).isDisabled()).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await get(t.id)).payment_status).toBe('authorized');
  });

  it('releases an authorization', async () => {
    const { page } = operator;
    const t = await authorized(6000);
    await openDetail(page, t.id);
    await act(page, 'Release');
    const now = await get(t.id);
    expect([now.status, now.payment_status, now.uncaptured_method]).toEqual(['completed', 'uncaptured', 'manual']);
    await expect.poll(() => page.getByRole('button', { name: 'Release', exact: true }).count()).toBe(0);
  });

  it('holds, releases the hold, clones and cancels an open charge', async () => {
    const { page } = operator;
    const t = await charge(8800, { description: 'to hold' });
    await openDetail(page, t.id);
    await act(page, 'Hold');
    expect((await get(t.id)).status).toBe('on_hold');
    await act(page, 'Release hold');
    expect((await get(t.id)).status).toBe('open');

    await act(page, 'Clone');
    const link = page.getByRole('status').filter({ hasText: 'Clone created' }).getByRole('link');
    const cloneId = (await link.textContent())!;
    const clone = await get(cloneId);
    expect([clone.status, clone.amount, clone.description]).toEqual(['open', 8800, 'to hold']);

    await act(page, 'Cancel transaction');
    expect((await get(t.id)).status).toBe('canceled');
    await expect.poll(() => page.getByRole('button', { name: 'Hold', exact: true }).count()).toBe(0);

    await link.click();
    await page.getByRole('heading', { level: 1, name: `Transaction ${cloneId}` }).waitFor();
  });

  it('authorizes an open charge and reattempts a failed one', async () => {
    const { page } = operator;
    const t = await charge(2500);
    await openDetail(page, t.id);
    await act(page, 'Authorize');
    expect((await get(t.id)).payment_status).toBe('authorized');

    const fail = await failed(3300);
    await openDetail(page, fail.id);
    await act(page, 'Reattempt');
    const link = page.getByRole('status').filter({ hasText: 'Reattempt created' }).getByRole('link');
    const reattempt = await get((await link.textContent())!);
    expect([reattempt.status, reattempt.reattempt_of_id, reattempt.amount]).toEqual(['open', fail.id, 3300]);
    await link.click();
    await page.getByRole('heading', { level: 1, name: `Transaction ${reattempt.id}` }).waitFor();
    expect(await page.getByRole('table', { name: 'Links' }).textContent()).toContain(fail.id);
    await expectAccessible(page);
    // The failed transaction lists its reattempt.
    await openDetail(page, fail.id);
    await page.getByTestId('reattempts-table').getByRole('link', { name: reattempt.id }).waitFor();
    expect(operator.errors).toEqual([]);
  });

  it('a viewer sees the pages without any action or batch capture', async () => {
    const viewer = await signedInPage(browser, server, 'viewer', '/console/transactions');
    const { page } = viewer;
    viewer.errors.length = 0;
    try {
      await page.getByRole('heading', { level: 1, name: 'Transactions' }).waitFor();
      await rowIds(page);
      expect(await page.getByRole('button', { name: /Batch capture/ }).count()).toBe(0);
      await expectAccessible(page);

      const auth = await authorized(1234);
      await openDetail(page, auth.id);
      expect(await page.getByRole('heading', { name: 'Actions' }).count()).toBe(0);
      for (const label of ['Capture', 'Release', 'Refund', 'Clone', 'Hold', 'Cancel transaction', 'Authorize']) {
        expect(await page.getByRole('button', { name: label, exact: true }).count()).toBe(0);
      }
      await expectAccessible(page);
      expect(viewer.errors).toEqual([]);
    } finally {
      await viewer.context.close();
    }
  });
});
