/**
 * DPoP proofs (RFC 9449 §4): what `verifyDPoPProof` refuses, each with its reason, and interop both ways with the
 * `jose` package (a proof made by `jose` verifies here; ours verifies in `jose` and has its thumbprint).
 */
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair as joseKeyPair,
  jwtVerify,
  SignJWT,
  EmbeddedJWK,
} from 'jose';
import { describe, expect, it } from 'vitest';

import {
  accessTokenHash,
  createDPoPChecker,
  createDPoPNonces,
  createDPoPProof,
  memoryReplayStore,
  generateKeyPair,
  generateSecret,
  isJoseError,
  normalizeHtu,
  signJWS,
  verifyDPoPProof,
} from '../src/index.js';

const URL_ = 'https://api.example.com/orders';
const NOW = 1_800_000_000;
const at = new Date(NOW * 1000);
const key = generateKeyPair('ES256');

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isJoseError(err, 'ERR_DPOP_PROOF_INVALID')) return err.reason;
    throw err;
  }
  return undefined;
}

describe('verifyDPoPProof', () => {
  it('accepts a fresh proof and returns the key thumbprint', () => {
    const proof = createDPoPProof(key, { htm: 'GET', htu: URL_ + '?page=2', iat: NOW, accessToken: 'tok' });
    const result = verifyDPoPProof(proof, { method: 'GET', url: URL_, accessToken: 'tok', currentDate: at });
    expect(result.jkt).toBe(key.thumbprint());
    expect(result.htu).toBe(URL_);
  });

  it('normalises htu: case of scheme and host, default port, dot segments; drops query and fragment', () => {
    expect(normalizeHtu('HTTPS://API.Example.com:443/a/../orders?x=1#f')).toBe(URL_);
    expect(normalizeHtu('/relative')).toBeUndefined();
    expect(normalizeHtu('ftp://x/y')).toBeUndefined();
  });

  it('normalises percent-escapes in htu (RFC 3986 §6.2.2.1-2): unreserved ones decoded, the others upper-cased', () => {
    expect(normalizeHtu('https://api.example.com/%6Frders')).toBe(URL_);
    expect(normalizeHtu('https://api.example.com/%6frder%73')).toBe(URL_);
    expect(normalizeHtu('https://api.example.com/a%2fb%7e')).toBe('https://api.example.com/a%2Fb~');
    // A reserved character stays escaped: %2F is not a path separator.
    expect(normalizeHtu('https://api.example.com/a%2Fb')).not.toBe(
      normalizeHtu('https://api.example.com/a/b'),
    );
    const proof = createDPoPProof(key, { htm: 'GET', htu: 'https://api.example.com/%6frders', iat: NOW });
    expect(verifyDPoPProof(proof, { method: 'GET', url: URL_, currentDate: at }).htu).toBe(URL_);
  });

  it.each([
    ['another method', { htm: 'POST' }, {}, 'htm'],
    ['another URL', { htu: 'https://api.example.com/other' }, {}, 'htu'],
    ['another host', { htu: 'https://evil.example.com/orders' }, {}, 'htu'],
    ['a stale iat', { iat: NOW - 120 }, {}, 'stale'],
    ['a future iat', { iat: NOW + 60 }, {}, 'future'],
    ['a wrong ath', { accessToken: 'other' }, { accessToken: 'tok' }, 'ath'],
    ['no ath with a token', {}, { accessToken: 'tok' }, 'ath'],
    // The request's own URL is no URL (a malformed Host): a refusal, not a TypeError a server would answer 500.
    ['a request URL that is no URL', {}, { url: 'https://a b/orders' }, 'htu'],
    ['a request URL that is not http(s)', {}, { url: 'ftp://api.example.com/orders' }, 'htu'],
  ])('refuses %s', (_name, input, check, expected) => {
    const proof = createDPoPProof(key, { htm: 'GET', htu: URL_, iat: NOW, ...input });
    expect(
      reason(() => verifyDPoPProof(proof, { method: 'GET', url: URL_, currentDate: at, ...check })),
    ).toBe(expected);
  });

  it('refuses a wrong typ, an HMAC or none alg, a missing or private jwk, a bad signature and junk', () => {
    const { kid: _k, use: _u, alg: _a, ...jwk } = key.publicKey().toJWK();
    const payload = JSON.stringify({ jti: 'j', htm: 'GET', htu: URL_, iat: NOW });
    const check = { method: 'GET', url: URL_, currentDate: at };
    expect(
      reason(() =>
        verifyDPoPProof(signJWS(payload, key, { typ: 'JWT', kid: false, header: { jwk } }), check),
      ),
    ).toBe('typ');
    expect(reason(() => verifyDPoPProof(signJWS(payload, key, { typ: 'dpop+jwt', kid: false }), check))).toBe(
      'jwk',
    );
    const priv = key.toJWK({ includePrivate: true });
    expect(
      reason(() =>
        verifyDPoPProof(signJWS(payload, key, { typ: 'dpop+jwt', kid: false, header: { jwk: priv } }), check),
      ),
    ).toBe('jwk');
    const secret = generateSecret('HS256');
    expect(
      reason(() =>
        verifyDPoPProof(signJWS(payload, secret, { typ: 'dpop+jwt', kid: false, header: { jwk } }), check),
      ),
    ).toBe('alg');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk })).toString('base64url')}.${Buffer.from(payload).toString('base64url')}.`;
    expect(reason(() => verifyDPoPProof(none, check))).toBe('alg');
    const other = generateKeyPair('ES256');
    expect(
      reason(() =>
        verifyDPoPProof(signJWS(payload, other, { typ: 'dpop+jwt', kid: false, header: { jwk } }), check),
      ),
    ).toBe('signature');
    expect(reason(() => verifyDPoPProof('not-a-proof', check))).toBe('malformed');
    expect(reason(() => verifyDPoPProof('x'.repeat(5000), check))).toBe('malformed');
    expect(reason(() => verifyDPoPProof(undefined, check))).toBe('malformed');
    const noJti = signJWS(JSON.stringify({ htm: 'GET', htu: URL_, iat: NOW }), key, {
      typ: 'dpop+jwt',
      kid: false,
      header: { jwk },
    });
    expect(reason(() => verifyDPoPProof(noJti, check))).toBe('claim');
  });

  it('verifies a proof made by the jose package (interop)', async () => {
    const { privateKey, publicKey } = await joseKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const proof = await new SignJWT({ htm: 'POST', htu: URL_, ath: accessTokenHash('tok') })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .setIssuedAt(NOW)
      .setJti('interop-1')
      .sign(privateKey);
    const result = verifyDPoPProof(proof, { method: 'POST', url: URL_, accessToken: 'tok', currentDate: at });
    expect(result.jkt).toBe(await calculateJwkThumbprint(jwk));
  });

  it('makes proofs the jose package verifies with the embedded key', async () => {
    const proof = createDPoPProof(key, { htm: 'GET', htu: URL_, iat: NOW });
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      currentDate: at,
    });
    expect(payload).toMatchObject({ htm: 'GET', htu: URL_, iat: NOW });
    expect(await calculateJwkThumbprint(protectedHeader.jwk!)).toBe(key.thumbprint());
  });
});

describe('createDPoPChecker', () => {
  const nonceSecret = new Uint8Array(32).fill(7);

  function checker(extra: { nonces?: boolean; clock?: () => number } = {}) {
    const clock = extra.clock ?? (() => NOW * 1000);
    return createDPoPChecker({
      replay: memoryReplayStore({ clock }),
      clock,
      ...(extra.nonces ? { nonces: createDPoPNonces(nonceSecret, { clock }) } : {}),
    });
  }

  async function code(promise: Promise<unknown>): Promise<string> {
    return promise.then(
      () => 'accepted',
      (err: unknown) => (isJoseError(err) ? err.code : String(err)),
    );
  }

  it('refuses a replayed proof, a second DPoP header, no proof, and a proof from another key', async () => {
    const dpop = checker();
    const proof = createDPoPProof(key, { htm: 'GET', htu: URL_, iat: NOW, accessToken: 'tok' });
    const request = { method: 'GET', url: URL_, proof, accessToken: 'tok', boundJkt: key.thumbprint() };
    expect((await dpop.check(request)).jkt).toBe(key.thumbprint());
    expect(await code(dpop.check(request))).toBe('ERR_DPOP_PROOF_REPLAYED');
    expect(await code(dpop.check({ ...request, proof: [proof, proof] }))).toBe('ERR_DPOP_PROOF_INVALID');
    expect(await code(dpop.check({ ...request, proof: undefined }))).toBe('ERR_DPOP_REQUIRED');
    const other = generateKeyPair('ES256');
    const foreign = createDPoPProof(other, { htm: 'GET', htu: URL_, iat: NOW, accessToken: 'tok' });
    expect(await code(dpop.check({ ...request, proof: foreign }))).toBe('ERR_DPOP_KEY_MISMATCH');
  });

  it('asks for a nonce, accepts the current and the previous one, refuses older or forged ones', async () => {
    let now = NOW * 1000;
    const dpop = checker({ nonces: true, clock: () => now });
    const make = (nonce?: string): string =>
      createDPoPProof(key, { htm: 'POST', htu: URL_, iat: Math.floor(now / 1000), nonce });
    const request = (proof: string) => ({ method: 'POST', url: URL_, proof });
    expect(await code(dpop.check(request(make())))).toBe('ERR_DPOP_NONCE_REQUIRED');
    const nonce = dpop.nonce()!;
    expect(await code(dpop.check(request(make(nonce))))).toBe('accepted');
    now += 300_000; // next window: the previous nonce is still good
    expect(await code(dpop.check(request(make(nonce))))).toBe('accepted');
    now += 300_000;
    expect(await code(dpop.check(request(make(nonce))))).toBe('ERR_DPOP_NONCE_REQUIRED');
    const forged = `${dpop.nonce()!.split('.')[0]}.${'A'.repeat(22)}`;
    expect(await code(dpop.check(request(make(forged))))).toBe('ERR_DPOP_NONCE_REQUIRED');
  });

  it('accepts a nonce only in the spelling it was issued in', () => {
    const nonces = createDPoPNonces(nonceSecret, { clock: () => NOW * 1000 });
    const nonce = nonces.current();
    expect(nonces.isValid(nonce)).toBe(true);
    const [window, mac] = nonce.split('.') as [string, string];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(mac.slice(-1));
    // 16 bytes in 22 characters: the last character's low 4 bits are unused, so 15 other spellings decode alike.
    for (let low = 1; low < 16; low++) {
      expect(nonces.isValid(`${window}.${mac.slice(0, 21)}${alphabet[(last & ~15) | low]}`)).toBe(false);
    }
    expect(nonces.isValid(`0${window}.${mac}`)).toBe(false); // the same window number with a leading zero
    expect(nonces.isValid(`${window.toUpperCase()}.${mac}`)).toBe(false);
  });

  it('refuses HMAC algorithms and a missing replay store when built', () => {
    expect(() => createDPoPChecker({ replay: memoryReplayStore(), algorithms: ['HS256'] })).toThrow(
      TypeError,
    );
    expect(() => createDPoPChecker({} as never)).toThrow(TypeError);
  });
});
