/**
 * The key per-address limits count under: IPv6 grouped by /64 whatever its spelling; an IPv6 address that stands
 * for one IPv4 client (IPv4-mapped, NAT64, 6to4, Teredo) as that IPv4 address; anything else unchanged.
 */
import { describe, expect, it } from 'vitest';

import { addressKey } from '../src/http/address-key.js';

describe('addressKey', () => {
  it('keeps an IPv4 address as it is', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
  });

  it('gives every address of one IPv6 /64 the same key, however it is spelled', () => {
    const key = addressKey('2001:db8:ee:ff::1');
    expect(key).toBe('2001:db8:ee:ff::/64');
    for (const other of [
      '2001:0db8:00ee:00ff:0:0:0:1',
      '2001:DB8:EE:FF:1234:5678:9abc:def0',
      '2001:db8:ee:ff:ffff:ffff:ffff:ffff',
      '2001:db8:ee:ff::9%eth0',
      '2001:db8:ee:ff::1.2.3.4',
    ])
      expect(addressKey(other), other).toBe(key);
  });

  it('gives different /64s different keys', () => {
    expect(addressKey('2001:db8:ee:100::1')).toBe('2001:db8:ee:100::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });

  it('reads an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::FFFF:cb00:7107')).toBe('203.0.113.7');
  });

  it('reads a NAT64 address (64:ff9b::/96) as the IPv4 host behind the translator, not as one shared /64', () => {
    expect(addressKey('64:ff9b::203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('64:ff9b::cb00:7107')).toBe('203.0.113.7');
    expect(addressKey('64:ff9b::c633:6401')).toBe('198.51.100.1');
    // Not the well-known /96 (something in bits 32–95): an ordinary /64.
    expect(addressKey('64:ff9b:1::cb00:7107')).toBe('64:ff9b:1:0::/64');
  });

  it('gives every /64 of one 6to4 site (2002::/16) the key of its IPv4 address', () => {
    expect(addressKey('2002:cb00:7107::1')).toBe('203.0.113.7');
    expect(addressKey('2002:cb00:7107:ffff:1:2:3:4')).toBe('203.0.113.7');
    expect(addressKey('2002:cb00:7108::1')).toBe('203.0.113.8');
  });

  it('reads a Teredo address (2001:0::/32) as the public IPv4 address of its client, not the /64 of its server', () => {
    // RFC 4380 §4 layout: server 65.54.227.120, client 192.0.2.45 (inverted: 3fff:fdd2), port 40000 (inverted).
    expect(addressKey('2001:0:4136:e378:8000:63bf:3fff:fdd2')).toBe('192.0.2.45');
    expect(addressKey('2001:0:4136:e378:8000:63bf:3fff:fdd3')).toBe('192.0.2.44');
    expect(addressKey('2001:db8:4136:e378::1')).toBe('2001:db8:4136:e378::/64');
  });

  it('drops the port a proxy may add to a forwarded address, so each connection gets no budget of its own', () => {
    expect(addressKey('203.0.113.7:51234')).toBe('203.0.113.7');
    expect(addressKey('203.0.113.7:443')).toBe(addressKey('203.0.113.7:51235'));
    expect(addressKey('[2001:db8:ee:ff::1]:443')).toBe('2001:db8:ee:ff::/64');
    expect(addressKey('[2001:db8:ee:ff::1]')).toBe('2001:db8:ee:ff::/64');
    expect(addressKey('[::ffff:203.0.113.7]:8080')).toBe('203.0.113.7');
    // Not an address with a port: unchanged.
    expect(addressKey('999.0.113.7:80')).toBe('999.0.113.7:80');
    expect(addressKey('[nonsense]:80')).toBe('[nonsense]:80');
  });

  it('leaves text that is no address unchanged', () => {
    expect(addressKey('unknown')).toBe('unknown');
    expect(addressKey('')).toBe('');
    expect(addressKey('2001:db8:::1')).toBe('2001:db8:::1');
  });
});
