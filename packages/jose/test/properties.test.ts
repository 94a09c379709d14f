/**
 * Property tests (fast-check): random strings, bytes and JSON, and random mutations of valid tokens (flip, insert,
 * delete, swap segments, re-pad, re-case) never verify and never throw anything but `JoseError`. Runs are bounded
 * so the file stays well under ten seconds.
 */
import { Buffer } from 'node:buffer';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  JoseError,
  createVerifier,
  decodeBase64url,
  decodeUnverified,
  encodeBase64url,
  isCanonicalBase64url,
  sign,
  type Algorithm,
  type JWTVerifier,
} from '../src/index.js';
import { fixture } from './support/keys.js';
import { NOW_DATE, SECRET_KEY, b64, b64json, forgeSegments } from './support/tokens.js';

/** Bounded by default; raise with JOT_FC_RUNS for a longer local soak. */
const RUNS = Number(process.env.JOT_FC_RUNS ?? 500);
const ALGS: Algorithm[] = ['HS256', 'ES256', 'EdDSA', 'RS256', 'PS256'];

/** Calls `fn`; returns 'ok' on success, 'rejected' on JoseError, and rethrows anything else. */
function outcome(fn: () => unknown): 'ok' | 'rejected' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof JoseError) return 'rejected';
    throw error;
  }
}

const verifiers = new Map<Algorithm, JWTVerifier>(
  ALGS.map((alg) => [
    alg,
    createVerifier(fixture(alg).verifyingKey, { algorithms: [alg], currentDate: NOW_DATE }),
  ]),
);
const tokens = new Map<Algorithm, string>(
  ALGS.map((alg) => [
    alg,
    sign({ sub: 'user-1', aud: ['a', 'b'], scope: 'read' }, fixture(alg).signingKey, {
      alg,
      expiresIn: '1h',
      issuer: 'https://jot',
      currentDate: NOW_DATE,
    }),
  ]),
);
const allAlgsVerifier = createVerifier(SECRET_KEY, {
  algorithms: ['HS256', 'HS384', 'RS256', 'ES256', 'EdDSA'],
  currentDate: NOW_DATE,
});

const CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \n\u00e9\u{1F600}\u0000';

type Mutation =
  | { kind: 'flip'; at: number; char: string }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'repad'; segment: number; pad: string }
  | { kind: 'recase'; at: number }
  | { kind: 'bits'; segment: number };

/** A random edit of a token. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), char: fc.constantFrom(...CHARS) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.string({ minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constant('swap' as const),
    a: fc.integer({ min: 0, max: 2 }),
    b: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({
    kind: fc.constant('repad' as const),
    segment: fc.integer({ min: 0, max: 2 }),
    pad: fc.constantFrom('=', '==', '==='),
  }),
  fc.record({ kind: fc.constant('recase' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('bits' as const), segment: fc.integer({ min: 0, max: 2 }) }),
);

function applyMutation(token: string, m: Mutation): string {
  const parts = token.split('.');
  // Earlier edits may have removed characters or dots; an edit that no longer applies leaves the token as is.
  if (token.length === 0) return token;
  if ((m.kind === 'repad' || m.kind === 'bits') && parts[m.segment] === undefined) return token;
  if (m.kind === 'swap' && (parts[m.a] === undefined || parts[m.b] === undefined)) return token;
  switch (m.kind) {
    case 'flip': {
      const i = m.at % token.length;
      return token.slice(0, i) + m.char + token.slice(i + 1);
    }
    case 'insert': {
      const i = m.at % (token.length + 1);
      return token.slice(0, i) + m.text + token.slice(i);
    }
    case 'delete': {
      const i = m.at % token.length;
      return token.slice(0, i) + token.slice(i + m.count);
    }
    case 'swap': {
      const copy = [...parts];
      [copy[m.a], copy[m.b]] = [copy[m.b]!, copy[m.a]!];
      return copy.join('.');
    }
    case 'repad':
      return parts.map((p, i) => (i === m.segment ? p + m.pad : p)).join('.');
    case 'recase': {
      const i = m.at % token.length;
      const c = token[i]!;
      const swapped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
      return token.slice(0, i) + swapped + token.slice(i + 1);
    }
    case 'bits': {
      // Set unused trailing bits: same bytes for Buffer.from, a different string for us.
      const p = parts[m.segment]!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(p.at(-1) ?? 'A');
      const bumped = `${p.slice(0, -1)}${alphabet[(last | 1) & 63]}`;
      return parts.map((q, i) => (i === m.segment ? bumped : q)).join('.');
    }
  }
}

describe('mutations of valid tokens never verify', () => {
  for (const alg of ALGS) {
    it(`${alg}: every mutated token is rejected with a JoseError`, () => {
      const token = tokens.get(alg)!;
      const verifier = verifiers.get(alg)!;
      expect(verifier(token).payload.sub).toBe('user-1');
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (edits) => {
          const mutated = edits.reduce(applyMutation, token);
          fc.pre(mutated !== token);
          expect(outcome(() => verifier(mutated))).toBe('rejected');
        }),
        { numRuns: RUNS },
      );
    });
  }
});

describe('random input never throws anything but JoseError', () => {
  it('random strings (any code points)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 })),
        (text) => {
          expect(outcome(() => allAlgsVerifier(text))).toBe('rejected');
          expect(outcome(() => decodeUnverified(text))).toBe('rejected');
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('three random base64url segments of random bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 140 }),
        (h, p, s) => {
          const token = `${b64(h)}.${b64(p)}.${b64(s)}`;
          expect(outcome(() => allAlgsVerifier(token))).toBe('rejected');
          outcome(() => decodeUnverified(token));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('strings over the base64url alphabet and dots', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_\-.=]{0,300}$/), (token) => {
        expect(outcome(() => allAlgsVerifier(token))).toBe('rejected');
      }),
      { numRuns: RUNS },
    );
  });

  it('random JSON headers and payloads with a valid HMAC: verified or JoseError, nothing else', () => {
    const header = fc.record(
      {
        alg: fc.oneof(fc.constantFrom('HS256', 'none', 'HS512', 'RS256'), fc.jsonValue()),
        kid: fc.jsonValue(),
        typ: fc.jsonValue(),
        crit: fc.jsonValue(),
        b64: fc.jsonValue(),
        jwk: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const payload = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          exp: fc.jsonValue(),
          nbf: fc.jsonValue(),
          iat: fc.jsonValue(),
          aud: fc.jsonValue(),
          iss: fc.jsonValue(),
          __proto__: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(header, payload, (h, p) => {
        const token = forgeSegments(b64json(h), b64json(p));
        const result = outcome(() => allAlgsVerifier(token));
        if (result === 'ok') {
          expect((h as Record<string, unknown>).alg).toBe('HS256');
          expect(typeof (p as Record<string, unknown>).exp).toBe('number');
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('canonical base64url', () => {
  it('every byte string has exactly one accepted spelling', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = encodeBase64url(bytes);
        expect(isCanonicalBase64url(text)).toBe(true);
        expect(decodeBase64url(text)).toEqual(Buffer.from(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it('any accepted string re-encodes to itself', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_\-+/=]{0,24}$/), (text) => {
        const bytes = decodeBase64url(text);
        if (bytes !== undefined) expect(encodeBase64url(bytes)).toBe(text);
        else expect(isCanonicalBase64url(text)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });
});
