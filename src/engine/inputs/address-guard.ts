import dns from 'node:dns';
import net from 'node:net';
import { Agent } from 'undici';

/**
 * Keeps outbound requests (reference downloads, callbacks) away from this host and its network:
 * loopback, private, link-local (cloud metadata), CGNAT, multicast and reserved ranges are refused,
 * checked on every resolved address and again on every redirect. An allow-list of hosts, IPs or
 * CIDRs opts specific targets in (RESHOOT_FETCH_ALLOW_HOSTS).
 */
const BLOCKED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const BLOCKED_V6: Array<[string, number]> = [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
];

export class AddressRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefusedError';
  }
}

export interface AddressGuard {
  /** why this IP may not be contacted, or null */
  checkIp(ip: string): string | null;
  /** why this URL's host may not be contacted before any lookup (literal IPs, allow-listed names), or null */
  checkUrl(url: URL): string | null;
  /**
   * checkUrl, then the name resolved now and every address checked: for targets stored to be
   * contacted later (callbacks), refused at once. A name that does not resolve now passes: it is
   * checked again when contacted.
   */
  checkHost(url: URL): Promise<string | null>;
  /** an undici dispatcher whose DNS lookups refuse blocked addresses */
  dispatcher: Agent;
}

function family(ip: string): 'ipv4' | 'ipv6' {
  return net.isIPv4(ip) ? 'ipv4' : 'ipv6';
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted quad counts as two), or null. */
export function ipv6Groups(ip: string): number[] | null {
  if (!net.isIPv6(ip)) return null;
  let text = ip.toLowerCase();
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const groups = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 ? groups : null;
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/**
 * The IPv4 address an IPv6 address carries, for the forms that route to it: mapped
 * (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), translated (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::/96`)
 * and 6to4 (`2002:AABB:CCDD::`). Teredo (2001::/32) is refused whole, with the range it sits in.
 */
export function embeddedIpv4(ip: string): string | null {
  const g = ipv6Groups(ip);
  if (!g) return null;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroTo(5) && g5 === 0xffff) return v4(g6, g7);
  if (zeroTo(6) && (g6 !== 0 || g7 > 1)) return v4(g6, g7);
  if (zeroTo(4) && g4 === 0xffff && g5 === 0) return v4(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4(g6, g7);
  if (g0 === 0x2002) return v4(g1, g2);
  return null;
}

export function createAddressGuard(allow: readonly string[], opts: { connectTimeoutMs?: number } = {}): AddressGuard {
  const blocked = new net.BlockList();
  for (const [a, p] of BLOCKED_V4) blocked.addSubnet(a, p, 'ipv4');
  for (const [a, p] of BLOCKED_V6) blocked.addSubnet(a, p, 'ipv6');

  const allowed = new net.BlockList();
  const allowedNames = new Set<string>();
  for (const raw of allow) {
    const entry = raw.trim().toLowerCase();
    const [addr, prefix] = entry.split('/');
    if (addr && net.isIP(addr)) {
      if (prefix !== undefined) allowed.addSubnet(addr, Number(prefix), family(addr));
      else allowed.addAddress(addr, family(addr));
    } else if (entry) {
      allowedNames.add(entry);
    }
  }

  const checkIp = (rawIp: string): string | null => {
    if (!net.isIP(rawIp)) return `address ${rawIp} is not an IP address`;
    // An IPv6 form that carries an IPv4 address is judged by that address too (allowing either admits it).
    const inner = embeddedIpv4(rawIp);
    const candidates = inner ? [rawIp, inner] : [rawIp];
    if (candidates.some((ip) => allowed.check(ip, family(ip)))) return null;
    for (const ip of candidates) {
      if (blocked.check(ip, family(ip))) return `address ${ip} is in a loopback, private, link-local or reserved range`;
    }
    return null;
  };

  const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '').toLowerCase();

  const checkUrl = (url: URL): string | null => {
    const host = hostOf(url);
    if (allowedNames.has(host)) return null;
    if (net.isIP(host)) return checkIp(host);
    return null;
  };

  const checkHost = async (url: URL): Promise<string | null> => {
    const literal = checkUrl(url);
    const host = hostOf(url);
    if (literal || net.isIP(host) || allowedNames.has(host)) return literal;
    const addresses = await dns.promises.lookup(host, { all: true }).catch(() => []);
    for (const a of addresses) {
      const why = checkIp(a.address);
      if (why) return `${host} resolves to ${a.address}: ${why.replace(/^address \S+ /, '')}`;
    }
    return null;
  };

  // A lookup that resolves as usual and then refuses the answer if any address is blocked
  // (all of them are checked: the connection may try each one).
  const lookup = (hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err);
      const list = addresses as dns.LookupAddress[];
      if (!allowedNames.has(hostname.toLowerCase())) {
        for (const a of list) {
          const why = checkIp(a.address);
          if (why) return callback(new AddressRefusedError(`${hostname} resolves to ${a.address}: ${why.replace(/^address \S+ /, '')}`));
        }
      }
      if (options.all) callback(null, list);
      else callback(null, list[0]!.address, list[0]!.family);
    });
  };

  const dispatcher = new Agent({
    connect: { lookup: lookup as unknown as net.LookupFunction, timeout: opts.connectTimeoutMs ?? 10_000 },
    keepAliveTimeout: 1000,
  });

  return { checkIp, checkUrl, checkHost, dispatcher };
}
