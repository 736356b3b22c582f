import { describe, expect, it } from 'vitest';
import { createAddressGuard, embeddedIpv4, ipv6Groups } from './address-guard.js';

describe('ipv6Groups', () => {
  it('expands ::, and a trailing dotted quad into two groups', () => {
    expect(ipv6Groups('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('2002:7f00:1::')).toEqual([0x2002, 0x7f00, 1, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('::ffff:0:127.0.0.1')).toEqual([0, 0, 0, 0, 0xffff, 0, 0x7f00, 1]);
    expect(ipv6Groups('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ipv6Groups('10.0.0.1')).toBeNull();
  });
});

describe('embeddedIpv4', () => {
  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::ffff:7f00:1', '127.0.0.1'],
    ['::127.0.0.1', '127.0.0.1'],
    ['::7f00:1', '127.0.0.1'],
    ['::ffff:0:127.0.0.1', '127.0.0.1'],
    ['64:ff9b::a9fe:a9fe', '169.254.169.254'],
    ['2002:7f00:1::', '127.0.0.1'],
    ['2002:c0a8:0101:1::5', '192.168.1.1'],
    ['2002:0808:0808::1', '8.8.8.8'],
  ])('%s carries %s', (ip, v4) => expect(embeddedIpv4(ip)).toBe(v4));

  it('finds none in ordinary IPv6 addresses', () => {
    for (const ip of ['::1', '::', '2606:4700::1111', 'fe80::1', '2001:db8::1']) expect(embeddedIpv4(ip)).toBeNull();
  });
});

describe('address guard', () => {
  const guard = createAddressGuard(['203.0.113.7', 'hooks.internal']);

  it.each([
    '::127.0.0.1', '::ffff:0:127.0.0.1', '2002:7f00:1::', '::ffff:7f00:1', '::ffff:a00:1', '64:ff9b::7f00:1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2', '2002:a9fe:a9fe::', '::ffff:0:10.1.2.3', '::1', '127.0.0.1', '169.254.169.254',
  ])('refuses %s', (ip) => {
    expect(guard.checkIp(ip)).toMatch(/loopback, private, link-local or reserved/);
    expect(guard.checkUrl(new URL(`http://${ip.includes(':') ? `[${ip}]` : ip}/x`))).toMatch(/reserved/);
  });

  it.each(['8.8.8.8', '::ffff:8.8.8.8', '2002:0808:0808::1', '2606:4700::1111', '2a00:1450:4001:82b::200e'])('lets %s through', (ip) => {
    expect(guard.checkIp(ip)).toBeNull();
  });

  it('admits an allow-listed IPv4 address in its IPv6 spellings too', () => {
    expect(guard.checkIp('203.0.113.7')).toBeNull();
    expect(guard.checkIp('::ffff:203.0.113.7')).toBeNull();
    expect(guard.checkIp('203.0.113.8')).toMatch(/reserved/);
  });

  it('resolves names when asked to judge a stored target: loopback names are refused, unresolvable ones pass', async () => {
    expect(await guard.checkHost(new URL('http://localhost:9/hook'))).toMatch(/^localhost resolves to 127\.0\.0\.1: is in a loopback/);
    expect(await guard.checkHost(new URL('http://[::ffff:7f00:1]/hook'))).toMatch(/reserved range/);
    expect(await guard.checkHost(new URL('https://does-not-resolve.invalid/hook'))).toBeNull();
    expect(await guard.checkHost(new URL('https://hooks.internal/hook'))).toBeNull();
  });
});
