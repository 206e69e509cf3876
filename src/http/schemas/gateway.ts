// Gateways (G1): request bodies, list query and the object returned. Credentials by reference only: a
// gateway names the environment variables holding its secrets; their values are never accepted or returned.
import { Type } from 'typebox';
import {
  DEFAULT_ENDPOINT_RATE_LIMIT,
  DEFAULT_RATE_LIMITS,
  GATEWAY_MODES,
  GATEWAY_PROVIDERS,
  RATE_LIMIT_MAX,
} from '../../app/gateway-records.js';
import { Currency, ListQuery, Metadata, MetadataUpdate, Nullable } from './common.js';

const Enum = (values: readonly string[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );

const Provider = Enum(GATEWAY_PROVIDERS, 'stripe or spreedly.');
const Mode = Enum(GATEWAY_MODES, 'test or live (default test).');

const Name = Type.String({ minLength: 1, maxLength: 200, description: 'A label, 1 to 200 characters.' });
const EnvVarName = (what: string) =>
  Type.String({
    minLength: 1,
    maxLength: 128,
    description:
      `The NAME of the environment variable that holds ${what}, never the secret itself: STRIPE_ or SETTLE_GATEWAY_ followed by upper-case letters, digits and _ ` +
      "(e.g. SETTLE_GATEWAY_EU_KEY). Settle's own configuration variables are refused, except STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET on a Stripe gateway without api_base.",
  });
const SecretKeyEnv = EnvVarName("the gateway's API key");
const WebhookSecretEnv = Nullable(EnvVarName("the gateway's webhook signing secret"));
const ApiBase = Nullable(
  Type.String({
    maxLength: 2048,
    description:
      "Test mode only: where to send the gateway's API requests instead of the provider's own host, an http or https origin such as http://127.0.0.1:12111 for an emulator. " +
      "The host must be loopback (127.0.0.0/8, ::1, localhost) or listed in the server's SETTLE_GATEWAY_API_BASE_ALLOW; link-local and cloud metadata addresses are always refused. " +
      'null = the provider itself (always so in live mode).',
  }),
);
const RateLimit = Type.Integer({
  minimum: 1,
  maximum: RATE_LIMIT_MAX,
  description: `Requests per second Settle never exceeds towards this gateway, 1 to ${RATE_LIMIT_MAX}. Default ${DEFAULT_RATE_LIMITS.test} in test mode and ${DEFAULT_RATE_LIMITS.live} in live mode (Stripe's limits).`,
});
const EndpointRateLimit = Type.Integer({
  minimum: 0,
  maximum: RATE_LIMIT_MAX,
  description: `Requests per second Settle never exceeds to any one endpoint of this gateway (method and path template: POST /v1/payment_intents, GET /v1/payment_intents/:id, ...), 0 to ${RATE_LIMIT_MAX}; 0 turns it off. Default ${DEFAULT_ENDPOINT_RATE_LIMIT} (Stripe's limit per endpoint unless it says otherwise); off on the built-in emulator gateway.`,
});
const IsDefault = Type.Boolean({
  description: 'true makes this the default gateway and clears the flag on every other; false unsets it.',
});
const Immutable = Type.Unknown({ description: 'Immutable: sending it is a 400.' });

export const GatewaySchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('gateway'),
    name: Type.String(),
    provider: Type.String(),
    mode: Type.String(),
    is_default: Type.Boolean(),
    settlement_currency: Type.String(),
    rate_limit_per_second: Type.Integer(),
    endpoint_rate_limit_per_second: Type.Integer(),
    secret_key_env: Nullable(
      Type.String({ description: 'The NAME of the variable holding the API key (the key is never returned).' }),
    ),
    webhook_secret_env: Nullable(Type.String({ description: 'The NAME of the variable holding the webhook secret.' })),
    credentials_configured: Type.Boolean({
      description: "Whether secret_key_env is set in the server's environment (the built-in emulator needs no key).",
    }),
    webhook_secret_configured: Type.Boolean({
      description: "Whether webhook_secret_env is set in the server's environment.",
    }),
    connect_webhook_secret_env: Nullable(
      Type.String({
        description:
          "The NAME of the variable holding the Connect webhook endpoint's secret: events that carry `account` are verified with it (Connect, M6).",
      }),
    ),
    connect_webhook_secret_configured: Type.Boolean({
      description: "Whether connect_webhook_secret_env is set in the server's environment.",
    }),
    api_base: Nullable(Type.String()),
    is_emulator: Type.Boolean({ description: "Settle's built-in Stripe emulator (set by Settle only)." }),
    metadata: Metadata,
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'Gateway' },
);

export const CreateGatewayBody = Type.Object(
  {
    name: Name,
    provider: Provider,
    mode: Type.Optional(Mode),
    is_default: Type.Optional(IsDefault),
    settlement_currency: Currency,
    rate_limit_per_second: Type.Optional(RateLimit),
    endpoint_rate_limit_per_second: Type.Optional(EndpointRateLimit),
    secret_key_env: SecretKeyEnv,
    webhook_secret_env: Type.Optional(WebhookSecretEnv),
    connect_webhook_secret_env: Type.Optional(WebhookSecretEnv),
    api_base: Type.Optional(ApiBase),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const UpdateGatewayBody = Type.Object(
  {
    name: Type.Optional(Name),
    is_default: Type.Optional(IsDefault),
    settlement_currency: Type.Optional(Currency),
    rate_limit_per_second: Type.Optional(RateLimit),
    endpoint_rate_limit_per_second: Type.Optional(EndpointRateLimit),
    secret_key_env: Type.Optional(SecretKeyEnv),
    webhook_secret_env: Type.Optional(WebhookSecretEnv),
    connect_webhook_secret_env: Type.Optional(WebhookSecretEnv),
    api_base: Type.Optional(ApiBase),
    metadata: Type.Optional(MetadataUpdate),
    provider: Type.Optional(Immutable),
    mode: Type.Optional(Immutable),
  },
  { additionalProperties: false },
);

export const ListGatewaysQuery = Type.Object(
  {
    provider: Type.Optional(Provider),
    mode: Type.Optional(Mode),
    is_default: Type.Optional(Type.Boolean()),
    ...ListQuery,
  },
  { additionalProperties: false },
);
