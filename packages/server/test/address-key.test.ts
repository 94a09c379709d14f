/**
 * The key per-address limits count under: IPv6 grouped by /64 whatever its spelling, IPv4-mapped IPv6 as IPv4,
 * anything else unchanged.
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

  it('leaves text that is no address unchanged', () => {
    expect(addressKey('unknown')).toBe('unknown');
    expect(addressKey('')).toBe('');
    expect(addressKey('2001:db8:::1')).toBe('2001:db8:::1');
  });
});
