// Webhook signing secrets (W1, X3). A gateway's secret comes, in this order, from:
// 1. the environment variable its record names (`webhook_secret_env`); `settle serve` names STRIPE_WEBHOOK_SECRET
//    on the default gateway when that variable is set (also when the default is the emulator);
// 2. for the emulator gateway only, the endpoint Settle registered with the emulator at start-up: the emulator
//    answers the registration with a whsec_ secret, which Settle keeps in the data directory (mode 0600, as the
//    generated admin key) with the endpoint id, and reuses on the next start while the endpoint still exists at
//    the emulator (pointing it at Settle's current URL when that changed).
// Secrets are never stored in the database, returned by the API or written to a log. A variable the record may not
// name (app/gateway-records.ts credentialEnvRefusal: not STRIPE_.../SETTLE_GATEWAY_..., or one of Settle's own settings)
// is never read: such a gateway has no secret, and its events are refused.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GatewayHostRules } from '../../domain/host-policy.js';
import type { GatewayRow } from '../../store/schema.js';
import { credentialOwner, secretFromEnv } from '../gateway-records.js';

/** The variable whose value, when set, is the default gateway's signing secret. */
export const STRIPE_WEBHOOK_SECRET_ENV = 'STRIPE_WEBHOOK_SECRET';
/** Where the emulator endpoint's id and secret are kept, in the data directory. */
export const EMULATOR_ENDPOINT_FILE = 'emulator-webhook-endpoint.json';

export type SecretResolution = { secret: string } | { missing: string };

/** Resolves a gateway's signing secret at request time (variables are read each time: a change needs no restart). */
export class WebhookSecrets {
  readonly #registered = new Map<string, string>();

  /** The secret of an endpoint Settle registered for `gatewayId` (kept in memory for this process). */
  register(gatewayId: string, secret: string): void {
    this.#registered.set(gatewayId, secret);
  }

  /** `hosts`: the operator's STRIPE_API_BASE (Deps.gatewayHosts), whose gateway may name STRIPE_WEBHOOK_SECRET. */
  resolve(
    record: Pick<GatewayRow, 'id' | 'provider' | 'api_base' | 'webhook_secret_env' | 'is_emulator' | 'is_default'>,
    hosts?: GatewayHostRules,
  ): SecretResolution {
    const fromEnv = secretFromEnv(record.webhook_secret_env, credentialOwner(record, hosts));
    if (fromEnv !== undefined) return { secret: fromEnv };
    const registered = this.#registered.get(record.id);
    if (registered !== undefined) return { secret: registered };
    return { missing: missingSecretMessage(record) };
  }
}

function missingSecretMessage(
  record: Pick<GatewayRow, 'id' | 'webhook_secret_env' | 'is_emulator' | 'is_default'>,
): string {
  const start = `Gateway ${record.id} has no webhook signing secret configured, so its events cannot be verified and are refused.`;
  if (record.webhook_secret_env !== null) {
    return `${start} Set the environment variable ${record.webhook_secret_env} of the Settle server to the endpoint's signing secret (whsec_...).`;
  }
  if (record.is_emulator) {
    return `${start} Settle registers its endpoint with the emulator when \`settle serve\` starts (see the start-up log), or set ${STRIPE_WEBHOOK_SECRET_ENV}.`;
  }
  const hint = record.is_default ? `set ${STRIPE_WEBHOOK_SECRET_ENV} and restart, or ` : '';
  return `${start} To fix: ${hint}name the environment variable holding it with PATCH /v1/gateways/${record.id} {"webhook_secret_env": "..."} and set that variable for the Settle server.`;
}

// ---- registration with the emulator ---------------------------------------------------------------------------

/** The port Settle needs from a Stripe-compatible API to register its endpoint (gateway-adapters/stripe/webhook-endpoints.ts). */
export interface WebhookEndpointApi {
  create(url: string, description: string): Promise<{ id: string; url: string; secret: string }>;
  /** undefined when the endpoint does not exist (any more). */
  retrieve(id: string): Promise<{ id: string; url: string; status: string } | undefined>;
  /** Points the endpoint at `url` and enables it (its secret is unchanged). */
  update(id: string, url: string): Promise<void>;
}

interface KeptEndpoint {
  gateway_id: string;
  api_base: string | null;
  url: string;
  endpoint_id: string;
  secret: string;
  registered_at: string;
}

/** The intake URL of a gateway under Settle's base URL. */
export function intakeUrl(baseUrl: string, gatewayId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/webhooks/${gatewayId}`;
}

function readKept(file: string): KeptEndpoint | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<KeptEndpoint>;
    const strings = [value.gateway_id, value.url, value.endpoint_id, value.secret].every(
      (v) => typeof v === 'string' && v !== '',
    );
    return strings ? (value as KeptEndpoint) : undefined;
  } catch {
    return undefined; // unreadable: register again
  }
}

function writeKept(file: string, kept: KeptEndpoint): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(kept, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

export interface EmulatorRegistration {
  endpointId: string;
  url: string;
  /** registered: a new endpoint; reused: the kept one as it was; updated: the kept one, pointed at the new URL. */
  how: 'registered' | 'reused' | 'updated';
  file: string;
}

/**
 * Registers `<baseUrl>/v1/webhooks/<gateway id>` with the emulator for every event type, or reuses the endpoint
 * kept in `<dataDir>/emulator-webhook-endpoint.json` while it still exists at the emulator. A kept endpoint whose
 * URL is no longer Settle's (another port, another gateway id) or that was disabled is updated rather than left
 * behind: one endpoint per data directory, so the emulator never keeps delivering to an address nobody serves.
 * The secret goes into `secrets` and the file (mode 0600), nowhere else.
 */
export async function registerEmulatorEndpoint(options: {
  record: Pick<GatewayRow, 'id' | 'api_base'>;
  baseUrl: string;
  dataDir: string;
  api: WebhookEndpointApi;
  secrets: WebhookSecrets;
  now: Date;
}): Promise<EmulatorRegistration> {
  const { record, api, secrets } = options;
  const url = intakeUrl(options.baseUrl, record.id);
  const file = path.join(options.dataDir, EMULATOR_ENDPOINT_FILE);
  const kept = readKept(file);
  const existing = kept ? await api.retrieve(kept.endpoint_id) : undefined;
  if (kept && existing) {
    const current = existing.url === url && existing.status === 'enabled';
    if (!current) {
      await api.update(kept.endpoint_id, url);
      writeKept(file, { ...kept, gateway_id: record.id, api_base: record.api_base, url });
    }
    secrets.register(record.id, kept.secret);
    return { endpointId: kept.endpoint_id, url, how: current ? 'reused' : 'updated', file };
  }
  const created = await api.create(url, 'Settle webhook intake (registered by settle serve)');
  writeKept(file, {
    gateway_id: record.id,
    api_base: record.api_base,
    url,
    endpoint_id: created.id,
    secret: created.secret,
    registered_at: options.now.toISOString(),
  });
  secrets.register(record.id, created.secret);
  return { endpointId: created.id, url, how: 'registered', file };
}

/**
 * Start-up (`settle serve`, once it listens): makes sure the default gateway can verify its events, and says how
 * in one line for the banner (never the secret). Registration failures are reported, not thrown: Settle serves
 * anyway and refuses that gateway's events (503) until a secret is configured.
 */
export async function setUpWebhookSecret(options: {
  record: GatewayRow;
  baseUrl: string;
  dataDir: string;
  secrets: WebhookSecrets;
  api: () => WebhookEndpointApi;
  now: Date;
  /** Deps.gatewayHosts: the operator's STRIPE_API_BASE, whose gateway may name STRIPE_WEBHOOK_SECRET. */
  hosts?: GatewayHostRules;
}): Promise<{ description: string; ok: boolean }> {
  const { record } = options;
  if (secretFromEnv(record.webhook_secret_env, credentialOwner(record, options.hosts)) !== undefined) {
    return { description: `signing secret from ${record.webhook_secret_env}`, ok: true };
  }
  if (!record.is_emulator) {
    return { description: missingSecretMessage(record), ok: false };
  }
  try {
    const registration = await registerEmulatorEndpoint({ ...options, api: options.api() });
    const { endpointId, how, url, file } = registration;
    return {
      description: `endpoint ${endpointId} ${how} with the emulator for ${url} (secret kept in ${file})`,
      ok: true,
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      description: `could not register with the emulator (${reason}); its events are refused until a secret is configured (${STRIPE_WEBHOOK_SECRET_ENV})`,
      ok: false,
    };
  }
}
