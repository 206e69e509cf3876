// Paging through `balance_transactions?payout=` (payouts.ts keeps each automatic payout's member list; routes.ts
// pages it by its cursor without scanning every balance transaction): the pages, one after the other, give exactly
// the unpaged list, newest first, with has_more true until the last page.
import { describe, expect, it } from 'vitest';
import { DAY, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

describe('a payout listed page by page', () => {
  it('gives the same balance transactions as one page, in the same order, whatever the page size', async () => {
    for (let i = 0; i < 12; i += 1) {
      await stripe().paymentIntents.create({
        amount: 1000 + i,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      });
    }
    emulator().controls.advanceClock(3 * DAY); // available, and a UTC midnight passed: the payout is made
    const [payout] = (await stripe().payouts.list()).data;
    const all = (await stripe().balanceTransactions.list({ payout: payout!.id, limit: 100 })).data.map((b) => b.id);
    expect(all).toHaveLength(13); // 12 charges and the payout's own
    for (const limit of [1, 5, 12, 13]) {
      const paged: string[] = [];
      const hasMore: boolean[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await stripe().balanceTransactions.list({
          payout: payout!.id,
          limit,
          ...(after === undefined ? {} : { starting_after: after }),
        });
        paged.push(...page.data.map((b) => b.id));
        hasMore.push(page.has_more);
        if (!page.has_more) break;
        after = page.data.at(-1)!.id;
      }
      expect(paged).toEqual(all);
      expect(hasMore.at(-1)).toBe(false);
      expect(hasMore.slice(0, -1).every((m) => m)).toBe(true);
    }
    // A cursor that is not in the payout is refused as before.
    await expect(
      stripe().balanceTransactions.list({ payout: payout!.id, starting_after: 'txn_not_here' }),
    ).rejects.toMatchObject({ code: 'resource_missing' });
  });
});
