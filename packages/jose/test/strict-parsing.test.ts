/**
 * Strict reading of the compact serialization: three parts, canonical base64url only, UTF-8 JSON objects, typed
 * header parameters, `crit`/`b64` refused, `alg: none` in any casing refused, header key sources ignored, and a size
 * limit applied before any decoding. Each forged token carries a valid HMAC so only the rule under test can fail.
 */
import { Buffer } from 'node:buffer';
import { sign as cryptoSign } from 'node:crypto';

import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  DEFAULT_MAX_TOKEN_LENGTH,
  MAX_KID_LENGTH,
  KeySet,
  createVerifier,
  decodeUnverified,
  importSecret,
  sign,
  verify,
  verifyJWS,
  type Algorithm,
} from '../src/index.js';
import { expectJoseError } from './support/assert.js';
import { fixture } from './support/keys.js';
import {
  NOW_DATE,
  SECRET,
  SECRET_KEY,
  b64,
  b64json,
  claims,
  forge,
  forgeSegments,
} from './support/tokens.js';
import { rfc7515A1 } from './support/vectors.js';
import { keyPair } from '../../../test-support/key-pair.js';

const HS256 = { algorithms: ['HS256'] as Algorithm[], currentDate: NOW_DATE };
const check = (token: unknown) => verify(token as string, SECRET_KEY, HS256);
const HEADER = { alg: 'HS256', typ: 'JWT' };

describe('exactly three parts', () => {
  const good = forge(HEADER, claims());
  const [h, p, s] = good.split('.') as [string, string, string];

  it('a well-formed control token verifies', () => {
    expect(check(good).payload.sub).toBe('user-1');
  });

  for (const [name, token] of [
    ['no dot', `${h}${p}${s}`],
    ['two parts', `${h}.${p}`],
    ['a leading dot (four parts)', `.${good}`],
    ['four parts', `${good}.${s}`],
    ['five parts (JWE shape)', `${h}.${p}.${p}.${p}.${s}`],
    ['empty string', ''],
    ['only dots', '..'],
  ] as const) {
    it(`${name} → ERR_JWS_INVALID`, () => expectJoseError(() => check(token), 'ERR_JWS_INVALID'));
  }

  for (const value of [undefined, null, 42, {}, ['a', 'b', 'c'], Buffer.from(good)]) {
    it(`a non-string token (${Object.prototype.toString.call(value)}) → ERR_JWS_INVALID`, () =>
      expectJoseError(() => check(value), 'ERR_JWS_INVALID'));
  }
});

/**
 * Spellings of `segment` that Buffer.from(…, 'base64url') would decode but that are not canonical. Every spelling is
 * always produced: `segment` must hold a "-" or "_" and have unused trailing bits (length 2 or 3 mod 4), and a
 * segment that does not is a mistake in the test, never a reason to register fewer cases.
 */
function nonCanonicalSpellings(segment: string): [string, string][] {
  const rem = segment.length % 4;
  if (!/[-_]/.test(segment) || (rem !== 2 && rem !== 3)) {
    throw new Error(`segment ${segment} needs a "-" or "_" and a length of 2 or 3 mod 4`);
  }
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(segment.at(-1)!);
  const bumped = `${segment.slice(0, -1)}${alphabet[last | 1]!}`; // sets the lowest unused bit, which decoders ignore
  expect(Buffer.from(bumped, 'base64url')).toEqual(Buffer.from(segment, 'base64url'));
  return [
    ['leading space', ` ${segment}`],
    ['embedded newline', `${segment.slice(0, 4)}\n${segment.slice(4)}`],
    ['embedded tab', `${segment.slice(0, 4)}\t${segment.slice(4)}`],
    ['a "?"', `${segment.slice(0, 4)}?${segment.slice(4)}`],
    ['"=" padding', `${segment}${'='.repeat(4 - rem)}`],
    ['one "=" inside', `${segment.slice(0, 4)}=${segment.slice(4)}`],
    ['base64 "+" and "/" instead of "-" and "_"', segment.replace(/-/g, '+').replace(/_/g, '/')],
    ['non-zero unused trailing bits', bumped],
  ];
}

describe('canonical base64url only', () => {
  // Fixed texts whose encodings hold both "-" and "_" and have unused trailing bits (length 3 mod 4), so every
  // spelling above applies: "?" (0x3F) and "~" (0x7E) encode to "_" and "-" at these offsets.
  const header = b64json({ alg: 'HS256', typ: 'JWT', x: '?~~~' });
  const payload = b64json(claims({ pad: '???~~~' }));
  // The signature comes from RFC 7515 A.1 (vectors/rfc7515-appendix-a.json), a fixed token whose signature holds
  // both characters too; a signature made here with a random secret has them only three times in four.
  const a1 = rfc7515A1();
  const [a1Header, a1Payload, a1Signature] = a1.token.split('.') as [string, string, string];

  it('the segments used here hold "-" and "_" and have a remainder, and their tokens verify', () => {
    for (const segment of [header, payload, a1Signature]) {
      expect(segment).toMatch(/-/);
      expect(segment).toMatch(/_/);
      expect([2, 3]).toContain(segment.length % 4);
    }
    expect(check(forgeSegments(header, payload)).payload.pad).toBe('???~~~');
    expect(verify(a1.token, a1.key, a1.options).payload.iss).toBe('joe');
  });

  for (const [name, variant] of nonCanonicalSpellings(header)) {
    it(`header with ${name} → ERR_JWS_INVALID (even with a valid HMAC over it)`, () =>
      expectJoseError(() => check(forgeSegments(variant, payload)), 'ERR_JWS_INVALID'));
  }
  for (const [name, variant] of nonCanonicalSpellings(payload)) {
    it(`payload with ${name} → ERR_JWS_INVALID (even with a valid HMAC over it)`, () =>
      expectJoseError(() => check(forgeSegments(header, variant)), 'ERR_JWS_INVALID'));
  }
  for (const [name, variant] of nonCanonicalSpellings(a1Signature)) {
    it(`signature with ${name} → ERR_JWS_INVALID`, () =>
      expectJoseError(
        () => verify(`${a1Header}.${a1Payload}.${variant}`, a1.key, a1.options),
        'ERR_JWS_INVALID',
      ));
  }

  it('a segment whose length is 1 mod 4 is never base64url → ERR_JWS_INVALID', () => {
    expectJoseError(
      () => check(forgeSegments(`${header}${header.length % 4 === 3 ? 'AA' : 'A'}`, payload)),
      'ERR_JWS_INVALID',
    );
  });
});

describe('header and payload are UTF-8 JSON objects', () => {
  for (const [name, text] of [
    ['an array', '["HS256"]'],
    ['a string', '"HS256"'],
    ['a number', '256'],
    ['null', 'null'],
    ['true', 'true'],
    ['invalid JSON', '{"alg":"HS256",}'],
    ['empty', ''],
    ['a UTF-8 BOM before the object', '\uFEFF{"alg":"HS256"}'],
  ] as const) {
    it(`header that is ${name} → ERR_JWS_INVALID`, () =>
      expectJoseError(() => check(forge(text, claims())), 'ERR_JWS_INVALID'));
    it(`payload that is ${name} → ERR_JWT_INVALID`, () =>
      expectJoseError(() => check(forge(HEADER, text)), 'ERR_JWT_INVALID'));
  }

  it('a BOM is refused even when the text also holds a genuine U+FFFD (both decoders agree)', () => {
    expectJoseError(() => check(forge('\uFEFF{"alg":"HS256","x":"\uFFFD"}', claims())), 'ERR_JWS_INVALID');
    expectJoseError(
      () => check(forge(HEADER, `\uFEFF${JSON.stringify(claims({ x: '\uFFFD' }))}`)),
      'ERR_JWT_INVALID',
    );
  });

  const invalidUtf8 = [
    ['a lone continuation byte', [0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['a UTF-16 surrogate', [0xed, 0xa0, 0x80]],
    ['0xFF', [0xff]],
  ] as const;
  for (const [name, bytes] of invalidUtf8) {
    const text = (inner: number[]) =>
      Buffer.concat([Buffer.from('{"alg":"HS256","x":"'), Buffer.from(inner), Buffer.from('"}')]);
    it(`header holding ${name} → ERR_JWS_INVALID (utf8)`, () => {
      expectJoseError(
        () => check(forgeSegments(b64(text([...bytes])), b64json(claims()))),
        'ERR_JWS_INVALID',
        {
          reason: 'utf8',
        },
      );
    });
    it(`payload holding ${name} → ERR_JWT_INVALID (utf8)`, () => {
      const payload = Buffer.concat([
        Buffer.from(JSON.stringify(claims()).slice(0, -1) + ',"x":"'),
        Buffer.from([...bytes]),
        Buffer.from('"}'),
      ]);
      expectJoseError(() => check(forgeSegments(b64json(HEADER), b64(payload))), 'ERR_JWT_INVALID', {
        reason: 'utf8',
      });
    });
  }

  it('a genuine U+FFFD in a claim is kept', () => {
    expect(check(forge(HEADER, claims({ name: 'a\uFFFDb' }))).payload.name).toBe('a\uFFFDb');
  });

  it('a non-JSON payload is still fine at the JWS layer (RFC 7515 payloads are bytes)', () => {
    expect(verifyJWS(forge(HEADER, 'hello'), SECRET_KEY, HS256).payload.toString()).toBe('hello');
  });
});

describe('alg', () => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE', 'nonE']) {
    it(`"${alg}" → ERR_JOSE_ALG_NOT_ALLOWED (none)`, () => {
      expectJoseError(() => check(`${b64json({ alg })}.${b64json(claims())}.`), 'ERR_JOSE_ALG_NOT_ALLOWED', {
        reason: 'none',
      });
      expectJoseError(() => check(forge({ alg }, claims())), 'ERR_JOSE_ALG_NOT_ALLOWED', { reason: 'none' });
    });
  }
  for (const [name, header] of [
    ['missing', { typ: 'JWT' }],
    ['empty', { alg: '' }],
    ['null', { alg: null }],
    ['a number', { alg: 256 }],
    ['an array', { alg: ['HS256'] }],
    ['an object', { alg: { name: 'HS256' } }],
    ['lower case "hs256"', { alg: 'hs256' }],
    ['"HS256 " with a space', { alg: 'HS256 ' }],
    ['"HS256\\u0000"', { alg: 'HS256\u0000' }],
    ['an algorithm outside the allow-list', { alg: 'HS512' }],
    ['an unknown algorithm', { alg: 'HS1024' }],
    ['"__proto__"', { alg: '__proto__' }],
  ] as const) {
    it(`alg ${name} → ERR_JOSE_ALG_NOT_ALLOWED`, () =>
      expectJoseError(() => check(forge(header, claims())), 'ERR_JOSE_ALG_NOT_ALLOWED', { claim: 'alg' }));
  }

  it('an inherited alg (via a "__proto__" member) does not count', () => {
    expectJoseError(
      () => check(forge('{"__proto__":{"alg":"HS256"}}', claims())),
      'ERR_JOSE_ALG_NOT_ALLOWED',
    );
  });
});

describe('crit and b64', () => {
  for (const [name, header, code] of [
    ['an unknown extension', { ...HEADER, crit: ['exp'], exp: 1 }, 'ERR_JWS_UNSUPPORTED'],
    ['b64 listed', { ...HEADER, crit: ['b64'], b64: true }, 'ERR_JWS_UNSUPPORTED'],
    ['an empty crit', { ...HEADER, crit: [] }, 'ERR_JWS_INVALID'],
    ['crit not an array', { ...HEADER, crit: 'exp', exp: 1 }, 'ERR_JWS_INVALID'],
    ['crit null', { ...HEADER, crit: null }, 'ERR_JWS_INVALID'],
    [
      'crit listing a name absent from the header',
      { ...HEADER, crit: ['http://example.invalid/x'] },
      'ERR_JWS_INVALID',
    ],
    ['crit listing a registered name', { ...HEADER, crit: ['alg'] }, 'ERR_JWS_INVALID'],
    ['crit with a non-string', { ...HEADER, crit: [1] }, 'ERR_JWS_INVALID'],
    ['b64: false', { ...HEADER, b64: false }, 'ERR_JWS_UNSUPPORTED'],
    ['b64: false with crit', { ...HEADER, b64: false, crit: ['b64'] }, 'ERR_JWS_UNSUPPORTED'],
    ['b64 as a string', { ...HEADER, b64: 'false' }, 'ERR_JWS_INVALID'],
  ] as const) {
    it(`${name} → ${code}`, () => expectJoseError(() => check(forge(header, claims())), code));
  }

  it('b64: true without crit is the default meaning and verifies', () => {
    expect(check(forge({ ...HEADER, b64: true }, claims())).header.b64).toBe(true);
  });
});

describe('typed header parameters', () => {
  for (const [name, header] of [
    ['typ a number', { ...HEADER, typ: 1 }],
    ['typ null', { ...HEADER, typ: null }],
    ['cty an object', { ...HEADER, cty: {} }],
    ['kid a number', { ...HEADER, kid: 1 }],
    ['kid an array', { ...HEADER, kid: ['a'] }],
    ['kid null', { ...HEADER, kid: null }],
    ['kid an object', { ...HEADER, kid: { toString: 'x' } }],
    ['kid empty', { ...HEADER, kid: '' }],
    [`kid of ${MAX_KID_LENGTH + 1} characters`, { ...HEADER, kid: 'k'.repeat(MAX_KID_LENGTH + 1) }],
  ] as const) {
    it(`${name} → ERR_JWS_INVALID`, () =>
      expectJoseError(() => check(forge(header, claims())), 'ERR_JWS_INVALID'));
  }

  it(`a kid of exactly ${MAX_KID_LENGTH} characters is accepted`, () => {
    const kid = 'k'.repeat(MAX_KID_LENGTH);
    const set = new KeySet([importSecret(SECRET, { alg: 'HS256', kid })]);
    expect(verify(forge({ ...HEADER, kid }, claims()), set, HS256).header.kid).toBe(kid);
  });
});

describe('jku, x5u, jwk and x5c are never key sources', () => {
  afterEach(() => vi.restoreAllMocks());
  const es = fixture('ES256');
  const attacker = keyPair({ type: 'ec', namedCurve: 'P-256' });
  const attackerJwk = attacker.publicKey.export({ format: 'jwk' });

  function attackerToken(extra: Record<string, unknown>): string {
    const input = `${b64json({ alg: 'ES256', ...extra })}.${b64json(claims())}`;
    const sig = cryptoSign('sha256', Buffer.from(input), {
      key: attacker.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return `${input}.${sig.toString('base64url')}`;
  }

  for (const [name, extra] of [
    ['an embedded jwk', { jwk: attackerJwk }],
    ['an x5c chain', { x5c: [b64('not a cert')] }],
    ['a jku URL', { jku: 'http://127.0.0.1:9/jwks.json' }],
    ['an x5u URL', { x5u: 'http://127.0.0.1:9/cert.pem' }],
  ] as const) {
    it(`a token signed by the attacker's key with ${name} → ERR_JWS_SIGNATURE_INVALID, no request`, () => {
      const fetchSpy = vi.spyOn(globalThis, 'fetch');
      expectJoseError(
        () => verify(attackerToken(extra), es.verifyingKey, { algorithms: ['ES256'], currentDate: NOW_DATE }),
        'ERR_JWS_SIGNATURE_INVALID',
      );
      expect(fetchSpy).not.toHaveBeenCalled();
    });
  }

  it('with a KeySet, an embedded jwk whose kid is not in the set finds nothing', () => {
    const set = new KeySet([es.verifyingKey]);
    expectJoseError(
      () =>
        verify(attackerToken({ jwk: attackerJwk, kid: 'attacker' }), set, {
          algorithms: ['ES256'],
          currentDate: NOW_DATE,
        }),
      'ERR_JWKS_NO_MATCHING_KEY',
    );
  });

  it('a legitimate token carrying jku/x5u verifies without any request (they are ignored)', () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const token = sign(claims(), es.signingKey, {
      header: { jku: 'http://127.0.0.1:9/jwks.json', x5u: 'http://127.0.0.1:9/x.pem' },
      currentDate: NOW_DATE,
    });
    expect(verify(token, es.verifyingKey, { algorithms: ['ES256'], currentDate: NOW_DATE }).payload.sub).toBe(
      'user-1',
    );
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe('size limit first', () => {
  afterEach(() => vi.restoreAllMocks());

  it(`a token of ${DEFAULT_MAX_TOKEN_LENGTH + 1} characters → ERR_JWS_TOO_LARGE; at the limit it verifies`, () => {
    const base = forge(HEADER, claims({ pad: '' }));
    const padTo = (length: number) => forge(HEADER, claims({ pad: 'x'.repeat(length - base.length) }));
    // The padding is base64-expanded, so search for a token exactly at the limit.
    let n = Math.floor(((DEFAULT_MAX_TOKEN_LENGTH - base.length) * 3) / 4) + base.length;
    while (padTo(n).length < DEFAULT_MAX_TOKEN_LENGTH) n += 1;
    while (padTo(n).length > DEFAULT_MAX_TOKEN_LENGTH) n -= 1;
    const atLimit = padTo(n);
    expect(atLimit.length).toBeLessThanOrEqual(DEFAULT_MAX_TOKEN_LENGTH);
    expect(check(atLimit).payload.sub).toBe('user-1');
    const over = padTo(n + 3);
    expect(over.length).toBeGreaterThan(DEFAULT_MAX_TOKEN_LENGTH);
    expectJoseError(() => check(over), 'ERR_JWS_TOO_LARGE');
  });

  it('an oversized token is refused before any base64 or JSON work', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const from = vi.spyOn(Buffer, 'from');
    const garbage = `${'!'.repeat(5000)}.${'?'.repeat(5000)}.x`;
    expectJoseError(() => check(garbage), 'ERR_JWS_TOO_LARGE');
    expectJoseError(() => check('a'.repeat(1_000_000)), 'ERR_JWS_TOO_LARGE');
    expect(parse).not.toHaveBeenCalled();
    expect(from).not.toHaveBeenCalled();
  });

  it('maxTokenLength lowers the limit', () => {
    const token = forge(HEADER, claims());
    const verifier = createVerifier(SECRET_KEY, { ...HS256, maxTokenLength: token.length - 1 });
    expectJoseError(() => verifier(token), 'ERR_JWS_TOO_LARGE');
    expect(createVerifier(SECRET_KEY, { ...HS256, maxTokenLength: token.length })(token).payload.sub).toBe(
      'user-1',
    );
  });

  it('decodeUnverified applies the same limit and the same strictness', () => {
    expectJoseError(() => decodeUnverified('a'.repeat(DEFAULT_MAX_TOKEN_LENGTH + 1)), 'ERR_JWS_TOO_LARGE');
    expectJoseError(() => decodeUnverified(forge('[]', claims())), 'ERR_JWS_INVALID');
    expectJoseError(() => decodeUnverified(forge(HEADER, '[]')), 'ERR_JWT_INVALID');
    expect(decodeUnverified(forge(HEADER, claims())).payload.sub).toBe('user-1');
  });
});
