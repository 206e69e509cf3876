// Where a gateway may send its requests (and with them its API key): the address classes Settle never connects to,
// the rule for a test-mode gateway's api_base (loopback, or a host the operator listed in
// SETTLE_GATEWAY_API_BASE_ALLOW), and the rule applied to every address a connection resolves to. Pure: no I/O; the
// connection guard that applies it is gateway-adapters/host-policy.ts.
//
// Addresses are compared as bytes, so every spelling of one address is the same address: an IPv4 address written
// as IPv6 (::ffff:169.254.169.254, ::ffff:a9fe:a9fe), and, through WHATWG URL parsing (`new URL().hostname`, which
// api_base and the guard both use), decimal (2852039166), octal (0251.0376.0251.0376), hex (0xa9fea9fe) and short
// (127.1) IPv4 forms.

/** How an address is treated. */
export type AddressKind =
  | 'loopback' // 127.0.0.0/8, ::1: always allowed
  | 'link_local' // 169.254.0.0/16, fe80::/10: cloud metadata services live here; never
  | 'metadata' // other cloud metadata addresses (fd00:ec2::254, 100.100.100.200); never
  | 'unspecified' // 0.0.0.0/8, ::: "this host" on most systems, a way around the loopback rule; never
  | 'reserved' // multicast, broadcast, 240.0.0.0/4: no API lives there; never
  | 'private' // 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7: only when the host is listed
  | 'public'; // only when the host is listed (or is Stripe's own, for a gateway without api_base)

/** Kinds refused even for a host the operator listed. */
export const NEVER_ALLOWED: ReadonlySet<AddressKind> = new Set(['link_local', 'metadata', 'unspecified', 'reserved']);

const KIND_LABEL: Record<AddressKind, string> = {
  loopback: 'loopback',
  link_local: 'link-local (cloud metadata services answer there)',
  metadata: 'cloud metadata service',
  unspecified: 'unspecified ("this host")',
  reserved: 'multicast, broadcast or reserved',
  private: 'private-network',
  public: 'public',
};

const IPV4 =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** The 4 bytes of a dotted-quad IPv4 address (the only form node:net isIP accepts), or null. */
export function parseIPv4(text: string): number[] | null {
  const match = IPV4.exec(text);
  return match ? match.slice(1, 5).map(Number) : null;
}

/** The 16 bytes of an IPv6 address (no brackets, no zone), or null. Accepts a dotted IPv4 tail (::ffff:1.2.3.4). */
export function parseIPv6(text: string): number[] | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length > 45) return null;
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
      out.push(parseInt(group, 16));
    }
    return out;
  };
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (left === null || right === null) return null;
  const given = left.length + right.length + tail.length;
  let words: number[];
  if (halves.length === 2) {
    if (given > 7) return null;
    words = [...left, ...new Array<number>(8 - given).fill(0), ...right, ...tail];
  } else {
    if (given !== 8) return null;
    words = [...left, ...tail];
  }
  return words.flatMap((word) => [word >> 8, word & 0xff]);
}

function kindOfIPv4([a, b, c, d]: number[]): AddressKind {
  if (a === 127) return 'loopback';
  if (a === 169 && b === 254) return 'link_local';
  if (a === 100 && b === 100 && c === 100 && d === 200) return 'metadata'; // Alibaba Cloud's metadata service
  if (a === 0) return 'unspecified';
  if (a! >= 224) return 'reserved'; // multicast 224/4, reserved 240/4, broadcast
  if (
    a === 10 ||
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b! >= 64 && b! <= 127)
  )
    return 'private';
  return 'public';
}

const isZero = (bytes: number[]) => bytes.every((byte) => byte === 0);

function kindOfIPv6(bytes: number[]): AddressKind {
  const first96 = bytes.slice(0, 12);
  const v4 = bytes.slice(12);
  if (isZero(first96)) {
    if (isZero(v4)) return 'unspecified';
    if (v4[0] === 0 && v4[1] === 0 && v4[2] === 0 && v4[3] === 1) return 'loopback';
    return kindOfIPv4(v4); // IPv4-compatible (::a.b.c.d, deprecated): treated as the IPv4 address
  }
  // IPv4-mapped ::ffff:a.b.c.d, and the NAT64 prefix 64:ff9b::/96 (reaches the IPv4 address through a translator)
  if (isZero(bytes.slice(0, 10)) && bytes[10] === 0xff && bytes[11] === 0xff) return kindOfIPv4(v4);
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && isZero(bytes.slice(4, 12)))
    return kindOfIPv4(v4);
  const word0 = (bytes[0]! << 8) | bytes[1]!;
  if ((word0 & 0xffc0) === 0xfe80) return 'link_local';
  // fd00:ec2::254, AWS's metadata service over IPv6
  if (
    word0 === 0xfd00 &&
    bytes[2] === 0x0e &&
    bytes[3] === 0xc2 &&
    isZero(bytes.slice(4, 14)) &&
    bytes[14] === 0x02 &&
    bytes[15] === 0x54
  )
    return 'metadata';
  if ((word0 & 0xfe00) === 0xfc00 || (word0 & 0xffc0) === 0xfec0) return 'private'; // unique local, old site-local
  if (bytes[0] === 0xff) return 'reserved'; // multicast
  return 'public';
}

/** The kind of an IP address (v4 dotted quad or v6, brackets allowed), or null when `text` is not one. */
export function classifyAddress(text: string): AddressKind | null {
  const bare = text.replace(/^\[(.*)\]$/, '$1').replace(/%[^%]*$/, ''); // a zone (fe80::1%eth0) is not part of the address
  const v4 = parseIPv4(bare);
  if (v4) return kindOfIPv4(v4);
  const v6 = parseIPv6(bare);
  return v6 ? kindOfIPv6(v6) : null;
}

/**
 * One spelling per host, for comparisons: lower case, no brackets, no trailing dot; an IPv4 address written as
 * IPv4-mapped IPv6 becomes the IPv4 address; other IPv6 addresses take the WHATWG (compressed) form.
 */
export function normalizeHost(host: string): string {
  const bare = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  const v6 = bare.includes(':') ? parseIPv6(bare) : null;
  if (v6 === null) {
    if (bare.includes(':')) return bare;
    try {
      return new URL(`http://${bare}`).hostname; // IPv4 spellings (decimal, octal, hex, short) become dotted quads
    } catch {
      return bare;
    }
  }
  if (isZero(v6.slice(0, 10)) && v6[10] === 0xff && v6[11] === 0xff) return v6.slice(12).join('.');
  return new URL(`http://[${bare}]`).hostname.replace(/^\[(.*)\]$/, '$1');
}

/** "169.254.169.254 is a link-local (...) address" */
export function describeAddress(address: string, kind: AddressKind): string {
  return `${address} is a ${KIND_LABEL[kind]} address`;
}

// ---- the rules -----------------------------------------------------------------------------------------------

/** What the operator configured: hosts an api_base may name, and STRIPE_API_BASE (exempt from the rules). */
export interface GatewayHostRules {
  /** SETTLE_GATEWAY_API_BASE_ALLOW: host names or addresses (besides loopback) a test-mode api_base may name. */
  apiBaseAllow: readonly string[];
  /** STRIPE_API_BASE as an origin (http://host:port), or null: the operator's own choice, not subject to the rules. */
  operatorApiBase: string | null;
}

export const NO_EXTRA_HOSTS: GatewayHostRules = { apiBaseAllow: [], operatorApiBase: null };

/** The rules from the configuration's values (STRIPE_API_BASE normalised to an origin, the list to one spelling each). */
export function gatewayHostRules(
  apiBaseAllow: readonly string[] | undefined,
  stripeApiBase: string | undefined | null,
): GatewayHostRules {
  return {
    apiBaseAllow: (apiBaseAllow ?? []).map(normalizeHost),
    operatorApiBase: stripeApiBase ? new URL(stripeApiBase).origin : null,
  };
}

/** Whether a record's api_base is the operator's STRIPE_API_BASE (then its host is the operator's choice). */
export function isOperatorApiBase(rules: GatewayHostRules, apiBase: string | null): boolean {
  return apiBase !== null && rules.operatorApiBase !== null && apiBase === rules.operatorApiBase;
}

export interface HostRefusal {
  /** api_base_host_forbidden: an address class never allowed; api_base_host_not_allowed: not loopback, not listed. */
  code: 'api_base_host_forbidden' | 'api_base_host_not_allowed';
  message: string;
}

/**
 * Why an api_base host (a URL's hostname) may not be named, or null: loopback addresses and `localhost` are
 * allowed, hosts listed in `allow` too (private addresses included), never a link-local, metadata, unspecified
 * or reserved address, whatever the list says.
 */
export function apiBaseHostRefusal(hostname: string, allow: readonly string[]): HostRefusal | null {
  const host = normalizeHost(hostname);
  const kind = classifyAddress(host);
  if (kind !== null && NEVER_ALLOWED.has(kind)) {
    return {
      code: 'api_base_host_forbidden',
      message: `${describeAddress(host, kind)}, to which Settle never sends requests (even when listed in SETTLE_GATEWAY_API_BASE_ALLOW).`,
    };
  }
  if (kind === 'loopback' || host === 'localhost') return null;
  if (allow.map(normalizeHost).includes(host)) return null;
  return {
    code: 'api_base_host_not_allowed',
    message: `${host} is neither a loopback address (127.0.0.0/8, ::1) nor listed in the server's SETTLE_GATEWAY_API_BASE_ALLOW.`,
  };
}

/** Decides, for one connection, whether the address its host resolved to may be connected to. */
export interface ConnectPolicy {
  /** Why connecting to `address` (what `host` resolved to; `host` itself when it is an address) is refused, or null. */
  refusal(host: string, address: string): string | null;
}

/**
 * The connect-time rule for one gateway: link-local, metadata, unspecified and reserved addresses never; loopback
 * always; any other address only for a host in `allow`. A `trusted` host (the operator's STRIPE_API_BASE) may
 * resolve to anything.
 */
export function connectPolicy(options: { allow: readonly string[]; trusted?: readonly string[] }): ConnectPolicy {
  const allow = new Set(options.allow.map(normalizeHost));
  const trusted = new Set((options.trusted ?? []).map(normalizeHost));
  return {
    refusal(host, address) {
      const name = normalizeHost(host);
      if (trusted.has(name)) return null;
      const kind = classifyAddress(address);
      if (kind === null) return `${host} resolved to '${address}', which is not an IP address`;
      const shown =
        name === normalizeHost(address)
          ? describeAddress(address, kind)
          : `${name} resolved to ${address}, which is a ${KIND_LABEL[kind]} address`;
      if (NEVER_ALLOWED.has(kind)) return `${shown}: Settle never connects there`;
      if (kind === 'loopback' || allow.has(name)) return null;
      return `${shown} and ${name} is not listed in SETTLE_GATEWAY_API_BASE_ALLOW`;
    },
  };
}
