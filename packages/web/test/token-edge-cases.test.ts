/**
 * Edge cases of the token debugger's pure logic: time claims that are not finite numbers, non-canonical base64url,
 * header `alg` values that name Object.prototype members, weak or under-specified keys, and stale answers.
 */
import { describe, expect, it } from 'vitest';

import { webCryptoKeyPair } from '../../../test-support/key-pair.js';
import { formatClaim } from '../src/lib/format.js';
import { decodeJwt, isCanonicalBase64url } from '../src/lib/jwt-decode.js';
import { verifyWithJwk, verifyWithPasted, type Jwk } from '../src/lib/jwt-verify.js';
import { warningsFor } from '../src/lib/jwt-warnings.js';
import { createLatest } from '../src/lib/latest.js';

const b64url = (bytes: Uint8Array | string): string =>
  Buffer.from(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes).toString('base64url');
const now = Math.floor(Date.now() / 1000);

/** A token whose payload is exactly `payloadJson` (so `1e400` stays `1e400` on the wire). */
const rawToken = (header: object, payloadJson: string, sig = 'c2ln'): string =>
  `${b64url(JSON.stringify(header))}.${b64url(payloadJson)}.${sig}`;
const ids = (payloadJson: string): string[] =>
  warningsFor(decodeJwt(rawToken({ alg: 'ES256' }, payloadJson)), now).map((w) => w.id);

describe('time claims that are not finite numbers', () => {
  it('flags exp 1e400 (Infinity) as danger instead of saying nothing', () => {
    const w = warningsFor(decodeJwt(rawToken({ alg: 'ES256' }, '{"exp":1e400,"iat":1}')), now);
    expect(w).toContainEqual(expect.objectContaining({ id: 'bad-exp', level: 'danger' }));
    expect(w.map((x) => x.id)).not.toContain('long-lifetime');
  });

  it('flags a string or non-finite exp, nbf and iat, each by name', () => {
    expect(ids('{"exp":"tomorrow"}')).toContain('bad-exp');
    expect(ids(`{"exp":${now + 60},"nbf":-1e400}`)).toEqual(['bad-nbf']);
    expect(ids(`{"exp":${now + 60},"iat":"now"}`)).toEqual(['bad-iat']);
    expect(ids('{"exp":null}')).toContain('bad-exp');
  });

  it('treats a negative exp as a date long past, not as malformed', () => {
    const found = ids('{"exp":-1}');
    expect(found).toContain('expired');
    expect(found).not.toContain('bad-exp');
  });

  it('formatClaim never throws: dates only when finite and within Date range, JSON otherwise', () => {
    const payload = decodeJwt(rawToken({ alg: 'ES256' }, '{"exp":1e400}')).payload;
    expect(() => formatClaim('exp', payload.exp)).not.toThrow();
    expect(formatClaim('exp', payload.exp)).toBe('Infinity');
    expect(formatClaim('nbf', -Infinity)).toBe('-Infinity');
    expect(formatClaim('iat', Number.NaN)).toBe('NaN');
    expect(formatClaim('exp', 'tomorrow')).toBe('tomorrow');
    expect(formatClaim('exp', 1e20)).toBe('100000000000000000000');
    expect(formatClaim('exp', -8.64e12)).toBe('-8640000000000');
    expect(formatClaim('exp', -1)).toMatch(/19(69|70).* — -1$/);
    expect(formatClaim('exp', now)).toMatch(/ — \d+$/);
    expect(formatClaim('exp', 8.64e12 - 1)).not.toMatch(/Invalid Date/);
  });
});

describe('non-canonical base64url', () => {
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  /** Sets the unused low bits of the last character: the same bytes, spelled differently. */
  const tweak = (text: string): string => {
    expect(text.length % 4).not.toBe(0);
    return text.slice(0, -1) + ALPHABET[ALPHABET.indexOf(text.at(-1)!) + 1]!;
  };
  const header = b64url(JSON.stringify({ alg: 'ES256' })); // 15 bytes: 20 characters, no spare bits
  const payload = b64url(JSON.stringify({ sub: 'u' })); // 11 bytes: 15 characters, 2 spare bits

  it('knows canonical text from its variants', () => {
    expect(isCanonicalBase64url('AA')).toBe(true);
    expect(isCanonicalBase64url('AB')).toBe(false);
    expect(isCanonicalBase64url('')).toBe(true);
    expect(isCanonicalBase64url(b64url('x'.repeat(40)))).toBe(true);
  });

  it('decodes a variant but flags it as danger: Jot rejects the token', () => {
    const jwt = decodeJwt(`${header}.${tweak(payload)}.AB`);
    expect(jwt.payload).toEqual({ sub: 'u' });
    expect(jwt.nonCanonical).toEqual(['payload', 'signature']);
    const w = warningsFor(jwt, now);
    expect(w).toContainEqual(
      expect.objectContaining({
        id: 'non-canonical',
        level: 'danger',
        text: expect.stringMatching(/non-canonical encoding — Jot rejects this token/i),
      }),
    );
    expect(decodeJwt(`${header}.${payload}.AA`).nonCanonical).toEqual([]);
  });

  it('flags a header variant too', () => {
    const h = b64url(JSON.stringify({ alg: 'ES256', kid: 'k' }));
    const jwt = decodeJwt(`${tweak(h)}.${payload}.AA`);
    expect(jwt.header).toEqual({ alg: 'ES256', kid: 'k' });
    expect(jwt.nonCanonical).toEqual(['header']);
  });
});

describe('algorithm lookup and key checks', () => {
  const unsigned = (alg: string): string => rawToken({ alg }, '{}', 'AA');
  const oct: Jwk = { kty: 'oct', k: b64url('a shared secret of thirty-two bytes!') };

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'alg "%s" is unsupported, not found on Object.prototype',
    async (alg) => {
      for (const key of [oct, { kty: 'RSA', n: 'AQAB', e: 'AQAB' }, {}] as Jwk[])
        expect(await verifyWithJwk(decodeJwt(unsigned(alg)), key)).toEqual({
          valid: false,
          reason: `unsupported algorithm "${alg}"`,
        });
    },
  );

  it.each(['none', 'NONE', 'None'])('alg "%s" is refused with an oct key', async (alg) => {
    const result = await verifyWithJwk(decodeJwt(unsigned(alg)), oct);
    expect(result).toMatchObject({ valid: false, reason: expect.stringMatching(/unsigned/) });
    expect(await verifyWithPasted(decodeJwt(unsigned(alg)), JSON.stringify(oct))).toMatchObject({
      valid: false,
    });
  });

  it('refuses a JWK whose alg differs from the header, and warns when the JWK has no alg', async () => {
    const secret = new TextEncoder().encode('a shared secret of thirty-two bytes!');
    const input = `${b64url(JSON.stringify({ alg: 'HS256' }))}.${b64url('{}')}`;
    const hmac = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    const sig = new Uint8Array(await crypto.subtle.sign('HMAC', hmac, new TextEncoder().encode(input)));
    const jwt = decodeJwt(`${input}.${b64url(sig)}`);
    expect(await verifyWithJwk(jwt, { ...oct, alg: 'HS512' })).toMatchObject({
      valid: false,
      reason: 'the key is for HS512, the token says HS256',
    });
    expect(await verifyWithJwk(jwt, { ...oct, alg: 'HS256' })).toEqual({
      valid: true,
      alg: 'HS256',
      kid: undefined,
    });
    expect(await verifyWithJwk(jwt, oct)).toMatchObject({
      valid: true,
      warnings: [expect.stringMatching(/no "alg".*chose HS256/)],
    });
  });

  it('warns about an RSA key under 2048 bits (JWK and PEM) but not about a 2048-bit one', async () => {
    const rsa = async (bits: number): Promise<{ token: string; jwk: Jwk; pem: string }> => {
      const pair = await webCryptoKeyPair({
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: bits,
        hash: 'SHA-256',
      });
      const input = `${b64url(JSON.stringify({ alg: 'RS256' }))}.${b64url('{}')}`;
      const sig = new Uint8Array(
        await crypto.subtle.sign('RSASSA-PKCS1-v1_5', pair.privateKey, new TextEncoder().encode(input)),
      );
      const jwk = { ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), alg: 'RS256' } as Jwk;
      const spki = Buffer.from(await crypto.subtle.exportKey('spki', pair.publicKey)).toString('base64');
      return {
        token: `${input}.${b64url(sig)}`,
        jwk,
        pem: `-----BEGIN PUBLIC KEY-----\n${spki}\n-----END PUBLIC KEY-----`,
      };
    };
    const weak = await rsa(1024);
    for (const result of [
      await verifyWithJwk(decodeJwt(weak.token), weak.jwk),
      await verifyWithPasted(decodeJwt(weak.token), weak.pem),
    ])
      expect(result).toMatchObject({ valid: true, warnings: [expect.stringMatching(/only 1024 bits/)] });
    const strong = await rsa(2048);
    expect((await verifyWithJwk(decodeJwt(strong.token), strong.jwk)).warnings).toBeUndefined();
  });
});

describe('createLatest', () => {
  it('only the newest ticket is current', () => {
    const latest = createLatest();
    const first = latest.next();
    expect(latest.isCurrent(first)).toBe(true);
    const second = latest.next(); // an edit, or a newer check
    expect(latest.isCurrent(first)).toBe(false);
    expect(latest.isCurrent(second)).toBe(true);
  });
});
