// Connected accounts (Accounts.d.ts `Account`, `AccountCreateParams`; docs.stripe.com/api/accounts), the part
// Settle's Connect integration uses: create, retrieve and list from the platform. What a request does on a connected
// account is chosen by the `Stripe-Account` header (stripe-account.ts).
//   create    type `custom`, `express` or `standard` (AccountCreateParams.Type; the emulator requires it, as it
//             does not model `controller`), country (two letters, default US), email, default_currency (default:
//             the country's), capabilities (`capabilities[card_payments][requested]=true`, each a hash with a
//             boolean `requested`), business_type, metadata. The account is at once able to take charges and
//             payouts (charges_enabled, payouts_enabled, details_submitted true): the emulator models no
//             onboarding, verification or requirements, and every requested capability is `active`.
//   retrieve  an unknown id answers as Stripe does, with the permission error of stripe-account.ts (403), not a
//             404 (stripe-ruby-mock issue 422 quotes Stripe's answer to Account.retrieve of an unknown id).
//   list      newest first, `created` filter and the usual cursors (AccountListParams).
// Accounts are the platform's objects: they are visible whatever the Stripe-Account header (state.ts).
import { invalidRequest, resourceMissing } from './errors.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optEnum, optString } from './params.js';
import { rangeFilter } from './range-filter.js';
import { expansions, render, renderList } from './render.js';
import type { EmulatorState } from './state.js';
import { accountInaccessible } from './stripe-account.js';
import type { Account } from './types.js';

type Json = Record<string, unknown>;

const TYPES = ['custom', 'express', 'standard'] as const;

/** Settlement currency by country, for `default_currency` when none is given (the emulator's short table). */
const COUNTRY_CURRENCY: Readonly<Record<string, string>> = {
  US: 'usd',
  CA: 'cad',
  GB: 'gbp',
  AU: 'aud',
  NZ: 'nzd',
  JP: 'jpy',
  SG: 'sgd',
  HK: 'hkd',
  CH: 'chf',
  SE: 'sek',
  NO: 'nok',
  DK: 'dkk',
  PL: 'pln',
  DE: 'eur',
  FR: 'eur',
  ES: 'eur',
  IT: 'eur',
  NL: 'eur',
  BE: 'eur',
  IE: 'eur',
  AT: 'eur',
  PT: 'eur',
  FI: 'eur',
};

function countryParam(params: FormObject): string {
  const country = optString(params, 'country') ?? 'US';
  if (!/^[A-Za-z]{2}$/.test(country))
    throw invalidRequest(`Invalid country: ${country} (two-letter ISO code).`, 'country_code_invalid', 'country');
  return country.toUpperCase();
}

/** `capabilities[<name>][requested]`: each a hash whose `requested` is a boolean; the requested ones are active. */
function capabilitiesParam(params: FormObject): Record<string, string> {
  const caps = params.capabilities;
  if (caps === undefined || caps === '') return {};
  if (typeof caps !== 'object' || Array.isArray(caps))
    throw invalidRequest('Invalid capabilities: must be a hash', 'parameter_invalid_string', 'capabilities');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(caps)) {
    const param = `capabilities[${name}]`;
    if (!/^[a-z0-9_]+$/.test(name)) throw invalidRequest(`Invalid capability: ${name}`, 'parameter_unknown', param);
    if (typeof value !== 'object' || Array.isArray(value))
      throw invalidRequest(`Invalid ${param}: must be a hash`, 'parameter_invalid_string', param);
    checkKnown(value, ['requested']);
    const requested = value.requested;
    if (requested !== 'true' && requested !== 'false')
      throw invalidRequest(`Invalid boolean: ${String(requested)}`, 'parameter_invalid_string', `${param}[requested]`);
    if (requested === 'true') out[name] = 'active';
  }
  return out;
}

function emailParam(params: FormObject): string | null {
  const email = optString(params, 'email');
  if (email === undefined) return null;
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
    throw invalidRequest(`Invalid email address: ${email}`, 'email_invalid', 'email');
  return email;
}

export function createAccount(state: EmulatorState, params: FormObject): Account {
  checkKnown(params, [
    'type',
    'country',
    'email',
    'default_currency',
    'capabilities',
    'business_type',
    'metadata',
    'expand',
  ]);
  const type = optEnum(params, 'type', TYPES);
  if (type === undefined) throw invalidRequest('Missing required param: type.', 'parameter_missing', 'type');
  const country = countryParam(params);
  const email = emailParam(params);
  const currency = optString(params, 'default_currency')?.toLowerCase() ?? COUNTRY_CURRENCY[country] ?? 'usd';
  if (!/^[a-z]{3}$/.test(currency))
    throw invalidRequest(`Invalid currency: ${currency}`, 'parameter_invalid_string', 'default_currency');
  const businessType =
    optEnum(params, 'business_type', ['company', 'government_entity', 'individual', 'non_profit'] as const) ?? null;
  const capabilities = capabilitiesParam(params);
  const metadata = metadataParam(params);
  const id = state.newId('acct').slice(0, 'acct_'.length + 16); // Stripe's account ids are shorter: acct_ + 16
  const account: Account = {
    id,
    object: 'account',
    business_profile: { mcc: null, name: null, support_email: null, url: null },
    business_type: businessType,
    capabilities,
    charges_enabled: true,
    controller: { type: 'application', is_controller: true },
    country,
    created: state.nowSeconds(),
    default_currency: currency,
    details_submitted: true,
    email,
    external_accounts: { object: 'list', data: [], has_more: false, url: `/v1/accounts/${id}/external_accounts` },
    future_requirements: requirementsNone(),
    metadata,
    payouts_enabled: true,
    requirements: requirementsNone(),
    settings: { payouts: { schedule: { delay_days: 2, interval: 'daily' } } },
    tos_acceptance: { date: null },
    type,
  };
  return state.put(account);
}

function requirementsNone(): Json {
  return {
    alternatives: [],
    current_deadline: null,
    currently_due: [],
    disabled_reason: null,
    errors: [],
    eventually_due: [],
    past_due: [],
    pending_verification: [],
  };
}

/** A connected account by id; an unknown one answers Stripe's 403 (stripe-account.ts). */
export function requireAccount(state: EmulatorState, id: string, key = 'sk_test_'): Account {
  const account = state.asAccount(undefined, () => state.find<Account>(id, 'account'));
  if (!account) throw accountInaccessible(key, id);
  return account;
}

/** A transfer's destination: a connected account, else resource_missing "No such destination" on the param (404,
 * as the emulator answers every unknown id given in a parameter). */
export function requireDestination(state: EmulatorState, id: string, param = 'destination'): string {
  const account = state.asAccount(undefined, () => state.find<Account>(id, 'account'));
  if (!account) throw resourceMissing('destination', id, param);
  return account.id;
}

export function retrieveAccount(state: EmulatorState, id: string, params: FormObject): Json {
  checkKnown(params, ['expand']);
  return render(state, requireAccount(state, id), expansions(params));
}

export function listAccounts(state: EmulatorState, params: FormObject): Json {
  checkKnown(params, ['created', 'limit', 'starting_after', 'ending_before', 'expand']);
  const created = rangeFilter(params, 'created');
  const accounts = state.all<Account>('account').filter((a) => created(a.created));
  return renderList(state, accounts, '/v1/accounts', params);
}
