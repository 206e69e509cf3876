// The default gateway a `settle serve` starts with:
// - STRIPE_SECRET_KEY set: real Stripe (test or live by the key), optionally at STRIPE_API_BASE (test keys only:
//   a live gateway always talks to Stripe, so a live key with STRIPE_API_BASE is refused at startup);
// - else STRIPE_API_BASE set: a separately running emulator (how several Settle processes share one);
// - else: the offline Stripe emulator in this process on a free port, its state kept in the data
//   directory so that a restart loses nothing.
import path from 'node:path';
import { ensureDefaultEmulatorGateway, ensureDefaultStripeGateway, stripeModeOfKey } from '../app/gateway-records.js';
import { STRIPE_WEBHOOK_SECRET_ENV } from '../app/webhooks/secrets.js';
import type { Deps } from '../app/deps.js';
import type { Config } from '../config.js';
import type { GatewayRow } from '../store/schema.js';
import { startEmulator } from '@settle/stripe-emulator';

export interface DefaultGateway {
  record: GatewayRow;
  /** One line for the startup banner. */
  description: string;
  close(): Promise<void>;
}

export async function setUpDefaultGateway(
  config: Pick<Config, 'stripeSecretKey' | 'stripeApiBase' | 'emulatorPort' | 'dataDir'> &
    Partial<Pick<Config, 'stripeWebhookSecret'>>,
  deps: Pick<Deps, 'db' | 'clock'>,
): Promise<DefaultGateway> {
  // STRIPE_WEBHOOK_SECRET set: the default gateway's record names it as its webhook secret's variable.
  const webhookSecretEnv = config.stripeWebhookSecret ? STRIPE_WEBHOOK_SECRET_ENV : undefined;
  if (config.stripeSecretKey) {
    if (config.stripeApiBase && stripeModeOfKey(config.stripeSecretKey) === 'live') {
      throw new Error(
        'STRIPE_API_BASE cannot be used with a live Stripe key (sk_live_/rk_live_): a live-mode gateway always talks to Stripe itself. Unset STRIPE_API_BASE, or use a test key (sk_test_...) with an emulator.',
      );
    }
    const record = await ensureDefaultStripeGateway(deps, {
      secretKeyEnv: 'STRIPE_SECRET_KEY',
      apiBase: config.stripeApiBase ?? null,
      webhookSecretEnv,
    });
    const where = config.stripeApiBase ? ` at ${config.stripeApiBase}` : '';
    return {
      record,
      description: `Stripe, ${record.mode} mode${where} (key from STRIPE_SECRET_KEY)`,
      close: async () => {},
    };
  }
  if (config.stripeApiBase) {
    const record = await ensureDefaultEmulatorGateway(deps, { apiBase: config.stripeApiBase, webhookSecretEnv });
    return {
      record,
      description: `Stripe emulator at ${config.stripeApiBase} (STRIPE_API_BASE)`,
      close: async () => {},
    };
  }
  const stateFile = path.join(config.dataDir, 'stripe-emulator.json');
  const emulator = await startEmulator({ port: config.emulatorPort, stateFile });
  try {
    const record = await ensureDefaultEmulatorGateway(deps, { apiBase: emulator.url, webhookSecretEnv });
    return {
      record,
      description: `offline Stripe emulator at ${emulator.url} (test mode; state in ${stateFile})`,
      close: () => emulator.close(),
    };
  } catch (error) {
    await emulator.close();
    throw error;
  }
}
