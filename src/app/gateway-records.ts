// Gateway records (G1): the payment gateways Settle talks to, each with a provider, a mode (test/live), a
// settlement currency and a request-rate limit (G5), and at most one default. Credentials are held by
// reference only (X3): a record names the environment variables that hold its API key and webhook secret,
// and neither the API nor the logs ever show their values; a response says whether they are set.
//
// Where secrets may come from and go to (the credential rules): a record may name only variables called
// STRIPE_... or SETTLE_GATEWAY_..., never one Settle reads for its own configuration (config.ts SETTLE_ENV_VARS),
// except STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET for a gateway that talks to Stripe itself (no api_base), the
// built-in emulator gateway, or the gateway startup configures from STRIPE_SECRET_KEY and STRIPE_API_BASE (the
// operator's own choice; an admin cannot make that pairing through the API). An api_base is for test mode only
// and must name loopback or a host listed in SETTLE_GATEWAY_API_BASE_ALLOW (domain/host-policy.ts). Records made
// before these rules are checked again when used (credentialEnvRefusal, gatewayUseProblem), and the HTTP client
// checks every address it connects to (gateway-adapters/host-policy.ts).
//
// Every write takes one transaction-scoped advisory lock first, so changes of the default (clear the flag
// on the others, set it on one) never interleave: under any number of concurrent requests exactly one
// gateway ends up default, and the unique index `gateways_one_default` can never be hit by a race.
import { SETTLE_ENV_VARS } from '../config.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { mergeMetadata, parseMetadata, parseText } from '../domain/fields.js';
import { apiBaseHostRefusal, type GatewayHostRules, isOperatorApiBase, NO_EXTRA_HOSTS } from '../domain/host-policy.js';
import { parseCurrency } from '../domain/money.js';
import {
  clearOtherDefaults,
  compareAndSetGateway,
  findDefaultGateway,
  findEmulatorGateway,
  findGateway,
  findStripeGateway,
  type GatewayChanges,
  insertGatewayRow,
  listGatewayRows,
  lockGateways,
  makeDefault,
  type NewGatewayFields,
  updateGatewayFields,
} from '../store/gateway-records-repo.js';
import type { Db, GatewayRow, Tx } from '../store/schema.js';
import { iso, optional, requireChanges, retryOnRace } from './customers.js';
import type { Deps, RequestContext } from './deps.js';
import { auditActor, auditGatewayChanges, snapshotGateways, SYSTEM_ACTOR } from './audit.js';
import { newId } from './ids.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';

export const GATEWAY_PROVIDERS = ['stripe', 'spreedly'] as const;
export const GATEWAY_MODES = ['test', 'live'] as const;
export type GatewayProvider = (typeof GATEWAY_PROVIDERS)[number];
export type GatewayMode = (typeof GATEWAY_MODES)[number];
export type { GatewayRow };

/** Stripe's global limits (docs/STRIPE.md, "Rate limits"): 25 requests/s in test mode, 100 in live mode. */
export const DEFAULT_RATE_LIMITS: Readonly<Record<GatewayMode, number>> = { test: 25, live: 100 };
export const RATE_LIMIT_MAX = 10_000;
/** Stripe's limit per endpoint "unless otherwise stated" (docs.stripe.com/rate-limits); 0 turns Settle's off. */
export const DEFAULT_ENDPOINT_RATE_LIMIT = 25;
export const DEFAULT_SETTLEMENT_CURRENCY = 'USD';
/** The built-in emulator gateway's name (it is found by is_emulator, of which there is at most one). */
export const EMULATOR_GATEWAY_NAME = 'Stripe emulator';
/** The name of the gateway ensureDefaultStripeGateway() finds or creates for a mode. */
export const stripeGatewayName = (mode: GatewayMode): string => `Stripe ${mode}`;

export const ENV_VAR_NAME_PATTERN = '^[A-Z_][A-Z0-9_]{0,127}$';
const ENV_VAR_NAME = new RegExp(ENV_VAR_NAME_PATTERN);
/** The only variables a gateway's secret may come from: nothing else in the server's environment. */
export const GATEWAY_SECRET_ENV_PATTERN = '^(STRIPE|SETTLE_GATEWAY)_[A-Z0-9_]+$';
const GATEWAY_SECRET_ENV = new RegExp(GATEWAY_SECRET_ENV_PATTERN);
/** Settle's own configuration variables that a gateway may still name, under the rule in credentialEnvRefusal. */
export const STRIPE_CREDENTIAL_ENV_VARS: readonly string[] = ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'];
const LOOKS_LIKE_SECRET = /^(sk|rk|pk|whsec)_/i;

export interface GatewayView {
  id: string;
  object: 'gateway';
  name: string;
  provider: GatewayProvider;
  mode: GatewayMode;
  is_default: boolean;
  settlement_currency: string;
  rate_limit_per_second: number;
  endpoint_rate_limit_per_second: number;
  secret_key_env: string | null;
  webhook_secret_env: string | null;
  /** Whether the API key's environment variable is set in this process (the value is never shown). */
  credentials_configured: boolean;
  webhook_secret_configured: boolean;
  /** Connect (M6): the variable holding the Connect endpoint's signing secret, and whether it is set. */
  connect_webhook_secret_env: string | null;
  connect_webhook_secret_configured: boolean;
  api_base: string | null;
  is_emulator: boolean;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
}

/** What decides which variables a gateway may name: where its requests go, and who configured that. */
export interface CredentialOwner {
  provider: string;
  api_base: string | null;
  is_emulator: boolean;
  /**
   * Its api_base is the operator's STRIPE_API_BASE, set at startup from the environment (ensureDefaultStripeGateway,
   * or a stored record whose api_base equals it): the operator's own configuration, not an admin's choice.
   */
  operator_configured?: boolean;
}

/** Without a record to judge by: as strict as for a gateway an admin pointed elsewhere. */
const UNKNOWN_OWNER: CredentialOwner = { provider: 'stripe', api_base: '(unknown)', is_emulator: false };

/** A stored record as a CredentialOwner, with the operator's STRIPE_API_BASE from `rules`. */
export function credentialOwner(
  row: Pick<GatewayRow, 'provider' | 'api_base' | 'is_emulator'>,
  rules: GatewayHostRules = NO_EXTRA_HOSTS,
): CredentialOwner {
  return {
    provider: row.provider,
    api_base: row.api_base,
    is_emulator: row.is_emulator,
    operator_configured: isOperatorApiBase(rules, row.api_base),
  };
}

/**
 * The value of the environment variable `name` (a gateway's secret), or undefined when unset, empty, or not a
 * variable this gateway may name (credentialEnvRefusal): a record made before the rules, naming DATABASE_URL or
 * PATH, gets nothing, so its value can never be sent anywhere.
 */
export function secretFromEnv(name: string | null, owner: CredentialOwner = UNKNOWN_OWNER): string | undefined {
  if (name === null || credentialEnvRefusal(name, 'secret_key_env', owner) !== null) return undefined;
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** A variable that is not named needs no value (the built-in emulator accepts any test key). */
const configured = (row: GatewayRow, name: string | null, owner: CredentialOwner) =>
  name === null ? row.is_emulator : secretFromEnv(name, owner) !== undefined;

export function presentGateway(row: GatewayRow, rules: GatewayHostRules = NO_EXTRA_HOSTS): GatewayView {
  const { version: _version, created_at, updated_at, ...fields } = row;
  const owner = credentialOwner(row, rules);
  return {
    ...fields,
    object: 'gateway',
    credentials_configured: configured(row, row.secret_key_env, owner),
    webhook_secret_configured: configured(row, row.webhook_secret_env, owner),
    // No value is needed for a variable that is not named only where it is optional: a Connect secret always is.
    connect_webhook_secret_configured:
      row.connect_webhook_secret_env !== null && secretFromEnv(row.connect_webhook_secret_env, owner) !== undefined,
    created_at: iso(created_at),
    updated_at: iso(updated_at),
  };
}

// ---- field rules ---------------------------------------------------------------------------------------------

function parseChoice<T extends string>(values: readonly T[], value: unknown, field: string): T {
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    throw new ValidationError('parameter_invalid_value', `${field} must be one of: ${values.join(', ')}.`, field);
  }
  return value as T;
}

/**
 * The NAME of an environment variable a gateway's secret may come from: STRIPE_... or SETTLE_GATEWAY_... (whether
 * this gateway may name one of Settle's own variables is credentialEnvRefusal's question). The value given is
 * never echoed: it may be the secret itself.
 */
export function parseEnvVarName(value: unknown, field: string): string {
  if (typeof value === 'string' && ENV_VAR_NAME.test(value)) {
    if (GATEWAY_SECRET_ENV.test(value)) return value;
    throw new ValidationError(
      'env_var_not_allowed',
      `${field} must name a variable whose name starts with STRIPE_ or SETTLE_GATEWAY_ and goes on with upper-case letters, digits or _ (e.g. SETTLE_GATEWAY_EU_KEY); Settle reads gateway secrets from no other variable of its environment.`,
      field,
    );
  }
  if (typeof value === 'string' && LOOKS_LIKE_SECRET.test(value)) {
    throw new ValidationError(
      'secret_value_not_accepted',
      `${field} takes the NAME of the environment variable that holds the secret (e.g. STRIPE_SECRET_KEY), never the secret itself; Settle does not store secrets.`,
      field,
    );
  }
  throw new ValidationError(
    'invalid_env_var_name',
    `${field} must be the name of an environment variable: upper-case letters, digits and _, not starting with a digit, at most 128 characters (e.g. STRIPE_SECRET_KEY).`,
    field,
  );
}

/**
 * Why `name` may not be this gateway's secret variable, or null when it may: the name rules (parseEnvVarName), then
 * Settle's own configuration variables, of which only STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET may be named, and
 * only by a Stripe gateway without api_base (it talks to Stripe itself), the built-in emulator gateway, or the
 * gateway the operator pointed at STRIPE_API_BASE. The name given is echoed only when it is one of Settle's own.
 */
export function credentialEnvRefusal(name: string, field: string, owner: CredentialOwner): ValidationError | null {
  try {
    parseEnvVarName(name, field);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  if (!(SETTLE_ENV_VARS as readonly string[]).includes(name)) return null;
  if (!STRIPE_CREDENTIAL_ENV_VARS.includes(name)) {
    return new ValidationError(
      'env_var_reserved',
      `${field}: ${name} is one of Settle's own configuration variables, which a gateway cannot name.`,
      field,
    );
  }
  const talksToStripe = owner.provider === 'stripe' && owner.api_base === null;
  if (talksToStripe || owner.is_emulator || owner.operator_configured === true) return null;
  return new ValidationError(
    'env_var_reserved_for_stripe',
    `${field}: ${name} may be named only by a Stripe gateway without api_base (it talks to Stripe itself) or by the built-in emulator gateway; give this gateway's secret its own variable (e.g. SETTLE_GATEWAY_EU_KEY).`,
    field,
  );
}

/** Throws the refusal of credentialEnvRefusal, if any. */
function checkCredentialEnv(name: string | null | undefined, field: string, owner: CredentialOwner): void {
  if (name === null || name === undefined) return;
  const refusal = credentialEnvRefusal(name, field, owner);
  if (refusal) throw refusal;
}

/** An http(s) origin such as http://127.0.0.1:12111 (no credentials, path, query or fragment); returned normalised. */
export function parseApiBase(value: unknown, field = 'api_base'): string {
  const invalid = () =>
    new ValidationError(
      'invalid_api_base',
      `${field} must be an http or https URL of a host and optional port, such as https://api.stripe.com or http://127.0.0.1:12111.`,
      field,
    );
  if (typeof value !== 'string' || value.length > 2048) throw invalid();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid();
  }
  const bare =
    url.username === '' &&
    url.password === '' &&
    (url.pathname === '/' || url.pathname === '') &&
    url.search === '' &&
    url.hash === '';
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !bare || url.hostname === '') throw invalid();
  return url.origin;
}

/** A per-endpoint limit: 0 (off) to RATE_LIMIT_MAX requests per second. */
export function parseEndpointRateLimit(value: unknown, field = 'endpoint_rate_limit_per_second'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > RATE_LIMIT_MAX) {
    throw new ValidationError(
      'invalid_rate_limit',
      `${field} must be a whole number of requests per second from 0 (off) to ${RATE_LIMIT_MAX}.`,
      field,
    );
  }
  return value;
}

export function parseRateLimit(value: unknown, field = 'rate_limit_per_second'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > RATE_LIMIT_MAX) {
    throw new ValidationError(
      'invalid_rate_limit',
      `${field} must be a whole number of requests per second from 1 to ${RATE_LIMIT_MAX}.`,
      field,
    );
  }
  return value;
}

/** A live-mode gateway always talks to the provider itself: api_base is for test mode (an emulator). */
function checkLiveApiBase(mode: GatewayMode, apiBase: string | null): void {
  if (mode === 'live' && apiBase !== null) {
    throw new ValidationError(
      'live_api_base_not_allowed',
      'A live-mode gateway always talks to the provider itself: api_base must be null (it is for test mode, an emulator for example).',
      'api_base',
    );
  }
}

/** An api_base an admin gives must name loopback or a host the operator listed (never link-local or metadata). */
function checkApiBaseHost(apiBase: string | null | undefined, rules: GatewayHostRules): void {
  if (apiBase === null || apiBase === undefined) return;
  const refusal = apiBaseHostRefusal(new URL(apiBase).hostname, rules.apiBaseAllow);
  if (refusal) throw new ValidationError(refusal.code, `api_base: ${refusal.message}`, 'api_base');
}

/**
 * PATCH: the variables as they will be, against the record as it will be, when a name or the api_base changes (a
 * name left as it was is not a new choice). The 400 names the field that changed: the variable's, or api_base
 * when a new api_base no longer suits a variable the record keeps naming.
 */
function checkCredentialChanges(
  current: GatewayRow,
  changes: {
    secret_key_env?: string | undefined;
    webhook_secret_env?: string | null | undefined;
    connect_webhook_secret_env?: string | null | undefined;
    api_base?: string | null | undefined;
  },
): void {
  const apiBaseChanged = changes.api_base !== undefined && changes.api_base !== current.api_base;
  const owner: CredentialOwner = {
    provider: current.provider,
    api_base: apiBaseChanged ? (changes.api_base ?? null) : current.api_base,
    is_emulator: current.is_emulator,
  };
  for (const field of ['secret_key_env', 'webhook_secret_env', 'connect_webhook_secret_env'] as const) {
    const given = changes[field];
    const nameChanged = given !== undefined && given !== current[field];
    const name = given === undefined ? current[field] : given;
    if ((!nameChanged && !apiBaseChanged) || name === null) continue;
    const refusal = credentialEnvRefusal(name, field, owner);
    if (refusal) throw new ValidationError(refusal.code, refusal.message, nameChanged ? field : 'api_base');
  }
}

const parseName = (value: string) => parseText(value, 'name', 200);
const envName = (field: string) => (value: string) => parseEnvVarName(value, field);

// ---- storage (SQL in store/gateway-records-repo.ts) ------------------------------------------------------------

async function insertGateway(trx: Tx, values: NewGatewayFields, isDefault: boolean, now: Date): Promise<string> {
  const id = newId('gateway', now.getTime());
  if (isDefault) await clearOtherDefaults(trx, id, now);
  await insertGatewayRow(trx, id, values, isDefault, now);
  return id;
}

async function requireRow(db: Db | Tx, id: string, param?: string): Promise<GatewayRow> {
  const row = await findGateway(db, id);
  if (!row) throw new NotFoundError('gateway', id, param);
  return row;
}

// ---- use cases -----------------------------------------------------------------------------------------------

export interface CreateGatewayInput {
  name: string;
  provider: GatewayProvider;
  mode?: GatewayMode;
  is_default?: boolean;
  settlement_currency: string;
  rate_limit_per_second?: number;
  endpoint_rate_limit_per_second?: number;
  secret_key_env: string;
  webhook_secret_env?: string | null;
  /** Connect (M6): the NAME of the variable holding the Connect webhook endpoint's signing secret. */
  connect_webhook_secret_env?: string | null;
  api_base?: string | null;
  metadata?: Record<string, unknown>;
}

export interface UpdateGatewayInput {
  name?: string;
  is_default?: boolean;
  settlement_currency?: string;
  rate_limit_per_second?: number;
  endpoint_rate_limit_per_second?: number;
  secret_key_env?: string;
  webhook_secret_env?: string | null;
  connect_webhook_secret_env?: string | null;
  api_base?: string | null;
  metadata?: Record<string, unknown>;
  /** Immutable: giving either is a 400 naming it. */
  provider?: unknown;
  mode?: unknown;
}

/** POST /v1/gateways (admin). The secret's variable may be unset: the record is kept, credentials_configured false. */
export async function createGateway(deps: Deps, ctx: RequestContext, input: CreateGatewayInput) {
  const mode = input.mode === undefined ? 'test' : parseChoice(GATEWAY_MODES, input.mode, 'mode');
  const values: NewGatewayFields = {
    name: parseName(input.name),
    provider: parseChoice(GATEWAY_PROVIDERS, input.provider, 'provider'),
    mode,
    settlement_currency: parseCurrency(input.settlement_currency, 'settlement_currency'),
    rate_limit_per_second:
      input.rate_limit_per_second === undefined
        ? DEFAULT_RATE_LIMITS[mode]
        : parseRateLimit(input.rate_limit_per_second),
    endpoint_rate_limit_per_second:
      input.endpoint_rate_limit_per_second === undefined
        ? DEFAULT_ENDPOINT_RATE_LIMIT
        : parseEndpointRateLimit(input.endpoint_rate_limit_per_second),
    secret_key_env: parseEnvVarName(input.secret_key_env, 'secret_key_env'),
    webhook_secret_env: optional(input.webhook_secret_env, envName('webhook_secret_env')) ?? null,
    connect_webhook_secret_env:
      optional(input.connect_webhook_secret_env, envName('connect_webhook_secret_env')) ?? null,
    api_base: optional(input.api_base, (v) => parseApiBase(v)) ?? null,
    is_emulator: false,
    metadata: JSON.stringify(input.metadata === undefined ? {} : parseMetadata(input.metadata, 'metadata', false)),
  };
  checkLiveApiBase(mode, values.api_base);
  checkApiBaseHost(values.api_base, deps.gatewayHosts);
  // Through the API, never the operator's pairing (operator_configured): STRIPE_SECRET_KEY goes with no api_base only.
  const owner: CredentialOwner = { provider: values.provider, api_base: values.api_base, is_emulator: false };
  checkCredentialEnv(values.secret_key_env, 'secret_key_env', owner);
  checkCredentialEnv(values.webhook_secret_env, 'webhook_secret_env', owner);
  checkCredentialEnv(values.connect_webhook_secret_env, 'connect_webhook_secret_env', owner);
  return deps.commands.run<GatewayView>(ctx.idempotency, async (trx) => {
    await lockGateways(trx);
    const audit = await snapshotGateways(trx);
    const id = await insertGateway(trx, values, input.is_default === true, deps.clock.now());
    await auditGatewayChanges(trx, auditActor(ctx.actor), audit, deps.clock.now());
    return { status: 201, body: presentGateway(await requireRow(trx, id), deps.gatewayHosts) };
  });
}

/** PATCH /v1/gateways/:id (admin). provider and mode are immutable; metadata merges. */
export async function updateGateway(deps: Deps, ctx: RequestContext, id: string, input: UpdateGatewayInput) {
  requireChanges(input);
  for (const field of ['provider', 'mode'] as const) {
    if (input[field] !== undefined) {
      throw new ValidationError('immutable_field', `${field} cannot be changed; create a new gateway instead.`, field);
    }
  }
  const changes = {
    name: optional(input.name, parseName) ?? undefined,
    settlement_currency:
      input.settlement_currency === undefined
        ? undefined
        : parseCurrency(input.settlement_currency, 'settlement_currency'),
    rate_limit_per_second:
      input.rate_limit_per_second === undefined ? undefined : parseRateLimit(input.rate_limit_per_second),
    endpoint_rate_limit_per_second:
      input.endpoint_rate_limit_per_second === undefined
        ? undefined
        : parseEndpointRateLimit(input.endpoint_rate_limit_per_second),
    secret_key_env:
      input.secret_key_env === undefined ? undefined : parseEnvVarName(input.secret_key_env, 'secret_key_env'),
    webhook_secret_env: optional(input.webhook_secret_env, envName('webhook_secret_env')),
    connect_webhook_secret_env: optional(input.connect_webhook_secret_env, envName('connect_webhook_secret_env')),
    api_base: optional(input.api_base, (v) => parseApiBase(v)),
  };
  const metadataUpdate = input.metadata === undefined ? undefined : parseMetadata(input.metadata, 'metadata', true);
  const wantDefault = input.is_default;
  return deps.commands.run<GatewayView>(ctx.idempotency, async (trx) => {
    await lockGateways(trx);
    const audit = await snapshotGateways(trx);
    const after = await retryOnRace('gateway', async () => {
      const current = await requireRow(trx, id);
      checkLiveApiBase(current.mode, changes.api_base === undefined ? current.api_base : changes.api_base);
      checkApiBaseHost(changes.api_base, deps.gatewayHosts);
      checkCredentialChanges(current, changes);
      const now = deps.clock.now();
      const set: GatewayChanges = { ...changes };
      if (metadataUpdate) set.metadata = JSON.stringify(mergeMetadata(current.metadata, metadataUpdate));
      if (wantDefault !== undefined) {
        if (wantDefault) await clearOtherDefaults(trx, id, now);
        set.is_default = wantDefault;
      }
      return compareAndSetGateway(trx, current, set, now);
    });
    await auditGatewayChanges(trx, auditActor(ctx.actor), audit, deps.clock.now());
    return { status: 200, body: presentGateway(after, deps.gatewayHosts) };
  });
}

export async function getGateway(deps: Deps, id: string): Promise<GatewayView> {
  return presentGateway(await requireRow(deps.db, id), deps.gatewayHosts);
}

export interface ListGatewaysQuery {
  provider?: string;
  mode?: string;
  is_default?: boolean;
  limit?: number;
  starting_after?: string;
}

export async function listGateways(deps: Deps, query: ListGatewaysQuery): Promise<Page<GatewayView>> {
  const limit = parseLimit(query.limit);
  const provider =
    query.provider === undefined ? undefined : parseChoice(GATEWAY_PROVIDERS, query.provider, 'provider');
  const mode = query.mode === undefined ? undefined : parseChoice(GATEWAY_MODES, query.mode, 'mode');
  const after = cursorAfter(query.starting_after, 'gateway');
  const rows = await listGatewayRows(deps.db, { provider, mode, is_default: query.is_default, after, limit });
  return pageOf(rows, limit, (row) => presentGateway(row, deps.gatewayHosts), byId);
}

// ---- for the rest of Settle (payment processing, startup) ----------------------------------------------------

/** The gateway record (with the NAMES of its secret variables; read them with secretFromEnv). 404 when missing. */
export async function requireGateway(deps: Pick<Deps, 'db'>, id: string, param = 'gateway_id'): Promise<GatewayRow> {
  return requireRow(deps.db, id, param);
}

/**
 * Why a stored record may not be used to send anything, or null: the rules checked again on records made before
 * them (or changed in the database by hand). A live gateway with an api_base; an api_base an admin set that is
 * not loopback nor listed, or is link-local or metadata (the operator's STRIPE_API_BASE is exempt); an API-key
 * variable the record may not name. The record is refused whole: its secret is never read.
 */
export function gatewayUseProblem(record: GatewayRow, rules: GatewayHostRules): string | null {
  const operator = isOperatorApiBase(rules, record.api_base);
  if (record.mode === 'live' && record.api_base !== null) {
    return 'it is a live-mode gateway with an api_base, and a live gateway always talks to the provider itself; set api_base to null';
  }
  if (record.api_base !== null && !operator) {
    const refusal = apiBaseHostRefusal(new URL(record.api_base).hostname, rules.apiBaseAllow);
    if (refusal) return `its api_base may not be used: ${refusal.message}`;
  }
  // (A webhook_secret_env it may not name is refused where webhook secrets are read: app/webhooks/secrets.ts.)
  const refusal =
    record.secret_key_env === null
      ? null
      : credentialEnvRefusal(record.secret_key_env, 'secret_key_env', credentialOwner(record, rules));
  if (refusal)
    return `its secret_key_env names a variable it may not use (${refusal.message}); name another variable with PATCH /v1/gateways/${record.id}`;
  return null;
}

/** The default gateway, or undefined when none is marked default. */
export async function getDefaultGateway(deps: Pick<Deps, 'db'>): Promise<GatewayRow | undefined> {
  return findDefaultGateway(deps.db);
}

/** The mode a Stripe key belongs to: live keys start sk_live_ or rk_live_; anything else (or none) is test. */
export function stripeModeOfKey(key: string | undefined): GatewayMode {
  return key !== undefined && /^(sk|rk)_live_/.test(key) ? 'live' : 'test';
}

type StartupDeps = Pick<Deps, 'db' | 'clock'>;

/** Finds (under the lock) or creates a gateway, brings the given fields up to date, and returns it. */
async function ensureGateway(
  deps: StartupDeps,
  find: (trx: Tx) => Promise<GatewayRow | undefined>,
  create: NewGatewayFields,
  update: Partial<Pick<NewGatewayFields, 'api_base' | 'secret_key_env' | 'webhook_secret_env'>>,
  takeDefault: (current: GatewayRow | undefined) => boolean,
): Promise<GatewayRow> {
  return deps.db.transaction().execute(async (trx) => {
    await lockGateways(trx);
    const audit = await snapshotGateways(trx);
    const now = deps.clock.now();
    const existing = await find(trx);
    let id: string;
    if (!existing) {
      id = await insertGateway(trx, create, false, now);
    } else {
      id = existing.id;
      const changed = Object.fromEntries(
        Object.entries(update).filter(
          ([key, value]) => value !== undefined && existing[key as keyof GatewayRow] !== value,
        ),
      );
      if (Object.keys(changed).length > 0) await updateGatewayFields(trx, id, changed, now);
    }
    const currentDefault = await findDefaultGateway(trx);
    if (currentDefault?.id !== id && takeDefault(currentDefault)) await makeDefault(trx, id, now);
    await auditGatewayChanges(trx, SYSTEM_ACTOR, audit, now);
    return requireRow(trx, id);
  });
}

export interface EnsureEmulatorGatewayOptions {
  /** Where the emulator listens, e.g. http://127.0.0.1:12111 (updated when it changes between starts). */
  apiBase: string;
  /** Variable names to record (optional: the built-in emulator accepts any sk_test_ key and needs none). */
  secretKeyEnv?: string | null;
  webhookSecretEnv?: string | null;
}

/**
 * Startup: the built-in Stripe emulator as a test-mode gateway named "Stripe emulator" (is_emulator: only
 * Settle sets it; at most one exists). Idempotent: finds or creates it, updates api_base when it changed,
 * and makes it the default when no gateway is default. Its api_base is the operator's (the in-process emulator
 * on loopback, or STRIPE_API_BASE): no host rule applies; the variable rules do (STRIPE_* allowed: is_emulator).
 */
export async function ensureDefaultEmulatorGateway(
  deps: StartupDeps,
  options: EnsureEmulatorGatewayOptions,
): Promise<GatewayRow> {
  const apiBase = parseApiBase(options.apiBase, 'apiBase');
  const secretKeyEnv = optional(options.secretKeyEnv, envName('secretKeyEnv'));
  const webhookSecretEnv = optional(options.webhookSecretEnv, envName('webhookSecretEnv'));
  const owner: CredentialOwner = { provider: 'stripe', api_base: apiBase, is_emulator: true };
  checkCredentialEnv(secretKeyEnv, 'secretKeyEnv', owner);
  checkCredentialEnv(webhookSecretEnv, 'webhookSecretEnv', owner);
  return ensureGateway(
    deps,
    (trx) => findEmulatorGateway(trx),
    {
      name: EMULATOR_GATEWAY_NAME,
      provider: 'stripe',
      mode: 'test',
      settlement_currency: DEFAULT_SETTLEMENT_CURRENCY,
      rate_limit_per_second: DEFAULT_RATE_LIMITS.test,
      // The emulator has no per-endpoint limit to respect (G5): off.
      endpoint_rate_limit_per_second: 0,
      secret_key_env: secretKeyEnv ?? null,
      webhook_secret_env: webhookSecretEnv ?? null,
      api_base: apiBase,
      is_emulator: true,
      metadata: '{}',
    },
    { api_base: apiBase, secret_key_env: secretKeyEnv, webhook_secret_env: webhookSecretEnv },
    (current) => current === undefined,
  );
}

export interface EnsureStripeGatewayOptions {
  /** The NAME of the variable holding the key, e.g. STRIPE_SECRET_KEY. */
  secretKeyEnv: string;
  /** e.g. STRIPE_API_BASE pointing at a separately running emulator; undefined/null = Stripe itself. */
  apiBase?: string | null | undefined;
  webhookSecretEnv?: string | null | undefined;
  /** Default: from the key's prefix (sk_live_/rk_live_ = live, otherwise test). */
  mode?: GatewayMode | undefined;
}

/**
 * Startup with a Stripe key: the gateway named "Stripe test" or "Stripe live" (by the key's mode).
 * Idempotent: finds or creates it, updates api_base (null when none is given) and the variable names when
 * they changed, and makes it the default when no gateway is default or the default is the built-in
 * emulator (with a real key, real Stripe is the default). A live key with any api_base is refused
 * (live_api_base_not_allowed): a live gateway always talks to Stripe.
 *
 * This is the operator's configuration (STRIPE_SECRET_KEY, STRIPE_API_BASE, STRIPE_WEBHOOK_SECRET from the
 * environment), so it may pair STRIPE_SECRET_KEY with an api_base (operator_configured), which the API never
 * allows; the registry accepts that pairing later only while api_base still equals STRIPE_API_BASE.
 */
export async function ensureDefaultStripeGateway(
  deps: StartupDeps,
  options: EnsureStripeGatewayOptions,
): Promise<GatewayRow> {
  const secretKeyEnv = parseEnvVarName(options.secretKeyEnv, 'secretKeyEnv');
  const apiBase = optional(options.apiBase, (v) => parseApiBase(v, 'apiBase')) ?? null;
  const owner: CredentialOwner = {
    provider: 'stripe',
    api_base: apiBase,
    is_emulator: false,
    operator_configured: true,
  };
  checkCredentialEnv(secretKeyEnv, 'secretKeyEnv', owner);
  const mode = options.mode ?? stripeModeOfKey(secretFromEnv(secretKeyEnv, owner));
  const webhookSecretEnv = optional(options.webhookSecretEnv, envName('webhookSecretEnv'));
  checkCredentialEnv(webhookSecretEnv, 'webhookSecretEnv', owner);
  checkLiveApiBase(mode, apiBase);
  const name = stripeGatewayName(mode);
  return ensureGateway(
    deps,
    (trx) => findStripeGateway(trx, name, mode),
    {
      name,
      provider: 'stripe',
      mode,
      settlement_currency: DEFAULT_SETTLEMENT_CURRENCY,
      rate_limit_per_second: DEFAULT_RATE_LIMITS[mode],
      secret_key_env: secretKeyEnv,
      webhook_secret_env: webhookSecretEnv ?? null,
      api_base: apiBase,
      is_emulator: false,
      metadata: '{}',
    },
    { api_base: apiBase, secret_key_env: secretKeyEnv, webhook_secret_env: webhookSecretEnv },
    (current) => current === undefined || current.is_emulator,
  );
}
