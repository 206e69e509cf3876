// The host rules (domain/host-policy.ts): address classes in every spelling, the api_base host rule, the
// connect-time rule, and the address parsers against node:net's isIP.
import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  apiBaseHostRefusal,
  classifyAddress,
  connectPolicy,
  gatewayHostRules,
  normalizeHost,
  parseIPv4,
  parseIPv6,
} from '../../src/domain/host-policy.js';
import { canonicalHost, gatewayConnectPolicy } from '../../src/gateway-adapters/host-policy.js';

/** What an api_base's host becomes once parsed, as app/gateway-records.ts parses it. */
const hostOf = (spelling: string) => new URL(`http://${spelling}:1`).hostname;

describe('address classes, whatever the spelling', () => {
  const cases: [string, string][] = [
    ['169.254.169.254', 'link_local'],
    ['2852039166', 'link_local'], // decimal
    ['0251.0376.0251.0376', 'link_local'], // octal
    ['0xa9fea9fe', 'link_local'], // hex
    ['0xA9.0xFE.0xA9.0xFE', 'link_local'],
    ['169.254.43518', 'link_local'], // short form
    ['[::ffff:169.254.169.254]', 'link_local'], // IPv4-mapped
    ['[::ffff:a9fe:a9fe]', 'link_local'],
    ['[64:ff9b::169.254.169.254]', 'link_local'], // NAT64
    ['[::169.254.169.254]', 'link_local'], // IPv4-compatible
    ['[fe80::1]', 'link_local'],
    ['[febf:ffff::1]', 'link_local'],
    ['[fd00:ec2::254]', 'metadata'],
    ['[FD00:0EC2:0000:0000:0000:0000:0000:0254]', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['127.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['2130706433', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['[::1]', 'loopback'],
    ['[0:0:0:0:0:0:0:1]', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:7f00:2]', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0', 'unspecified'],
    ['[::]', 'unspecified'],
    ['224.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['[ff02::1]', 'reserved'],
    ['10.0.0.1', 'private'],
    ['167772161', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'private'],
    ['[fd12:3456::1]', 'private'],
    ['[::ffff:10.0.0.1]', 'private'],
    ['172.32.0.1', 'public'],
    ['8.8.8.8', 'public'],
    ['[2606:4700::1111]', 'public'],
    ['[fec0::1]', 'private'],
  ];
  it.each(cases)('%s is %s', (spelling, kind) => {
    expect(classifyAddress(hostOf(spelling))).toBe(kind);
    expect(classifyAddress(canonicalHost(spelling))).toBe(kind);
  });

  it('a name is not an address; a zone is not part of one', () => {
    expect(classifyAddress('api.stripe.com')).toBeNull();
    expect(classifyAddress('localhost')).toBeNull();
    expect(classifyAddress('fe80::1%eth0')).toBe('link_local');
  });

  it('one spelling per host for comparisons', () => {
    expect(normalizeHost('[::ffff:10.0.0.1]')).toBe('10.0.0.1');
    expect(normalizeHost('FD00:0:0::1')).toBe('fd00::1');
    expect(normalizeHost('Emulator.Internal.')).toBe('emulator.internal');
    expect(normalizeHost('167772161')).toBe('10.0.0.1');
  });
});

describe('the parsers agree with node:net isIP', () => {
  it('on generated IPv4 and IPv6 addresses and near misses', () => {
    const v4 = fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((parts) => parts.join('.'));
    const v6 = fc
      .array(
        fc.oneof(
          fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16)),
          fc.constant(''),
          fc.constant('1.2.3.4'),
        ),
        { minLength: 1, maxLength: 10 },
      )
      .map((groups) => groups.join(':'));
    const text = fc.stringMatching(/^[0-9a-f:.]{0,20}$/);
    fc.assert(
      fc.property(fc.oneof(v4, v6, text), (candidate) => {
        expect(parseIPv4(candidate) !== null, candidate).toBe(isIP(candidate) === 4);
        expect(parseIPv6(candidate) !== null, candidate).toBe(isIP(candidate) === 6);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads the bytes right', () => {
    expect(parseIPv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4]);
    expect(parseIPv6('1::')).toEqual([0, 1, ...new Array(14).fill(0)]);
    expect(parseIPv4('01.2.3.4')).toBeNull();
  });
});

describe('the api_base host rule', () => {
  it('allows loopback and localhost, and a listed host (private ones too)', () => {
    for (const host of ['127.0.0.1', '127.1', '[::1]', '[::ffff:127.0.0.1]', 'localhost', 'LOCALHOST'])
      expect(apiBaseHostRefusal(hostOf(host), [])).toBeNull();
    expect(apiBaseHostRefusal('10.0.0.1', ['10.0.0.1'])).toBeNull();
    expect(apiBaseHostRefusal(hostOf('167772161'), ['10.0.0.1'])).toBeNull();
    expect(apiBaseHostRefusal(hostOf('[::ffff:10.0.0.1]'), ['10.0.0.1'])).toBeNull();
    expect(apiBaseHostRefusal('emulator.internal', ['Emulator.Internal'])).toBeNull();
    expect(apiBaseHostRefusal(hostOf('[fd12::1]'), ['[FD12:0::1]'])).toBeNull();
  });

  it('refuses what is not listed, and link-local and metadata addresses even when listed', () => {
    expect(apiBaseHostRefusal('10.0.0.1', [])?.code).toBe('api_base_host_not_allowed');
    expect(apiBaseHostRefusal('stripe.proxy.test', [])?.code).toBe('api_base_host_not_allowed');
    for (const spelling of [
      '169.254.169.254',
      '2852039166',
      '0251.0376.0251.0376',
      '0xa9fea9fe',
      '[::ffff:a9fe:a9fe]',
      '[fe80::1]',
      '[fd00:ec2::254]',
      '0.0.0.0',
    ]) {
      const host = hostOf(spelling);
      expect(
        apiBaseHostRefusal(host, [host, '169.254.169.254', 'fe80::1', 'fd00:ec2::254', '0.0.0.0'])?.code,
        spelling,
      ).toBe('api_base_host_forbidden');
    }
  });
});

describe('the connect-time rule', () => {
  const policy = connectPolicy({ allow: ['listed.example', '10.0.0.9'], trusted: ['operator.example'] });

  it('loopback always; other addresses only for listed hosts; never link-local or metadata', () => {
    expect(policy.refusal('anything.example', '127.0.0.1')).toBeNull();
    expect(policy.refusal('anything.example', '::ffff:127.0.0.1')).toBeNull();
    expect(policy.refusal('listed.example', '10.0.0.7')).toBeNull();
    expect(policy.refusal('listed.example', '8.8.8.8')).toBeNull();
    expect(policy.refusal('10.0.0.9', '10.0.0.9')).toBeNull();
    expect(policy.refusal('anything.example', '10.0.0.7')).toContain('not listed');
    expect(policy.refusal('listed.example', '169.254.169.254')).toContain('never');
    expect(policy.refusal('listed.example', 'fd00:ec2::254')).toContain('never');
    expect(policy.refusal('listed.example', '::ffff:169.254.169.254')).toContain('never');
    expect(policy.refusal('listed.example', 'not-an-address')).toContain('not an IP address');
  });

  it("trusts the operator's STRIPE_API_BASE host whatever it resolves to", () => {
    expect(policy.refusal('operator.example', '10.1.2.3')).toBeNull();
    const rules = gatewayHostRules([], 'http://Operator.Example:12111/');
    expect(rules.operatorApiBase).toBe('http://operator.example:12111');
    expect(
      gatewayConnectPolicy('http://operator.example:12111', rules).refusal('operator.example', '169.254.1.1'),
    ).toBeNull();
    expect(
      gatewayConnectPolicy('http://operator.example:9999', rules).refusal('operator.example', '10.1.2.3'),
    ).not.toBeNull();
  });

  it('a gateway without api_base may reach api.stripe.com (any public address), nothing else but loopback', () => {
    const stripe = gatewayConnectPolicy(null, gatewayHostRules(['10.0.0.9'], undefined));
    expect(stripe.refusal('api.stripe.com', '54.187.174.169')).toBeNull();
    expect(stripe.refusal('api.stripe.com', '169.254.169.254')).not.toBeNull();
    expect(stripe.refusal('10.0.0.9', '10.0.0.9')).not.toBeNull();
  });
});
