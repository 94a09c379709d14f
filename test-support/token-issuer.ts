/**
 * The signing half of the fake Jot issuer that the `@jot/verify` and `@jot/client` suites share: ES256 keys the
 * test controls, real access tokens signed with `@jot/jose` in the RFC 9068 profile (`typ: at+jwt`, the claims of
 * `@jot/contract`), and the JWKS (RFC 7517 §5) that publishes the keys. Node-only test code, never shipped.
 */
import { createHash, randomBytes } from 'node:crypto';

import { ACCESS_TOKEN_TYP, type AccessTokenClaims } from '@jot/contract';
import { createSigner, generateKeyPair, type JWKS, type Key } from '@jot/jose';

/** The audience the fake issuer's tokens are for. */
export const AUDIENCE = 'https://api.test';

/** Claims a test may set on a token: any of the contract's, or anything else (malformed values included). */
export type TestClaims = Partial<Record<keyof AccessTokenClaims, unknown>> & Record<string, unknown>;

/** Keys, signing and the JWKS of one fake issuer. */
export interface TokenIssuer {
  /** The `iss` of every token (the fake issuer's URL once it listens). */
  url: string;
  /** Keys published in the JWKS (the first signs by default). */
  keys: Key[];
  /** Signs an access token; `claims` override the defaults (a user token of `user-1`, five minutes). */
  sign(claims?: TestClaims, options?: { key?: Key; typ?: string }): string;
  /** A fresh key added to the JWKS; `activate` makes it the signing key, `removeOld` drops the others. */
  rotate(options?: { activate?: boolean; removeOld?: boolean }): Key;
  /** The public keys as a JWK Set. */
  jwks(): JWKS;
}

/**
 * `cth`: base64url SHA-256 of a session's anti-CSRF token, the claim a cookie-mode access token carries so the
 * double-submitted `X-Csrf-Token` can be checked without server state.
 */
export function csrfHash(csrf: string): string {
  return createHash('sha256').update(csrf).digest('base64url');
}

export function createTokenIssuer(url = 'http://jot.test'): TokenIssuer {
  let keyCounter = 0;
  const newKey = (): Key =>
    generateKeyPair('ES256', { kid: `k${++keyCounter}-${randomBytes(3).toString('hex')}` });
  const issuer: TokenIssuer = {
    url,
    keys: [newKey()],
    sign(claims = {}, options = {}) {
      const key = options.key ?? issuer.keys[0]!;
      const now = Math.floor(Date.now() / 1000);
      const signer = createSigner(key, {
        typ: options.typ ?? ACCESS_TOKEN_TYP,
        issuer: issuer.url,
        audience: AUDIENCE,
        issuedAt: false,
      });
      return signer({
        sub: 'user-1',
        iat: now,
        exp: now + 300,
        jti: randomBytes(12).toString('base64url'),
        sid: 'sess-1',
        ver: 1,
        auth_time: now,
        roles: ['user'],
        scope: 'orders:read',
        ...claims,
      });
    },
    rotate(options = {}) {
      const key = newKey();
      if (options.removeOld) issuer.keys = [];
      if (options.activate) issuer.keys.unshift(key);
      else issuer.keys.push(key);
      return key;
    },
    jwks: () => ({ keys: issuer.keys.map((key) => key.publicKey().toJWK()) }),
  };
  return issuer;
}
