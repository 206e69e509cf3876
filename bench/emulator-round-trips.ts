// Benchmark `emulator-round-trips`: how many requests per second the Stripe emulator answers through the
// official SDK, so that later benchmarks know how much of their time is the emulator. Two operations:
// a PaymentIntent created and confirmed at once with pm_card_visa (capture_method automatic: the PI, its
// charge and balance transaction are made), and a retrieve of one with its latest charge expanded.
// The emulator runs in this process, as `npm start` runs it; the database column reads "emulator".
import Stripe from 'stripe';
import { startEmulator } from '@settle/stripe-emulator';
import { type Benchmark, type BenchRow, type OperationResult, runLoad, toRow, withCpuProfile } from './harness.js';

const BASE_OPERATIONS = 2000;
const CONCURRENCIES = [1, 8] as const;

type Operation = 'create-confirm' | 'retrieve';

export const emulatorRoundTrips: Benchmark = {
  name: 'emulator-round-trips',
  description: 'Stripe emulator requests per second through the stripe SDK: PaymentIntent create+confirm, and retrieve',
  async run(context) {
    const operations = Math.max(1, Math.round(BASE_OPERATIONS * context.scale));
    const rows: BenchRow[] = [];
    const emulator = await startEmulator({ port: 0 });
    try {
      const stripe = new Stripe('sk_test_bench', {
        host: '127.0.0.1',
        port: emulator.port,
        protocol: 'http',
        maxNetworkRetries: 0,
      });
      const created: string[] = [];
      const createOne = async (index: number): Promise<OperationResult> => {
        const pi = await stripe.paymentIntents.create(
          {
            amount: 1000 + (index % 9000),
            currency: 'usd',
            payment_method: 'pm_card_visa',
            confirm: true,
            automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
            capture_method: 'automatic',
            metadata: { settle_transaction_id: `trx_bench_${index}` },
          },
          { idempotencyKey: `bench-${Date.now().toString(36)}-${index}` },
        );
        if (pi.status !== 'succeeded') return `status ${pi.status}`;
        created.push(pi.id);
        return true;
      };
      const retrieveOne = async (index: number): Promise<OperationResult> => {
        const id = created[index % created.length];
        if (!id) return 'nothing to retrieve';
        const pi = await stripe.paymentIntents.retrieve(id, { expand: ['latest_charge.balance_transaction'] });
        return pi.id === id ? true : 'wrong object';
      };
      for (const operation of ['create-confirm', 'retrieve'] as Operation[]) {
        for (const concurrency of CONCURRENCIES) {
          context.log(
            `emulator-round-trips: ${operation}, ${concurrency} caller(s), ${context.warmup} warm-up + ${operations} measured requests...`,
          );
          const run = operation === 'create-confirm' ? createOne : retrieveOne;
          await runLoad(context.warmup, concurrency, run);
          const measured = await withCpuProfile(`emulator-${operation}-c${concurrency}`, () =>
            runLoad(operations, concurrency, run),
          );
          rows.push(
            toRow(
              { benchmark: `emulator-${operation}`, database: 'emulator (in-process)', concurrency, pool_size: null },
              measured,
              // No Settle gateway here: the SDK calls the emulator directly, so neither of Settle's limits applies.
              [
                "gateway limits: none (the SDK calls the emulator directly, no Settle gateway); the emulator's own 429s off",
              ],
            ),
          );
        }
      }
    } finally {
      await emulator.close();
    }
    return rows;
  },
};
