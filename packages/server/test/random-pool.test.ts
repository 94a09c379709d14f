/**
 * The pooled random bytes behind refresh tokens, `jti`s and IVs: every draw fresh across pool refills, Buffers that
 * are the caller's own (not views of the pool, which is zeroed and refilled), large requests served in full.
 */
import { describe, expect, it } from 'vitest';

import { randomBase64url, randomBytesPooled } from '../src/services/random-pool.js';
import { sealWith } from '../src/services/secrets.js';

describe('pooled random bytes', () => {
  it('never hands out the same bytes twice, across several refills of the 4 KiB pool', () => {
    const seen = new Set<string>();
    // 2,000 × 12 bytes is over twenty 1 KiB pools; draws that would straddle a refill are among them.
    for (let i = 0; i < 2_000; i++) {
      const iv = randomBytesPooled(12).toString('hex');
      expect(iv).toHaveLength(24);
      expect(iv).not.toBe('0'.repeat(24));
      seen.add(iv);
    }
    for (let i = 0; i < 1_000; i++) seen.add(randomBase64url(32));
    expect(seen.size).toBe(3_000);
  });

  it('writes base64url of the asked size', () => {
    expect(randomBase64url(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomBase64url(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomBase64url(1_000)).toMatch(/^[A-Za-z0-9_-]{1334}$/);
  });

  it('returns Buffers of their own: later draws and refills do not change them', () => {
    // Over memory of their own, too: not a slice of Node's shared pool, whose other contents `.buffer` would show.
    expect(randomBytesPooled(12).buffer.byteLength).toBe(12);
    const first = randomBytesPooled(32);
    const hex = first.toString('hex');
    expect(hex).not.toMatch(/^0+$/); // a view of the pool would be zeroed already
    for (let i = 0; i < 200; i++) randomBase64url(32); // several refills of the pool
    expect(first.toString('hex')).toBe(hex);
  });

  it('gives every sealed value its own AES-GCM IV', () => {
    const key = Buffer.alloc(32, 7);
    const ivs = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const sealed = Buffer.from(sealWith(key, 'same plaintext'), 'base64url');
      ivs.add(sealed.subarray(0, 12).toString('hex'));
    }
    expect(ivs.size).toBe(500);
  });

  it('serves requests larger than it pools straight from the CSPRNG', () => {
    expect(randomBytesPooled(256)).toHaveLength(256);
    expect(randomBytesPooled(257)).toHaveLength(257);
    const big = randomBytesPooled(10_000);
    expect(big).toHaveLength(10_000);
    // All-zero 1 KiB runs would mean unfilled memory.
    for (let at = 0; at < big.length; at += 1_000) {
      expect(big.subarray(at, at + 1_000).some((byte) => byte !== 0)).toBe(true);
    }
  });

  it('produces bytes that look uniform (mean near 127.5 over 64 KiB)', () => {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < 2_048; i++) {
      for (const byte of randomBytesPooled(32)) sum += byte;
      count += 32;
    }
    // The standard deviation of the mean of 65,536 uniform bytes is 0.29; ±3 is over ten of them.
    expect(Math.abs(sum / count - 127.5)).toBeLessThan(3);
  });

  it('refuses sizes that are not positive integers', () => {
    for (const size of [0, -1, 1.5, Number.NaN]) {
      expect(() => randomBytesPooled(size)).toThrow(RangeError);
      expect(() => randomBase64url(size)).toThrow(RangeError);
    }
  });
});
