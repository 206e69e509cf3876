// The connect-time guard of the gateway HTTP clients (paced-http-client.ts): before a connection opens, the
// address it will be made to is checked against the gateway's ConnectPolicy (domain/host-policy.ts). An IP
// literal is checked as it is (Node makes no lookup for one); a host name is checked on every address its lookup
// returns, each time a connection is opened (a name that answered 127.0.0.1 once may answer 169.254.169.254 next:
// DNS rebinding); and, once connected, the socket's remote address is checked again before anything is written.
// A refusal is a HostRefusedError raised before any byte of the request left, which the client turns into a
// `configuration` outcome (never retried, never an unknown outcome).
import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { type ConnectPolicy, connectPolicy, type GatewayHostRules, isOperatorApiBase } from '../domain/host-policy.js';

/** Where the Stripe SDK sends a gateway's requests when it has no api_base. */
export const STRIPE_API_HOST = 'api.stripe.com';

/** The policy and the resolver one client connects with; tests inject a lookup (names to addresses of their own). */
export interface ConnectGuard {
  policy: ConnectPolicy;
  /** dns.lookup-compatible. Default: dns.lookup. */
  lookup: LookupFunction;
}

/** Settle refused to connect to a host or an address (nothing was sent). */
export class HostRefusedError extends Error {
  readonly code = 'ERR_SETTLE_HOST_REFUSED';

  constructor(reason: string) {
    super(`Settle refused to connect: ${reason}. Nothing was sent.`);
    this.name = 'HostRefusedError';
  }
}

/** The refusal itself, or under the SDK's wrapping (StripeConnectionError.detail) or a cause; else null. */
export function hostRefusalOf(error: unknown): HostRefusedError | null {
  for (let current = error, depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    if (current instanceof HostRefusedError) return current;
    const inner = current as { detail?: unknown; cause?: unknown };
    current = inner.detail ?? inner.cause;
  }
  return null;
}

// Cast: node:net's LookupFunction callback and dns.lookup's overloads describe the same callback differently.
export const systemLookup: LookupFunction = (hostname, options, callback) =>
  dns.lookup(hostname, options, callback as never);

/**
 * The policy for a gateway whose requests go to `apiBase` (null: Stripe itself, api.stripe.com): loopback, or the
 * hosts of SETTLE_GATEWAY_API_BASE_ALLOW; the operator's STRIPE_API_BASE is trusted whatever it resolves to.
 */
export function gatewayConnectPolicy(apiBase: string | null, rules: GatewayHostRules): ConnectPolicy {
  if (apiBase === null) return connectPolicy({ allow: [STRIPE_API_HOST] });
  const host = new URL(apiBase).hostname;
  return connectPolicy({ allow: rules.apiBaseAllow, trusted: isOperatorApiBase(rules, apiBase) ? [host] : [] });
}

/** The default guard: loopback and Stripe's own host, resolved by dns.lookup. */
export const DEFAULT_CONNECT_GUARD: ConnectGuard = {
  policy: connectPolicy({ allow: [STRIPE_API_HOST] }),
  lookup: systemLookup,
};

/**
 * The host a connection is opened to, in one spelling (WHATWG URL: lower case, IPv4 in dotted quads whatever
 * form it came in, IPv6 without brackets), so what is checked is what is connected to.
 */
export function canonicalHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  try {
    return new URL(bare.includes(':') ? `http://[${bare}]` : `http://${bare}`).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    throw new HostRefusedError('the gateway host is not a host name or IP address');
  }
}

/** Throws when `host` (canonical) is an IP address the policy refuses; a name is checked by guardedLookup. */
export function checkLiteral(policy: ConnectPolicy, host: string): void {
  if (isIP(host) === 0) return;
  const reason = policy.refusal(host, host);
  if (reason !== null) throw new HostRefusedError(reason);
}

/** Checks the socket's remote address once connected (kept-alive sockets included); null when allowed. */
export function remoteRefusal(
  policy: ConnectPolicy,
  host: string,
  remoteAddress: string | undefined,
): HostRefusedError | null {
  const reason = policy.refusal(host, remoteAddress ?? '(no address)');
  return reason === null ? null : new HostRefusedError(reason);
}

/**
 * A lookup for http.request / net.connect that resolves through `guard.lookup` and fails with a HostRefusedError
 * when any address found is refused (so a name with one bad address is refused whole).
 */
export function guardedLookup(guard: ConnectGuard): LookupFunction {
  return (hostname, options, callback) => {
    guard.lookup(hostname, { ...options, all: true }, (error, found, family) => {
      if (error) return callback(error, []);
      const list = Array.isArray(found) ? found : [{ address: found, family: family ?? isIP(found) }];
      if (list.length === 0)
        return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
      for (const { address } of list) {
        const reason = guard.policy.refusal(hostname, address);
        if (reason !== null) return callback(new HostRefusedError(reason), []);
      }
      if (options.all) callback(null, list);
      else callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
