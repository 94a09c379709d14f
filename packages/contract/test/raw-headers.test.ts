import { describe, expect, it } from 'vitest';

import { rawHeaderCount, rawHeaderValues } from '../src/index.js';

// Node's rawHeaders as a request with two Authorization lines (spelled differently) and one DPoP line arrives.
const raw = ['Host', 'api.test', 'authorization', 'Bearer a', 'DPoP', 'proof', 'AUTHORIZATION', 'Bearer b'];

describe('raw header lines', () => {
  it('counts every line of a field whatever its spelling', () => {
    expect(rawHeaderCount(raw, 'authorization')).toBe(2);
    expect(rawHeaderCount(raw, 'dpop')).toBe(1);
    expect(rawHeaderCount(raw, 'cookie')).toBe(0);
  });

  it('matches whole names only, never a value or a longer name', () => {
    const tricky = ['Authorization-Extra', 'x', 'X-Note', 'authorization', 'authorizatio', 'y'];
    expect(rawHeaderCount(tricky, 'authorization')).toBe(0);
    expect(rawHeaderValues(tricky, 'authorization')).toEqual([]);
  });

  it('gives the values in the order received', () => {
    expect(rawHeaderValues(raw, 'authorization')).toEqual(['Bearer a', 'Bearer b']);
    expect(rawHeaderValues(raw, 'dpop')).toEqual(['proof']);
  });

  it('reads a malformed list (a non-string name or value, a missing last value) without throwing', () => {
    const odd: unknown[] = [42, 'x', 'dpop', 7, 'dpop'];
    expect(rawHeaderCount(odd, 'dpop')).toBe(2);
    expect(rawHeaderValues(odd, 'dpop')).toEqual(['', '']);
  });
});
