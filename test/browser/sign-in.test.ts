// Sign-in, the first user's forced password change, sign-out, and what the console's pages and headers are, in a
// real browser against `settle serve`.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type ConsoleServer,
  describeBrowser,
  expectAccessible,
  killAllChildren,
  launchBrowser,
  openConsole,
  signIn,
  signedInPage,
  startConsoleServer,
} from './support.js';

describeBrowser('console sign-in', () => {
  let server: ConsoleServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await killAllChildren();
  });

  it('serves the console at /console with its own CSP, public, and redirects / there', async () => {
    const root = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const page = await fetch(`${server.url}/console/transactions/txn_unknown`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-eval');
    // A missing built asset is a 404, not the app's HTML; a path leaving the folder is refused before routing.
    expect((await fetch(`${server.url}/console/assets/missing-0000.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/console/../package.json`)).status).not.toBe(200);
    // The data is not public: the API refuses without a session or key.
    expect((await fetch(`${server.url}/v1/transactions`)).status).toBe(401);
  });

  it('signs the first user in, requires a new password, then signs out', async () => {
    const { page, context, errors } = await openConsole(browser, server);
    await page.getByRole('heading', { name: 'Sign in to Settle' }).waitFor();
    await expectAccessible(page);

    // A wrong password is refused on the page.
    await page.getByLabel(/^Email/).fill('admin@localhost');
    await page.getByLabel(/^Password/).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('The email or the password');

    await page.getByLabel(/^Password/).fill(server.firstUserPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Choose your password' }).waitFor();
    await expectAccessible(page);
    // The session cookie is HttpOnly and SameSite=Strict; scripts cannot read it.
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === 'settle_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
    expect(await page.evaluate(() => (globalThis as any).document.cookie)).not.toContain('settle_session');

    const fresh = 'a brand new console password';
    await page.getByLabel(/^Current password/).fill(server.firstUserPassword);
    await page.getByLabel(/^New password/).fill(fresh);
    await page.getByLabel(/^Repeat the new password/).fill(fresh);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByTestId('signed-in-user').waitFor();
    expect(page.url()).toContain('/console/');

    const users = await server.api('GET', '/v1/users');
    const admin = users.body.data.find((user: { email: string }) => user.email === 'admin@localhost');
    expect(admin.must_change_password).toBe(false);

    await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Settle' }).waitFor();
    // The old cookie no longer works anywhere.
    const after = await page.evaluate(async () => (await fetch('/v1/sessions/current')).status);
    expect(after).toBe(401);

    await signIn(page, 'admin@localhost', fresh);
    await page.reload();
    await page.getByTestId('signed-in-user').waitFor();
    expect(errors.filter((error) => !error.includes('401'))).toEqual([]);
    await context.close();
  });

  it('a viewer is read-only: a write forced through the session is refused with 403', async () => {
    const { page, context } = await signedInPage(browser, server, 'viewer');
    const status = await page.evaluate(async () => {
      const res = await fetch('/v1/transactions', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-CSRF-Token': (globalThis as any).localStorage.getItem('settle.csrf') ?? '',
        },
        body: JSON.stringify({ amount: 1000, currency: 'usd', record_type: 'charge' }),
      });
      return res.status;
    });
    expect(status).toBe(403);
    await context.close();
  });
});
