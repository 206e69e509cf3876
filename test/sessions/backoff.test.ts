// The sign-in back-off (X3): 5 failures for an email within 15 minutes are free; then each attempt waits 2^n seconds
// after the latest failure (n = failures beyond 4), at most 15 minutes; inside the wait 429 sign_in_throttled with
// Retry-After, without the password being checked. A success clears the email's failures; failures older than 15
// minutes are forgotten. All dated by the harness's fake clock.
import { expect, it } from 'vitest';
import { backOffMs } from '../../src/app/sessions.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { insertUser, PASSWORD } from './support.js';

const attempt = (h: Harness, email: string, password: string) =>
  h.request('POST', '/v1/sessions', { email, password }, {}, null);

async function failures(h: Harness, email: string): Promise<number> {
  const row = await h.deps.db
    .selectFrom('sign_in_failures')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('email', '=', email)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function recordFailures(h: Harness, email: string, count: number, at: Date): Promise<void> {
  await h.deps.db
    .insertInto('sign_in_failures')
    .values(Array.from({ length: count }, () => ({ email, at })))
    .execute();
}

it('waits 2^n seconds for n failures beyond 4, at most 15 minutes', () => {
  expect([0, 1, 4, 5, 6, 7, 8, 13, 14, 40].map(backOffMs)).toEqual([
    0, 0, 0, 2000, 4000, 8000, 16000, 512_000, 900_000, 900_000,
  ]);
});

describeEachDatabase('sign-in back-off', (get) => {
  it('5 failures are free; the 6th waits 2 s after the 5th (429 with Retry-After inside), the 7th 4 s; the password is not checked inside the wait', async () => {
    const h = get();
    await insertUser(h, 'ann@example.com', 'operator');
    for (let i = 0; i < 5; i += 1) {
      expect((await attempt(h, i % 2 === 0 ? 'ann@example.com' : 'ANN@Example.com', 'wrong password!')).status).toBe(
        401,
      );
      h.clock.advance(100);
    }
    // The 5th failure was 100 ms ago: 1.9 s left.
    const sixth = await attempt(h, 'ann@example.com', PASSWORD);
    expect(sixth.status).toBe(429);
    expect(sixth.body.error).toMatchObject({ type: 'rate_limit_error', code: 'sign_in_throttled' });
    expect(sixth.headers['retry-after']).toBe('2');
    expect(sixth.headers['set-cookie']).toBeUndefined();
    h.clock.advance(1_899);
    const stillWaiting = await attempt(h, 'ann@example.com', 'wrong password!');
    expect(stillWaiting.status).toBe(429);
    expect(stillWaiting.headers['retry-after']).toBe('1');
    // Refused attempts are not failures.
    expect(await failures(h, 'ann@example.com')).toBe(5);

    h.clock.advance(1);
    expect((await attempt(h, 'ann@example.com', 'wrong password!')).status).toBe(401);
    expect(await failures(h, 'ann@example.com')).toBe(6);
    const seventh = await attempt(h, 'ann@example.com', PASSWORD);
    expect(seventh.status).toBe(429);
    expect(seventh.headers['retry-after']).toBe('4');
    h.clock.advance(3_999);
    expect((await attempt(h, 'ann@example.com', PASSWORD)).status).toBe(429);
    h.clock.advance(1);
    // A success after the wait: it signs in and clears the failures, so the next failures are free again.
    expect((await attempt(h, 'ann@example.com', PASSWORD)).status).toBe(201);
    expect(await failures(h, 'ann@example.com')).toBe(0);
    expect((await attempt(h, 'ann@example.com', 'wrong password!')).status).toBe(401);
    expect((await attempt(h, 'ann@example.com', 'wrong password!')).status).toBe(401);
  }, 120_000); // a dozen scrypt checks of about half a second each

  it('the wait is capped at 15 minutes', async () => {
    const h = get();
    await recordFailures(h, 'cap@example.com', 30, new Date(h.clock.now().getTime() - 1000));
    const capped = await attempt(h, 'cap@example.com', 'wrong password!');
    expect(capped.status).toBe(429);
    expect(capped.headers['retry-after']).toBe('899');
    h.clock.advance(899_000);
    expect((await attempt(h, 'cap@example.com', 'wrong password!')).status).toBe(401);
  });

  it('failures older than 15 minutes are forgotten; an unknown email is throttled like a known one', async () => {
    const h = get();
    const now = h.clock.now().getTime();
    // 9 failures exactly 15 minutes old (forgotten) and one a second ago: 1 failure counts, no wait.
    await recordFailures(h, 'old@example.com', 9, new Date(now - 15 * 60_000));
    await recordFailures(h, 'old@example.com', 1, new Date(now - 1000));
    expect((await attempt(h, 'old@example.com', 'wrong password!')).status).toBe(401);
    // 9 failures 1 ms younger than that still count: 10 failures, the next waits 2^6 s after the latest.
    await recordFailures(h, 'recent@example.com', 9, new Date(now - 15 * 60_000 + 1));
    await recordFailures(h, 'recent@example.com', 1, new Date(now - 1000));
    const recent = await attempt(h, 'recent@example.com', 'wrong password!');
    expect(recent.status).toBe(429);
    expect(recent.headers['retry-after']).toBe('63');
  });

  it('failures an hour old are deleted by a later attempt', async () => {
    const h = get();
    await recordFailures(h, 'stale@example.com', 3, new Date(h.clock.now().getTime() - 61 * 60_000));
    expect(await failures(h, 'stale@example.com')).toBe(3);
    expect((await attempt(h, 'someone@example.com', 'wrong password!')).status).toBe(401);
    expect(await failures(h, 'stale@example.com')).toBe(0);
  });
});
