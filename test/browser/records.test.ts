// The console's Records pages in a real browser against `settle serve` with the offline emulator: payment methods,
// accounts, contacts, parents, invoices (pay, write off, void), orders (capture, refund), payouts (reconcile) and
// disputes, each list and detail page rendered with real data and checked with axe; every action done through its
// confirm dialog and its effect read back through the API; a viewer sees no action buttons.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type ConsolePage,
  type ConsoleServer,
  describeBrowser,
  expectAccessible,
  killAllChildren,
  launchBrowser,
  seriousAxeViolations,
  signedInPage,
  startConsoleServer,
} from './support.js';

const DAY = 24 * 3600 * 1000;

describeBrowser('console records pages', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let operator: ConsolePage;
  let viewer: ConsolePage;
  let emulatorUrl: string;
  const ids = {} as Record<
    'account' | 'contact' | 'card' | 'parent' | 'charge' | 'invoice' | 'voidable' | 'order' | 'disputed',
    string
  >;

  /** An API call with the admin key that must answer `status`; returns the body. */
  async function call(method: string, path: string, body: unknown, status: number): Promise<any> {
    const res = await server.api(method, path, body);
    if (res.status !== status) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** A call to the emulator's own API (a storefront's checkout) or its test controls. */
  async function emulator(method: string, path: string, form?: Record<string, string>): Promise<any> {
    const res = await fetch(`${emulatorUrl}${path}`, {
      method,
      headers: {
        Authorization: 'Bearer sk_test_storefront',
        ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    const json = await res.json();
    if (res.status !== 200)
      throw new Error(`emulator ${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  }

  /** The emulator's test controls (JSON bodies). */
  async function control(path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${emulatorUrl}${path}`, { method: 'POST', body: JSON.stringify(body ?? {}) });
    const json = await res.json();
    if (res.status !== 200) throw new Error(`emulator ${path} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  }

  /** Opens a console page and waits for its heading, then for `text` (real data) in the main area. */
  async function visit(page: Page, path: string, heading: string | RegExp, text?: string | RegExp): Promise<void> {
    await page.goto(`${server.url}/console/${path}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    if (text !== undefined) await page.getByRole('main').getByText(text).first().waitFor();
  }

  /** Opens the action's dialog, lets `fill` set its inputs, confirms, waits for "Done." and closes it. */
  async function act(
    page: Page,
    button: string,
    confirm: string,
    fill?: (dialog: ReturnType<Page['getByRole']>) => Promise<void>,
  ) {
    await page.getByRole('main').getByRole('button', { name: button, exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    if (fill) await fill(dialog);
    await dialog.getByRole('button', { name: confirm, exact: true }).click();
    await dialog.getByRole('status').getByText('Done.').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });
  }

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
    const gateways = await call('GET', '/v1/gateways', undefined, 200);
    emulatorUrl = gateways.data[0].api_base;

    const account = await call('POST', '/v1/accounts', { name: 'Harbour Books', email: 'ap@harbour.example' }, 201);
    ids.account = account.id;
    const contact = await call(
      'POST',
      '/v1/contacts',
      { first_name: 'Ada', last_name: 'Quill', email: 'ada@harbour.example', account_id: account.id },
      201,
    );
    ids.contact = contact.id;
    const card = await call(
      'POST',
      '/v1/payment-methods',
      { gateway_token: 'pm_card_visa', type: 'card', exp_month: 12, exp_year: 2030, account_id: account.id },
      201,
    );
    ids.card = card.id;
    const parent = await call(
      'POST',
      '/v1/parents',
      { type: 'subscription', external_id: 'SUB-0042', name: 'Annual plan', account_id: account.id },
      201,
    );
    ids.parent = parent.id;

    // A captured charge of the account, its contact and the parent, allocated to the first invoice.
    const charge = await call(
      'POST',
      '/v1/transactions',
      {
        amount: 2500,
        currency: 'usd',
        payment_method_id: card.id,
        account_id: account.id,
        contact_id: contact.id,
        parent_id: parent.id,
      },
      201,
    );
    ids.charge = charge.id;
    await call('POST', `/v1/transactions/${charge.id}/capture`, {}, 200);
    const invoice = await call(
      'POST',
      '/v1/invoices',
      { number: 'INV-1001', currency: 'usd', total: 10000, account_id: account.id, contact_id: contact.id },
      201,
    );
    ids.invoice = invoice.id;
    await call('POST', '/v1/allocations', { transaction_id: charge.id, invoice_id: invoice.id, amount: 2500 }, 201);
    const other = await call(
      'POST',
      '/v1/invoices',
      { number: 'INV-1002', currency: 'usd', total: 5000, account_id: account.id, due_date: '2030-01-31' },
      201,
    );
    ids.voidable = other.id;

    // An order with a checkout payment: a PaymentIntent the storefront authorized at the emulator, attached.
    const order = await call(
      'POST',
      '/v1/orders',
      { external_id: 'ORD-77', currency: 'usd', total: 10000, account_id: account.id },
      201,
    );
    ids.order = order.id;
    const intent = await emulator('POST', '/v1/payment_intents', {
      amount: '6000',
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: 'true',
      capture_method: 'manual',
      'automatic_payment_methods[enabled]': 'true',
      'automatic_payment_methods[allow_redirects]': 'never',
    });
    expect(intent.status).toBe('requires_capture');
    await call('POST', `/v1/orders/${order.id}/payments`, { gateway_ref_number: intent.id }, 201);

    operator = await signedInPage(browser, server, 'operator');
    viewer = await signedInPage(browser, server, 'viewer');
    // The sign-in page's own session check (401 before signing in) is not these pages' business.
    operator.errors.length = 0;
    viewer.errors.length = 0;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await killAllChildren();
  });

  it('lists and shows payment methods, accounts, contacts and parents with their totals and transactions', async () => {
    const { page } = operator;
    // The navigation lists the area's pages.
    const nav = page.getByRole('navigation').first();
    for (const label of ['Payment methods', 'Accounts', 'Contacts', 'Parents', 'Invoices', 'Orders', 'Payouts']) {
      await expect.poll(() => nav.getByRole('link', { name: label, exact: true }).count()).toBeGreaterThan(0);
    }

    await visit(page, 'payment-methods', 'Payment methods', ids.card);
    await expect
      .poll(() =>
        page
          .getByRole('main')
          .getByText(/visa •••• 4242/i)
          .count(),
      )
      .toBeGreaterThan(0);
    await expectAccessible(page);
    // A filter goes to the API: a type with no methods empties the list.
    await page.getByLabel('Type').selectOption('us_bank_account');
    await page.getByText('No payment methods match.').waitFor();
    await page.getByRole('link', { name: ids.card }).waitFor({ state: 'detached' });

    await visit(page, `payment-methods/${ids.card}`, `Payment method ${ids.card}`, ids.account);
    await page.getByRole('row', { name: /Gateway customer\s+cus_/ }).waitFor();
    await page.getByRole('link', { name: ids.charge }).waitFor();
    await expectAccessible(page);

    await visit(page, 'accounts', 'Accounts', 'Harbour Books');
    await expectAccessible(page);
    await page.getByRole('link', { name: ids.account }).click();
    await page.getByRole('heading', { level: 1, name: 'Account Harbour Books' }).waitFor();
    // Totals per currency: the captured charge, with Money's formatting.
    const totals = page.getByRole('table', { name: 'Totals per currency' });
    await totals.getByRole('cell', { name: 'USD 25.00' }).first().waitFor();
    await page
      .getByRole('table', { name: 'Contacts of this account' })
      .getByRole('link', { name: ids.contact })
      .waitFor();
    await page
      .getByRole('table', { name: 'Transactions of this account' })
      .getByRole('link', { name: ids.charge })
      .waitFor();
    await expectAccessible(page);
    // A transaction links to its page under /console/transactions/.
    expect(await page.getByRole('link', { name: ids.charge }).getAttribute('href')).toBe(
      `/console/transactions/${ids.charge}`,
    );

    await visit(page, 'contacts', 'Contacts', 'Ada Quill');
    await expectAccessible(page);
    await visit(page, `contacts/${ids.contact}`, 'Contact Ada Quill', 'ada@harbour.example');
    await page
      .getByRole('table', { name: 'Transactions of this contact' })
      .getByRole('link', { name: ids.charge })
      .waitFor();
    await page
      .getByRole('table', { name: 'Totals per currency' })
      .getByRole('cell', { name: 'USD 25.00' })
      .first()
      .waitFor();
    await expectAccessible(page);

    await visit(page, 'parents', 'Parents', 'SUB-0042');
    await expectAccessible(page);
    await page.getByLabel('Type').fill('opportunity');
    await page.getByText('No parents match.').waitFor();
    await page.getByLabel('Type').fill('subscription');
    await page.getByRole('link', { name: ids.parent }).waitFor();
    await visit(page, `parents/${ids.parent}`, 'Parent Annual plan', 'SUB-0042');
    await page
      .getByRole('table', { name: 'Transactions of this parent' })
      .getByRole('link', { name: ids.charge })
      .waitFor();
    await expectAccessible(page);
  });

  it('a viewer sees invoices and orders but no action buttons', async () => {
    const { page } = viewer;
    await visit(page, `invoices/${ids.invoice}`, 'Invoice INV-1001', 'USD 75.00');
    await page
      .getByRole('table', { name: 'Allocations to this invoice' })
      .getByRole('link', { name: ids.charge })
      .waitFor();
    expect(
      await page
        .getByRole('main')
        .getByRole('button')
        .filter({ hasText: /^(Pay|Write off|Void)$/ })
        .count(),
    ).toBe(0);
    await visit(page, `invoices/${ids.voidable}`, 'Invoice INV-1002', 'USD 50.00');
    expect(
      await page
        .getByRole('main')
        .getByRole('button')
        .filter({ hasText: /^(Pay|Write off|Void)$/ })
        .count(),
    ).toBe(0);
    await visit(page, `orders/${ids.order}`, 'Order ORD-77', 'ORD-77');
    await page
      .getByRole('table', { name: /Payment records/ })
      .getByRole('cell', { name: 'authorization' })
      .waitFor();
    expect(
      await page
        .getByRole('main')
        .getByRole('button')
        .filter({ hasText: /^(Capture|Refund)$/ })
        .count(),
    ).toBe(0);
    // The same pages offer the actions to an operator (the next tests press them).
    await visit(operator.page, `invoices/${ids.voidable}`, 'Invoice INV-1002', 'USD 50.00');
    await operator.page.getByRole('main').getByRole('button', { name: 'Void', exact: true }).waitFor();
  });

  it('pays and writes off an invoice, and voids another, through their dialogs', async () => {
    const { page } = operator;
    await visit(page, 'invoices', 'Invoices', 'INV-1001');
    await page.getByRole('cell', { name: 'INV-1002' }).waitFor();
    await expectAccessible(page);
    await page.getByLabel('Status', { exact: true }).selectOption('void');
    await page.getByText('No invoices match.').waitFor();

    await visit(page, `invoices/${ids.invoice}`, 'Invoice INV-1001', 'USD 75.00');
    await page
      .getByRole('table', { name: 'Allocations to this invoice' })
      .getByRole('link', { name: ids.charge })
      .waitFor();
    await page
      .getByRole('table', { name: 'Transactions allocated to this invoice' })
      .getByRole('link', { name: ids.charge })
      .waitFor();
    await expectAccessible(page);

    // Pay 50.00 with the account's card (the dialog offers the account's usable methods).
    await act(page, 'Pay', 'Charge now', async (dialog) => {
      await dialog.getByLabel('Payment method', { exact: true }).selectOption(ids.card);
      await dialog.getByLabel('Amount (USD)').fill('50.00');
      // The dialog too, except its icon close button (ConfirmAction's Modal gives it no name: reported to the lead).
      const found = await seriousAxeViolations(page);
      expect(found.filter((violation) => !/^button-name .* at \.m_220c80f2$/.test(violation))).toEqual([]);
    });
    let invoice = await call('GET', `/v1/invoices/${ids.invoice}`, undefined, 200);
    expect([invoice.balance_paid, invoice.balance_due, invoice.payment_status]).toEqual([7500, 2500, 'partially_paid']);
    await page.getByRole('row', { name: /Balance due\s+USD 25\.00/ }).waitFor();

    // Write off the rest (the dialog proposes the balance due), with a reason.
    await act(page, 'Write off', 'Write off', async (dialog) => {
      await expect.poll(() => dialog.getByLabel('Amount to write off (USD)').inputValue()).toBe('25.00');
      await dialog.getByLabel('Reason').fill('Goodwill');
    });
    invoice = await call('GET', `/v1/invoices/${ids.invoice}`, undefined, 200);
    expect([invoice.write_off_amount, invoice.balance_due, invoice.payment_status]).toEqual([2500, 0, 'paid']);
    await page.getByRole('row', { name: /Payment status\s+paid/ }).waitFor();
    const transactions = await call('GET', `/v1/invoices/${ids.invoice}/transactions`, undefined, 200);
    const writeOff = transactions.data.find((t: any) => t.allocation.kind === 'write_off');
    expect(writeOff.description).toBe('Goodwill');
    await page
      .getByRole('table', { name: 'Transactions allocated to this invoice' })
      .getByRole('link', { name: writeOff.id })
      .waitFor();

    // Void the invoice nothing is allocated to.
    await visit(page, `invoices/${ids.voidable}`, 'Invoice INV-1002', 'USD 50.00');
    await act(page, 'Void', 'Void');
    expect((await call('GET', `/v1/invoices/${ids.voidable}`, undefined, 200)).status).toBe('void');
    await page.getByRole('row', { name: /^Status\s+void/ }).waitFor();
    await expectAccessible(page);
  });

  it("captures and refunds part of an order's checkout payment", async () => {
    const { page } = operator;
    await visit(page, 'orders', 'Orders', 'ORD-77');
    await expectAccessible(page);
    await page.getByRole('link', { name: ids.order }).click();
    await page.getByRole('heading', { level: 1, name: 'Order ORD-77' }).waitFor();
    const summaries = page.getByRole('table', { name: 'Payment summaries, one per payment method' });
    await summaries.getByRole('cell', { name: 'USD 60.00' }).first().waitFor();
    await page
      .getByRole('table', { name: /Payment records/ })
      .getByRole('cell', { name: 'authorization' })
      .waitFor();
    await expectAccessible(page);

    await act(page, 'Capture', 'Capture', async (dialog) => {
      await expect.poll(() => dialog.getByLabel('Amount to capture (USD)').inputValue()).toBe('60.00');
      await dialog.getByLabel('Amount to capture (USD)').fill('40.00');
    });
    let order = await call('GET', `/v1/orders/${ids.order}/payment-summaries`, undefined, 200);
    expect(order.data[0].captured_amount).toBe(4000);
    await page
      .getByRole('table', { name: /Payment records/ })
      .getByRole('cell', { name: 'payment' })
      .waitFor();

    await act(page, 'Refund', 'Refund', async (dialog) => {
      await expect.poll(() => dialog.getByLabel('Amount to refund (USD)').inputValue()).toBe('40.00');
      await dialog.getByLabel('Amount to refund (USD)').fill('10.00');
    });
    order = await call('GET', `/v1/orders/${ids.order}/payment-summaries`, undefined, 200);
    expect(order.data[0].refunded_amount + order.data[0].pending_amount).toBe(1000);
    await page
      .getByRole('table', { name: /Payment records/ })
      .getByRole('cell', { name: 'refund' })
      .waitFor();
    // The gateway log lists the order's calls.
    await page
      .getByRole('table', { name: 'Gateway calls and notifications of this order' })
      .getByRole('row')
      .nth(1)
      .waitFor();
    await expectAccessible(page);
  });

  it('lists a payout from the emulator, shows it and reconciles it now', async () => {
    const { page } = operator;
    // The emulator pays out the available balance 3 days on and lets it arrive 3 days later; a backfill imports it.
    // A charge with Stripe's dispute test card: the emulator opens a dispute on it once captured.
    const disputeCard = await call(
      'POST',
      '/v1/payment-methods',
      { gateway_token: 'pm_card_createDispute', type: 'card', exp_month: 12, exp_year: 2030 },
      201,
    );
    const disputed = await call(
      'POST',
      '/v1/transactions',
      { amount: 1800, currency: 'usd', payment_method_id: disputeCard.id },
      201,
    );
    ids.disputed = disputed.id;
    await call('POST', `/v1/transactions/${disputed.id}/capture`, {}, 200);
    await control('/_emulator/clock/advance', { ms: 3 * DAY });
    await control('/_emulator/payouts/run'); // (crossing midnight has usually paid it out already)
    await control('/_emulator/clock/advance', { ms: 3 * DAY });
    const since = new Date(Date.now() - DAY).toISOString();
    const run = await call('POST', '/v1/sync', { since, until: '2099-01-01', objects: ['disputes', 'payouts'] }, 202);
    await expect
      .poll(async () => (await call('GET', `/v1/sync/${run.id}`, undefined, 200)).status, { timeout: 20_000 })
      .toBe('completed');
    const payouts = await call('GET', '/v1/payouts', undefined, 200);
    expect(payouts.data.length).toBeGreaterThan(0);
    const payout = payouts.data[0];

    await visit(page, 'payouts', 'Payouts', payout.gateway_payout);
    await expectAccessible(page);
    await page.getByRole('link', { name: payout.id }).click();
    await page.getByRole('heading', { level: 1, name: `Payout ${payout.id}` }).waitFor();
    await page.getByRole('main').getByText(payout.gateway_payout).waitFor();
    await page.getByRole('table', { name: 'What the payout paid out' }).waitFor();
    await expectAccessible(page);

    await act(page, 'Reconcile now', 'Reconcile now');
    const after = await call('GET', `/v1/payouts/${payout.id}`, undefined, 200);
    expect(after.reconciliation_status).toBe('reconciled');
    expect(after.items_count).toBeGreaterThan(0);
    const items = await call('GET', `/v1/payouts/${payout.id}/items`, undefined, 200);
    const linked = items.data.find((item: any) => item.transaction_id !== null);
    await page
      .getByRole('table', { name: 'What the payout paid out' })
      .getByRole('link', { name: linked.transaction_id })
      .first()
      .waitFor();
    await page
      .getByRole('row', { name: new RegExp(`^Reconciliation\\s+${after.reconciliation_status.replaceAll('_', ' ')}`) })
      .waitFor();
    await expectAccessible(page);

    // A viewer sees the payout without the action.
    await visit(viewer.page, `payouts/${payout.id}`, `Payout ${payout.id}`, payout.gateway_payout);
    await viewer.page.getByRole('table', { name: 'What the payout paid out' }).getByRole('link').first().waitFor();
    expect(await viewer.page.getByRole('main').getByRole('button').filter({ hasText: 'Reconcile now' }).count()).toBe(
      0,
    );
  });

  it('lists the dispute the backfill imported and shows it', async () => {
    const { page } = operator;
    const disputes = await call('GET', `/v1/disputes?transaction_id=${ids.disputed}`, undefined, 200);
    expect(disputes.data.length).toBe(1);
    const dispute = disputes.data[0];
    await visit(page, 'disputes', 'Disputes', dispute.gateway_dispute);
    await page
      .getByRole('table', { name: 'Disputes, newest first' })
      .getByRole('link', { name: ids.disputed })
      .waitFor();
    await expectAccessible(page);
    await page.getByLabel('Status').selectOption('won');
    await page.getByText('No disputes match.').waitFor();
    await visit(page, `disputes/${dispute.id}`, `Dispute ${dispute.id}`, 'USD 18.00');
    await page.getByRole('row', { name: /^Reason\s+fraudulent/ }).waitFor();
    await page
      .getByRole('row', { name: /^Charge\s+trx_/ })
      .getByRole('link', { name: ids.disputed })
      .waitFor();
    await expectAccessible(page);
  });

  it('reported no errors in the browser', () => {
    expect(operator.errors).toEqual([]);
    expect(viewer.errors).toEqual([]);
  });
});
