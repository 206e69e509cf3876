// The console's Operations pages (webhook events with replay, jobs with Run now and live progress, job runs, gateway
// logs) and Administration pages (settings, API keys, users, audit trail, gateways) in a real browser against
// `settle serve`: each renders with real data and axe finds nothing serious; every action goes through its confirm
// dialog and the API then reports the change; an operator has no Administration pages and a viewer no action
// buttons; no page logs an error.
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

describeBrowser('console operations and administration', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let eventId = '';

  async function call(method: string, apiPath: string, body: unknown, status: number): Promise<Json> {
    const res = await server.api(method, apiPath, body);
    if (res.status !== status)
      throw new Error(`${method} ${apiPath} answered ${res.status}, not ${status}: ${JSON.stringify(res.body)}`);
    return res.body as Json;
  }

  /** Confirms the open confirm dialog (its button `confirm`) and waits for its outcome, then closes it. */
  async function confirmIn(page: Page, title: string, confirm: string, expected = 'Done.'): Promise<void> {
    const dialog = page.getByRole('dialog', { name: title });
    await dialog.getByRole('button', { name: confirm, exact: true }).click();
    await dialog.getByText(expected).waitFor();
  }

  /** A page signed in as a new user of `role`; the 401s of the sign-in page (no session yet) are not counted. */
  async function signedIn(role: 'admin' | 'operator' | 'viewer', at: string) {
    const opened = await signedInPage(browser, server, role, at);
    opened.errors.length = 0;
    return opened;
  }

  /** axe on the page as it is, with the pointer off the navigation (a hovered link is not what is checked). */
  async function accessible(page: Page): Promise<void> {
    await page.mouse.move(1350, 890);
    await expectAccessible(page);
  }

  async function closeDialog(page: Page, title: string): Promise<void> {
    const dialog = page.getByRole('dialog', { name: title });
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });
  }

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
    // A captured charge at the emulator: its webhook events arrive at the intake and a gateway log is written.
    const pm = await call('POST', '/v1/payment-methods', { gateway_token: 'pm_card_visa', type: 'card' }, 201);
    const trx = await call(
      'POST',
      '/v1/transactions',
      { amount: 2500, currency: 'usd', payment_method_id: pm.id },
      201,
    );
    const captured = await call('POST', `/v1/transactions/${trx.id}/capture`, {}, 200);
    const pi = captured.gateway_ref.payment_intent as string;
    for (let i = 0; i < 200 && eventId === ''; i += 1) {
      const events = (
        await call('GET', `/v1/webhook-events?object_id=${pi}&type=payment_intent.succeeded`, undefined, 200)
      ).data as Json[];
      const processed = events.find((event) => event.status === 'processed');
      if (processed) eventId = processed.id as string;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (eventId === '') throw new Error('no processed payment_intent.succeeded event arrived from the emulator');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await killAllChildren();
  });

  it('operations: webhook events (replay one, replay a period), jobs (run now with progress), runs, gateway logs', async () => {
    const { page, context, errors } = await signedIn('admin', '/console/webhook-events');
    await page.getByRole('heading', { level: 1, name: 'Webhook events' }).waitFor();
    await page.getByRole('link', { name: eventId }).waitFor();
    await accessible(page);

    // Filters go to the API: a status nobody has empties the list.
    await page.getByLabel('Status', { exact: true }).selectOption('not_supported');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No webhook events match.').waitFor();
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByRole('link', { name: eventId }).click();

    await page.getByRole('heading', { level: 1, name: `Webhook event ${eventId}` }).waitFor();
    const payload = page.getByLabel('Webhook event payload');
    expect(await payload.textContent()).toContain('"type": "payment_intent.succeeded"');
    expect(await payload.getAttribute('tabindex')).toBe('0');
    await accessible(page);
    const before = await call('GET', `/v1/webhook-events/${eventId}`, undefined, 200);
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await confirmIn(page, 'Replay this webhook event', 'Replay event');
    await closeDialog(page, 'Replay this webhook event');
    const after = await call('GET', `/v1/webhook-events/${eventId}`, undefined, 200);
    expect(after.attempts).toBe(before.attempts + 1);
    expect(after.status).toBe('processed');
    expect(after.updated_at).not.toBe(before.updated_at);

    // An admin replays a period: every event received since an hour ago.
    await page.getByRole('link', { name: 'Back to webhook events' }).click();
    await page.getByRole('heading', { level: 1, name: 'Webhook events' }).waitFor();
    const total = (await call('GET', '/v1/webhook-events?limit=200', undefined, 200)).data.length as number;
    const local = (ms: number) => {
      const d = new Date(ms);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    };
    // The browser and the test share the machine's time zone, so the local times match.
    await page.getByRole('button', { name: 'Replay a period' }).click();
    const replay = page.getByRole('dialog', { name: 'Replay the webhook events of a period' });
    await replay.getByLabel('Received after').fill(local(Date.now() - 3_600_000));
    await replay.getByLabel('Received before').fill(local(Date.now() + 3_600_000));
    await confirmIn(page, 'Replay the webhook events of a period', 'Replay events');
    await closeDialog(page, 'Replay the webhook events of a period');
    expect(await page.getByTestId('replay-period-result').textContent()).toContain(`${total} event(s) reset`);
    expect((await call('GET', `/v1/webhook-events/${eventId}`, undefined, 200)).attempts).toBe(after.attempts + 1);

    // Jobs: Run now, then the live progress until the run finished, and the run in the history.
    await page.getByRole('navigation', { name: 'Operations' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { level: 1, name: 'Jobs' }).waitFor();
    const row = page.getByTestId('job-totals_check');
    await row.waitFor();
    await accessible(page);
    await row.getByRole('button', { name: 'Run now' }).click();
    await confirmIn(page, 'Run totals_check now', 'Run totals_check');
    await closeDialog(page, 'Run totals_check now');
    await page.getByRole('progressbar', { name: 'Progress of the totals_check run' }).waitFor();
    await page.getByText('totals_check finished: succeeded').waitFor();
    const runs = (await call('GET', '/v1/job-runs?job=totals_check', undefined, 200)).data as Json[];
    expect(runs[0]).toMatchObject({ job: 'totals_check', trigger: 'api', status: 'succeeded' });
    const runId = runs[0]!.id as string;
    expect(await page.getByTestId('run-progress-text').textContent()).toContain(
      `picked ${runs[0]!.picked}, succeeded ${runs[0]!.succeeded}`,
    );
    // The jobs list and the history reload once the run finished.
    await row.getByText('succeeded', { exact: true }).waitFor();
    const history = page.getByRole('table', { name: 'Job runs, newest first' });
    await history.getByRole('link', { name: runId }).waitFor();
    await accessible(page);
    await history.getByRole('link', { name: runId }).click();
    await page.getByRole('heading', { level: 1, name: `Job run ${runId}` }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Errors' }).waitFor();
    await accessible(page);

    // Gateway logs: the capture's entry, with its request and response.
    await page.getByRole('navigation', { name: 'Operations' }).getByRole('link', { name: 'Gateway logs' }).click();
    await page.getByRole('heading', { level: 1, name: 'Gateway logs' }).waitFor();
    const logs = (await call('GET', '/v1/gateway-logs?limit=1', undefined, 200)).data as Json[];
    await page.getByRole('link', { name: logs[0]!.id }).click();
    await page.getByRole('heading', { level: 1, name: `Gateway log entry ${logs[0]!.id}` }).waitFor();
    await page.getByLabel('Response body').waitFor();
    await accessible(page);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('administration: settings, API keys, users, the audit trail naming the user, gateways', async () => {
    const { page, context, errors, user } = await signedIn('admin', '/console/settings');
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    const horizon = page.getByLabel('Schedule horizon (days)');
    await expect.poll(() => horizon.inputValue()).toBe('35');
    await accessible(page);

    // Checked here first: an out-of-range value is marked and cannot be saved.
    await horizon.fill('0');
    await page.getByText('A whole number from 1 to 3660.').waitFor();
    // The API's refusal is shown: a time zone that does not exist.
    await horizon.fill('42');
    await page.getByLabel('Time zone').fill('Mars/Olympus_Mons');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await confirmIn(page, 'Change the settings', 'Save changes', 'Refused');
    const refusal = page.getByRole('dialog', { name: 'Change the settings' }).getByRole('alert');
    expect(await refusal.textContent()).toContain('invalid_setting');
    await closeDialog(page, 'Change the settings');
    // The browser logs the refused PATCH (400) as a failed resource: that one is expected, nothing else.
    expect(errors.splice(0)).toEqual([
      'Failed to load resource: the server responded with a status of 400 (Bad Request)',
    ]);
    expect((await call('GET', '/v1/settings', undefined, 200)).schedule_horizon_days).toBe(35);
    const timezone = (await call('GET', '/v1/settings', undefined, 200)).timezone as string;
    await page.getByLabel('Time zone').fill(timezone);
    await page.getByRole('button', { name: 'Save settings' }).click();
    expect(await page.getByRole('table', { name: 'Changes to save' }).textContent()).toContain('schedule_horizon_days');
    await confirmIn(page, 'Change the settings', 'Save changes');
    await closeDialog(page, 'Change the settings');
    expect((await call('GET', '/v1/settings', undefined, 200)).schedule_horizon_days).toBe(42);
    await page.getByText('Settings saved.').waitFor();

    // API keys: create one (its secret once, and it works), then revoke it (it stops working).
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    await page.getByRole('table').getByText('key_bootstrap').waitFor();
    await accessible(page);
    await page.getByRole('button', { name: 'Create API key' }).click();
    const create = page.getByRole('dialog', { name: 'Create an API key' });
    await create.getByLabel(/^Name/).fill('console reporting');
    await create.getByRole('button', { name: 'Create key' }).click();
    const secretDialog = page.getByRole('dialog', { name: 'Your new API key' });
    const secret = ((await secretDialog.getByTestId('api-key-secret').textContent()) ?? '').trim();
    expect(secret.length).toBeGreaterThan(20);
    await secretDialog.getByText('This is the only time Settle shows this secret').waitFor();
    const works = await fetch(`${server.url}/v1/transactions`, { headers: { Authorization: `Bearer ${secret}` } });
    expect(works.status).toBe(200);
    await secretDialog.getByRole('button', { name: 'I have kept it' }).click();
    await secretDialog.waitFor({ state: 'hidden' });
    await closeDialog(page, 'Create an API key');
    const keys = (await call('GET', '/v1/api-keys', undefined, 200)).data as Json[];
    const made = keys.find((key) => key.name === 'console reporting')!;
    expect(made).toMatchObject({ scopes: ['read'], revoked_at: null });
    expect(JSON.stringify(keys)).not.toContain(secret);
    await page.getByTestId(`api-key-${made.id}`).getByRole('button', { name: 'Revoke' }).click();
    await confirmIn(page, 'Revoke the key console reporting', 'Revoke key');
    await closeDialog(page, 'Revoke the key console reporting');
    expect((await call('GET', `/v1/api-keys/${made.id}`, undefined, 200)).revoked_at).not.toBeNull();
    const refused = await fetch(`${server.url}/v1/transactions`, { headers: { Authorization: `Bearer ${secret}` } });
    expect(refused.status).toBe(401);

    // Users: create one with a generated password (shown once), change its role, disable it.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await page.getByTestId(`user-${user.email}`).waitFor();
    await accessible(page);
    const email = `new-${Math.random().toString(36).slice(2, 8)}@example.com`;
    await page.getByRole('button', { name: 'Create user' }).click();
    const createUser = page.getByRole('dialog', { name: 'Create a console user' });
    await createUser.getByLabel(/^Email/).fill(email);
    await createUser.getByLabel('Role').selectOption('viewer');
    await createUser.getByRole('button', { name: 'Create user' }).click();
    const passwordDialog = page.getByRole('dialog', { name: 'Generated password' });
    const password = ((await passwordDialog.getByTestId('generated-password').textContent()) ?? '').trim();
    expect(password.length).toBeGreaterThanOrEqual(12);
    await passwordDialog.getByRole('button', { name: 'I have kept it' }).click();
    await passwordDialog.waitFor({ state: 'hidden' });
    await closeDialog(page, 'Create a console user');
    const users = (await call('GET', '/v1/users', undefined, 200)).data as Json[];
    const created = users.find((u) => u.email === email)!;
    expect(created).toMatchObject({ role: 'viewer', disabled: false, must_change_password: true });

    const userRow = page.getByTestId(`user-${email}`);
    await userRow.getByRole('button', { name: 'Change role' }).click();
    const roleDialog = page.getByRole('dialog', { name: `Change the role of ${email}` });
    await roleDialog.getByLabel('New role').selectOption('operator');
    await confirmIn(page, `Change the role of ${email}`, 'Save role');
    await closeDialog(page, `Change the role of ${email}`);
    expect((await call('GET', `/v1/users/${created.id}`, undefined, 200)).role).toBe('operator');
    await userRow.getByRole('button', { name: 'Disable' }).click();
    await confirmIn(page, `Sign-in access of ${email}`, 'Disable user');
    await closeDialog(page, `Sign-in access of ${email}`);
    expect((await call('GET', `/v1/users/${created.id}`, undefined, 200)).disabled).toBe(true);
    await userRow.getByRole('button', { name: 'Enable' }).waitFor();

    // The audit trail names the signed-in user for each change.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Audit trail' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit trail' }).waitFor();
    const trail = page.getByRole('table', { name: 'Audit events, newest first' });
    const audit = (await call('GET', `/v1/audit-events?actor=${user.id}`, undefined, 200)).data as Json[];
    expect(audit.map((event) => event.action)).toEqual([
      'user.updated',
      'user.updated',
      'user.created',
      'api_key.revoked',
      'api_key.created',
      'settings.updated',
    ]);
    for (const event of audit) {
      const entry = trail.getByTestId(`audit-${event.id}`);
      await entry.getByText(user.email).waitFor();
      expect(await entry.textContent()).toContain(event.action);
    }
    const settingsRow = trail.getByTestId(`audit-${audit[5]!.id}`);
    expect(await settingsRow.textContent()).toContain('schedule_horizon_days');
    await settingsRow.getByRole('button', { name: 'Show before/after' }).click();
    expect(await page.getByLabel('After settings.updated').textContent()).toContain('"schedule_horizon_days": 42');
    await accessible(page);
    await page.getByLabel('Action', { exact: true }).selectOption('api_key.created');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => trail.getByRole('row').count()).toBe(2);

    // Gateways, read-only.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Gateways' }).click();
    await page.getByRole('heading', { level: 1, name: 'Gateways' }).waitFor();
    await page.getByText('(built-in emulator)').waitFor();
    await accessible(page);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('role limits: an operator has no Administration pages, a viewer no Run now or Replay', async () => {
    const operator = await signedIn('operator', '/console/jobs');
    await operator.page.getByRole('heading', { level: 1, name: 'Jobs' }).waitFor();
    await operator.page.getByTestId('job-totals_check').getByRole('button', { name: 'Run now' }).waitFor();
    expect(await operator.page.getByRole('navigation', { name: 'Administration' }).count()).toBe(0);
    expect(await operator.page.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await operator.page.goto(`${server.url}/console/users`);
    await operator.page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    await operator.page.goto(`${server.url}/console/webhook-events`);
    await operator.page.getByRole('link', { name: eventId }).waitFor();
    expect(await operator.page.getByRole('button', { name: 'Replay a period' }).count()).toBe(0);
    expect(operator.errors).toEqual([]);
    await operator.context.close();

    const viewer = await signedIn('viewer', '/console/jobs');
    await viewer.page.getByRole('heading', { level: 1, name: 'Jobs' }).waitFor();
    await viewer.page.getByTestId('job-totals_check').waitFor();
    expect(await viewer.page.getByRole('button', { name: 'Run now' }).count()).toBe(0);
    await viewer.page.goto(`${server.url}/console/webhook-events/${eventId}`);
    await viewer.page.getByRole('heading', { level: 1, name: `Webhook event ${eventId}` }).waitFor();
    await viewer.page.getByLabel('Webhook event payload').waitFor();
    expect(await viewer.page.getByRole('button', { name: /Replay/ }).count()).toBe(0);
    await accessible(viewer.page);
    expect(viewer.errors).toEqual([]);
    await viewer.context.close();
  });
});
