// The nested and Connect parameters of PaymentIntent create, update and confirm (PaymentIntentCreateParams in the
// SDK's PaymentIntents.d.ts): each is validated, then stored on the PaymentIntent where the object has the field, and
// acted on where Stripe acts on it. A sub-parameter the emulator does not model is refused as `parameter_unknown`
// (`name[sub]`), as Stripe refuses unknown names, rather than accepted and ignored.
import { invalidRequest, parameterMissing, parameterUnknown, StripeApiError } from './errors.js';
import type { FormObject, FormValue } from './form.js';
import { optEnum, optInt, optString } from './params.js';

type Json = Record<string, unknown>;

/** A hash parameter (`name[key]=...`), its keys checked against `allowed`; undefined when absent or ''. */
export function hashParam(params: FormObject, name: string, allowed: readonly string[]): FormObject | undefined {
  const v: FormValue | undefined = params[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'object' || Array.isArray(v))
    throw invalidRequest(`Invalid ${name}: must be a hash`, 'parameter_invalid_string', name);
  for (const key of Object.keys(v)) if (!allowed.includes(key)) throw parameterUnknown(`${name}[${key}]`);
  return v;
}

/**
 * Runs `read` over the hash parameter `prefix`, naming the full parameter in its errors as Stripe does
 * (`automatic_payment_methods[allow_redirects]`, not `allow_redirects`).
 */
export function nested<T>(prefix: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    const param = err instanceof StripeApiError ? err.body.param : undefined;
    if (param !== undefined && param !== prefix && !param.startsWith(`${prefix}[`)) {
      const open = param.indexOf('[');
      (err as StripeApiError).body.param =
        open < 0 ? `${prefix}[${param}]` : `${prefix}[${param.slice(0, open)}]${param.slice(open)}`;
    }
    throw err;
  }
}

const ADDRESS_KEYS = ['city', 'country', 'line1', 'line2', 'postal_code', 'state'] as const;

/** `shipping`: address and name required (PaymentIntentCreateParams.Shipping); rendered with every address key. */
export function shippingParam(params: FormObject, name = 'shipping'): Json | null | undefined {
  if (params[name] === '') return null; // an empty value unsets it (update)
  const s = hashParam(params, name, ['address', 'carrier', 'name', 'phone', 'tracking_number']);
  if (s === undefined) return undefined;
  return nested(name, () => readShipping(s));
}

function readShipping(s: FormObject): Json {
  const name = 'shipping';
  const address = hashParam(s, 'address', ADDRESS_KEYS);
  if (address === undefined) throw parameterMissing(`${name}[address]`);
  const recipient = optString(s, 'name');
  if (recipient === undefined) throw parameterMissing(`${name}[name]`);
  const addr: Json = {};
  for (const k of ADDRESS_KEYS) addr[k] = optString(address, k) ?? null;
  return {
    address: addr,
    carrier: optString(s, 'carrier') ?? null,
    name: recipient,
    phone: optString(s, 'phone') ?? null,
    tracking_number: optString(s, 'tracking_number') ?? null,
  };
}

/** A connected account id (`acct_…`). The emulator has no Connect accounts, so any well-formed id is taken. */
function accountId(params: FormObject, name: string): string | undefined {
  const id = optString(params, name);
  if (id !== undefined && !/^acct_[A-Za-z0-9]+$/.test(id))
    throw invalidRequest(`No such account: '${id}'`, undefined, name);
  return id;
}

export function onBehalfOfParam(params: FormObject): string | undefined {
  return accountId(params, 'on_behalf_of');
}

/** `transfer_data`: destination required, amount at most the payment's (PaymentIntent.TransferData). */
export function transferDataParam(params: FormObject, amount: number): Json | undefined {
  const t = hashParam(params, 'transfer_data', ['amount', 'destination']);
  if (t === undefined) return undefined;
  const destination = nested('transfer_data', () => accountId(t, 'destination'));
  if (destination === undefined) throw parameterMissing('transfer_data[destination]');
  const part = nested('transfer_data', () => optInt(t, 'amount'));
  if (part !== undefined && (part < 0 || part > amount))
    throw invalidRequest(
      'transfer_data[amount] must be between 0 and the amount of the PaymentIntent.',
      'parameter_invalid_integer',
      'transfer_data[amount]',
    );
  return { ...(part === undefined ? {} : { amount: part }), destination };
}

/** `application_fee_amount`: a non-negative integer, at most the amount ("capped at the total amount captured"). */
export function applicationFeeParam(params: FormObject, amount: number): number | undefined {
  const fee = optInt(params, 'application_fee_amount');
  if (fee !== undefined && (fee < 0 || fee > amount))
    throw invalidRequest(
      'application_fee_amount must be between 0 and the amount of the PaymentIntent.',
      'parameter_invalid_integer',
      'application_fee_amount',
    );
  return fee;
}

/**
 * Statement descriptors: at most 22 characters, and `statement_descriptor_suffix` at most 22 as well
 * (docs.stripe.com/get-started/account/statement-descriptors). `statement_descriptor` is for non-card charges only:
 * "Setting this value for a card charge returns an error" (PaymentIntentCreateParams.statement_descriptor), checked
 * when a card is charged (cardStatementDescriptorError).
 */
export function descriptorParam(
  params: FormObject,
  name: 'statement_descriptor' | 'statement_descriptor_suffix',
): string | undefined {
  const v = optString(params, name);
  if (v !== undefined && (v.length > 22 || /[<>\\'"*]/.test(v)))
    throw invalidRequest(
      `Invalid ${name}: at most 22 characters, none of < > \\ ' " *.`,
      'parameter_invalid_string',
      name,
    );
  return v;
}

export function cardStatementDescriptorError(): ReturnType<typeof invalidRequest> {
  return invalidRequest(
    'The statement_descriptor parameter is not supported for card charges; use statement_descriptor_suffix instead.',
    undefined,
    'statement_descriptor',
  );
}

/** `automatic_payment_methods`: enabled (required), allow_redirects always (default) or never. */
export function automaticPaymentMethodsParam(params: FormObject): Json | undefined {
  const a = hashParam(params, 'automatic_payment_methods', ['enabled', 'allow_redirects']);
  if (a === undefined) return undefined;
  return nested('automatic_payment_methods', () => readAutomatic(a));
}

function readAutomatic(a: FormObject): Json {
  const enabled = optEnum(a, 'enabled', ['true', 'false'] as const);
  if (enabled === undefined) throw parameterMissing('automatic_payment_methods[enabled]');
  const allow =
    optEnum(a, 'allow_redirects', ['always', 'never'] as const) ?? (enabled === 'true' ? 'always' : undefined);
  return { ...(allow === undefined ? {} : { allow_redirects: allow }), enabled: enabled === 'true' };
}

/**
 * `payment_method_options`: the card options the emulator acts on (request_three_d_secure, capture_method manual,
 * request_incremental_authorization) and the ACH verification method. Merged into `base` (the PaymentIntent's).
 */
export function paymentMethodOptionsParam(params: FormObject, base: Json): Json {
  const o = hashParam(params, 'payment_method_options', ['card', 'us_bank_account']);
  if (o === undefined) return base;
  return nested('payment_method_options', () => readOptions(o, base));
}

function readOptions(o: FormObject, base: Json): Json {
  const out: Json = structuredClone(base);
  const card = hashParam(o, 'card', ['request_three_d_secure', 'request_incremental_authorization']);
  if (card !== undefined) {
    out.card = nested('card', () => {
      const tds = optEnum(card, 'request_three_d_secure', ['automatic', 'any', 'challenge'] as const);
      const incremental = optEnum(card, 'request_incremental_authorization', ['if_available', 'never'] as const);
      return {
        ...((out.card as Json | undefined) ?? {}),
        ...(tds === undefined ? {} : { request_three_d_secure: tds }),
        ...(incremental === undefined ? {} : { request_incremental_authorization: incremental }),
      };
    });
  }
  const bank = hashParam(o, 'us_bank_account', ['verification_method']);
  if (bank !== undefined) {
    const method = nested('us_bank_account', () =>
      optEnum(bank, 'verification_method', ['automatic', 'instant', 'microdeposits'] as const),
    );
    out.us_bank_account = {
      ...((out.us_bank_account as Json | undefined) ?? {}),
      ...(method ? { verification_method: method } : {}),
    };
  }
  return out;
}

/**
 * `mandate_data` (create and confirm with confirm=true; PaymentIntentCreateParams.MandateData): customer_acceptance
 * with type online (ip_address and user_agent required) or offline. The PaymentIntent object has no field for it;
 * the emulator keeps it for the ACH debit's mandate.
 */
export function mandateDataParam(params: FormObject): Json | undefined {
  const m = hashParam(params, 'mandate_data', ['customer_acceptance']);
  if (m === undefined) return undefined;
  return nested('mandate_data', () => readMandate(m));
}

function readMandate(m: FormObject): Json {
  const acceptance = hashParam(m, 'customer_acceptance', ['type', 'accepted_at', 'online', 'offline']);
  if (acceptance === undefined) throw parameterMissing('customer_acceptance');
  return nested('customer_acceptance', () => {
    const type = optEnum(acceptance, 'type', ['online', 'offline'] as const);
    if (type === undefined) throw parameterMissing('type');
    const out: Json = { type, accepted_at: optInt(acceptance, 'accepted_at') ?? null };
    if (type === 'offline') {
      hashParam(acceptance, 'offline', []);
      return { ...out, offline: {} };
    }
    const online = hashParam(acceptance, 'online', ['ip_address', 'user_agent']);
    if (online === undefined) throw parameterMissing('online');
    const ip = optString(online, 'ip_address');
    const agent = optString(online, 'user_agent');
    if (ip === undefined) throw parameterMissing('online[ip_address]');
    if (agent === undefined) throw parameterMissing('online[user_agent]');
    return { ...out, online: { ip_address: ip, user_agent: agent } };
  });
}

/** PaymentIntent create's parameters beyond the basic ones, all honoured (createExtras, payment-intents.ts). */
export const CREATE_EXTRA_PARAMS = [
  'return_url',
  'payment_method_data',
  'payment_method_options',
  'shipping',
  'statement_descriptor',
  'on_behalf_of',
  'transfer_data',
  'application_fee_amount',
  'mandate_data',
] as const;

export interface CreateExtras {
  application_fee_amount: number | null;
  on_behalf_of: string | null;
  shipping: Json | null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  transfer_data: Json | null;
}

export function createExtras(params: FormObject, amount: number): CreateExtras {
  return {
    application_fee_amount: applicationFeeParam(params, amount) ?? null,
    on_behalf_of: onBehalfOfParam(params) ?? null,
    shipping: shippingParam(params) ?? null,
    statement_descriptor: descriptorParam(params, 'statement_descriptor') ?? null,
    statement_descriptor_suffix: descriptorParam(params, 'statement_descriptor_suffix') ?? null,
    transfer_data: transferDataParam(params, amount) ?? null,
  };
}

export function onlyWithConfirm(name: string): ReturnType<typeof invalidRequest> {
  return invalidRequest(`The ${name} parameter can only be used with confirm=true.`, undefined, name);
}

/**
 * Stripe's text when a PaymentIntent under automatic payment methods with allow_redirects 'always' (the default
 * since API 2023-08-16) is confirmed server-side without a return_url, quoted in full in
 * github.com/aschmelyun/laravel-vue-stripe-cashier/issues/4 (and in opencollective-frontend#12346, paper_tiger#106).
 * The public quotes show the message and the type; that the body has no code and no param is the emulator's reading.
 */
export const RETURN_URL_REQUIRED =
  'A `return_url` must be specified because this Payment Intent is configured to automatically accept the payment ' +
  'methods enabled in the Dashboard, some of which may require a full page redirect to succeed. If you do not want ' +
  'to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and ' +
  '`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.';

/** What a confirmation (create with confirm=true, or confirm) must satisfy before anything happens. */
export function checkConfirmable(
  pi: { [field: string]: unknown },
  pm: { type: string },
  returnUrl: string | undefined,
): void {
  const automatic = pi.automatic_payment_methods as { enabled?: boolean; allow_redirects?: string } | null | undefined;
  if (automatic?.enabled === true && automatic.allow_redirects !== 'never' && returnUrl === undefined)
    throw invalidRequest(RETURN_URL_REQUIRED);
  if (pm.type === 'card' && typeof pi.statement_descriptor === 'string') throw cardStatementDescriptorError();
}
