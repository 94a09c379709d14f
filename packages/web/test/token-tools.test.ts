/** The debugger's decoding, findings and WebCrypto verification (run in Node, whose WebCrypto matches browsers'). */
import { describe, expect, it } from 'vitest';

import { webCryptoKeyPair } from '../../../test-support/key-pair.js';
import { decodeJwt, DecodeError } from '../src/lib/jwt-decode.js';
import { verifyWithJwk, verifyWithJwks, verifyWithPasted } from '../src/lib/jwt-verify.js';
import { warningsFor } from '../src/lib/jwt-warnings.js';

const b64url = (bytes: Uint8Array | string): string =>
  Buffer.from(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes).toString('base64url');

function unsigned(header: object, payload: object): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.`;
}

async function es256(
  payload: object,
  kid = 'k1',
): Promise<{ token: string; jwk: JsonWebKey; pair: CryptoKeyPair }> {
  const pair = await webCryptoKeyPair({ name: 'ECDSA', namedCurve: 'P-256' });
  const input = `${b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }))}.${b64url(JSON.stringify(payload))}`;
  const sig = new Uint8Array(
    await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      pair.privateKey,
      new TextEncoder().encode(input),
    ),
  );
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  return { token: `${input}.${b64url(sig)}`, jwk: { ...jwk, kid, alg: 'ES256' } as JsonWebKey, pair };
}

const now = Math.floor(Date.now() / 1000);

describe('decodeJwt', () => {
  it('decodes header and payload, including UTF-8 and a Bearer prefix', () => {
    const t = unsigned({ alg: 'none' }, { sub: 'ünïcode', exp: now + 60 });
    const d = decodeJwt(`Bearer ${t}`);
    expect(d.header).toEqual({ alg: 'none' });
    expect(d.payload.sub).toBe('ünïcode');
    expect(d.signature.length).toBe(0);
  });

  it('rejects wrong part counts, JWEs, bad base64url and non-object JSON with a reason', () => {
    expect(() => decodeJwt('a.b')).toThrow(/three/);
    expect(() => decodeJwt('a.b.c.d.e')).toThrow(/JWE/);
    expect(() => decodeJwt('a+b.c.d')).toThrow(DecodeError);
    expect(() => decodeJwt(`${b64url('[1]')}.${b64url('{}')}.`)).toThrow(/not a JSON object/);
  });
});

describe('warningsFor', () => {
  const ids = (header: object, payload: object): string[] =>
    warningsFor(decodeJwt(unsigned(header, payload)), now).map((w) => w.id);

  it('flags alg none as danger', () => {
    const w = warningsFor(decodeJwt(unsigned({ alg: 'none' }, { exp: now + 60 })), now);
    expect(w).toContainEqual(expect.objectContaining({ id: 'alg-none', level: 'danger' }));
  });
  it('flags no exp, expired, long lifetimes, header keys and sensitive claims', () => {
    expect(ids({ alg: 'HS256' }, {})).toContain('no-exp');
    expect(ids({ alg: 'HS256' }, { exp: now - 120 })).toContain('expired');
    expect(ids({ alg: 'HS256' }, { iat: now, exp: now + 2 * 86_400 })).toContain('long-lifetime');
    expect(ids({ alg: 'HS256', jku: 'https://x' }, { exp: now + 60 })).toContain('header-jku');
    const w = warningsFor(
      decodeJwt(
        unsigned({ alg: 'HS256' }, { exp: now + 60, user: { password: 'x', card_number: '4111' }, ssn: 1 }),
      ),
      now,
    );
    expect(w.find((x) => x.id === 'sensitive-claims')?.text).toMatch(
      /user\.password.*user\.card_number.*ssn/,
    );
  });
  it('is quiet about a well-formed short-lived token', () => {
    expect(ids({ alg: 'ES256' }, { sub: 'u', iat: now, exp: now + 900, roles: ['admin'], sid: 's' })).toEqual(
      ['no-signature'],
    );
  });
});

describe('verification', () => {
  it('verifies ES256 with the JWK, picks the key by kid from a JWKS, and fails a tampered token', async () => {
    const { token, jwk } = await es256({ sub: 'u', exp: now + 60 });
    expect(await verifyWithJwk(decodeJwt(token), jwk)).toMatchObject({
      valid: true,
      alg: 'ES256',
      kid: 'k1',
    });
    const other = await es256({}, 'k2');
    expect(await verifyWithJwks(decodeJwt(token), { keys: [other.jwk, jwk] })).toMatchObject({ valid: true });
    const [h, , s] = token.split('.');
    const tampered = `${h}.${b64url(JSON.stringify({ sub: 'admin', exp: now + 60 }))}.${s}`;
    expect(await verifyWithJwk(decodeJwt(tampered), jwk)).toMatchObject({ valid: false });
  });

  it('does not let the token choose the algorithm: alg none, a key for another alg, or another key type fail', async () => {
    const { jwk } = await es256({});
    expect(await verifyWithJwk(decodeJwt(unsigned({ alg: 'none' }, {})), jwk)).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/unsigned/),
    });
    expect(await verifyWithJwk(decodeJwt(unsigned({ alg: 'HS256' }, {}) + 'AA'), jwk)).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/for ES256/),
    });
    const { alg: _a, ...noAlg } = jwk as JsonWebKey & { alg?: string };
    expect(await verifyWithJwk(decodeJwt(unsigned({ alg: 'RS256' }, {}) + 'AA'), noAlg)).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/EC key cannot verify RS256/),
    });
  });

  it('verifies RS256 with a pasted PEM public key and ES256 with a pasted JWKS', async () => {
    const pair = await webCryptoKeyPair({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, hash: 'SHA-256' });
    const input = `${b64url(JSON.stringify({ alg: 'RS256' }))}.${b64url(JSON.stringify({ sub: 'u' }))}`;
    const sig = new Uint8Array(
      await crypto.subtle.sign('RSASSA-PKCS1-v1_5', pair.privateKey, new TextEncoder().encode(input)),
    );
    const spki = Buffer.from(await crypto.subtle.exportKey('spki', pair.publicKey)).toString('base64');
    const pem = `-----BEGIN PUBLIC KEY-----\n${spki.replace(/(.{64})/g, '$1\n')}\n-----END PUBLIC KEY-----`;
    expect(await verifyWithPasted(decodeJwt(`${input}.${b64url(sig)}`), pem)).toMatchObject({
      valid: true,
      alg: 'RS256',
    });
    const es = await es256({ sub: 'u' });
    expect(await verifyWithPasted(decodeJwt(es.token), JSON.stringify({ keys: [es.jwk] }))).toMatchObject({
      valid: true,
    });
    expect(await verifyWithPasted(decodeJwt(es.token), pem)).toMatchObject({ valid: false });
  });
});
