/**
 * The verifier's fast canonical-base64url check (`decodeCanonicalInto`: Buffer's lenient decoder, then a length check,
 * a search for `+` and `/`, the trailing bits and a test for two-byte characters) must refuse exactly what the
 * reference definition (`isCanonicalBase64url`: one regular expression over every character, then the trailing bits)
 * refuses. It leans on how Node's decoder treats characters outside the alphabet, so every UTF-16 code unit is tried
 * in every position class here: a Node whose decoder reads some character more leniently fails this file.
 */
import { Buffer } from 'node:buffer';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { decodeBase64url, decodeCanonicalInto, isCanonicalBase64url } from '../src/lib/base64url.js';

const into = Buffer.alloc(64);

/** The fast check's verdict, and that a canonical text decodes to what Buffer.from gives. */
function fastVerdict(text: string): boolean {
  const length = decodeCanonicalInto(text, into, 3);
  if (length < 0) return false;
  expect(into.subarray(3, 3 + length)).toEqual(Buffer.from(text, 'base64url'));
  return true;
}

// Canonical segments with 0, 2 and 3 characters past the last full group of four.
const BASES = ['eyJhbGci', 'eyJhbGciOg', 'eyJhbGciOiI'];

describe('decodeCanonicalInto refuses exactly what isCanonicalBase64url refuses', () => {
  it('the bases are canonical and the fast check accepts them', () => {
    for (const base of BASES) {
      expect(isCanonicalBase64url(base)).toBe(true);
      expect(fastVerdict(base)).toBe(true);
    }
  });

  it('every UTF-16 code unit, put in place of a first, middle and last character, added, and inserted', () => {
    const disagreements: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      const c = String.fromCharCode(code);
      for (const base of BASES) {
        const variants = [
          c + base.slice(1),
          base.slice(0, 4) + c + base.slice(5),
          base.slice(0, -1) + c,
          base + c,
          base.slice(0, 3) + c + base.slice(3),
        ];
        for (const text of variants) {
          if (fastVerdict(text) !== isCanonicalBase64url(text)) disagreements.push(`U+${code.toString(16)}`);
        }
      }
      if (disagreements.length > 20) break;
    }
    expect(disagreements).toEqual([]);
  });

  it('padding, whitespace and both alphabets mixed, at every length up to twelve', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom(...'AQgw-_+/= \n.?\u00e9\u0141', 'A', 'B', 'g', 'Z'),
          maxLength: 12,
        }),
        (text) => fastVerdict(text) === isCanonicalBase64url(text),
      ),
      { numRuns: 5000 },
    );
  });

  it('random strings of any code units', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        expect(fastVerdict(text)).toBe(isCanonicalBase64url(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('decodeBase64url gives a Buffer of its own for canonical text, undefined otherwise', () => {
    expect(decodeBase64url('aGk')).toEqual(Buffer.from('hi'));
    expect(decodeBase64url('')).toEqual(Buffer.alloc(0));
    for (const text of ['aGk=', 'aGl', 'a+k', 'a/k', ' aGk', 'a\u0147k', 'aGkx5']) {
      expect(decodeBase64url(text)).toBeUndefined();
    }
  });
});
