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
  /** an undici dispatcher whose DNS lookups refuse blocked addresses */
  dispatcher: Agent;
}

function family(ip: string): 'ipv4' | 'ipv6' {
  return net.isIPv4(ip) ? 'ipv4' : 'ipv6';
}

/** `::ffff:10.0.0.1` is 10.0.0.1 */
function unmap(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

export function createAddressGuard(allow: readonly string[], opts: { connectTimeoutMs?: number } = {}): AddressGuard {
  const blocked = new net.BlockList();
  for (const [a, p] of BLOCKED_V4) blocked.addSubnet(a, p, 'ipv4');
  for (const [a, p] of BLOCKED_V6) blocked.addSubnet(a, p, 'ipv6');
  blocked.addSubnet('::ffff:0:0', 96, 'ipv6'); // mapped addresses are checked as IPv4 after unmapping

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
    const ip = unmap(rawIp);
    if (!net.isIP(ip)) return `address ${rawIp} is not an IP address`;
    const fam = family(ip);
    if (allowed.check(ip, fam)) return null;
    if (blocked.check(ip, fam)) return `address ${ip} is in a loopback, private, link-local or reserved range`;
    return null;
  };

  const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '').toLowerCase();

  const checkUrl = (url: URL): string | null => {
    const host = hostOf(url);
    if (allowedNames.has(host)) return null;
    if (net.isIP(host)) return checkIp(host);
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

  return { checkIp, checkUrl, dispatcher };
}
