/**
 * Access tokens (RFC 9068 JWT profile): `typ: at+jwt`, signed by the active key with its `kid`, small enough to
 * pass any proxy (a typical token is well under 1 KB). Verification here covers signature and claims only; the
 * revocation checks are `RevocationService.check`.
 */
import { randomBytes } from 'node:crypto';

import { createSigner, createVerifier, type JWTSigner, type JWTVerifier } from '@jot/jose';

import type { Clock } from '../context.js';
import type { AccessTokenClaims } from '../context.js';
import type { KeyManager } from '../keys/types.js';

/** RFC 9068 §2.1 media type of Jot access tokens. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** What goes into an access token besides the standard claims. */
export interface AccessTokenInput {
  userId: string;
  sessionId: string;
  tokenVersion: number;
  /** Epoch ms of the last password authentication. */
  authTime: number;
  roles: readonly string[];
  /** The `email_verified` claim. */
  emailVerified?: boolean;
  scope?: string;
  /** base64url SHA-256 of the session's CSRF token (cookie mode). */
  csrfHash?: string;
}

/** An issued access token. */
export interface IssuedAccessToken {
  token: string;
  claims: AccessTokenClaims;
  /** Lifetime in seconds (`expires_in`). */
  expiresIn: number;
}

/** Issues and verifies access tokens. */
export interface TokenService {
  issue(input: AccessTokenInput): IssuedAccessToken;
  /** Signature, `typ`, `iss`, `aud`, times and Jot's required claims; throws `JoseError`. */
  verify(token: string): AccessTokenClaims;
}

/** Settings the token service needs. */
export interface TokenSettings {
  issuer: string;
  audience: readonly string[];
  accessTokenTtlSeconds: number;
  clockToleranceSeconds: number;
}

/** Builds the token service over the key manager. Signers are cached per key. */
export function createTokenService(keys: KeyManager, settings: TokenSettings, clock: Clock): TokenService {
  const signers = new Map<string, JWTSigner>();
  const audience = settings.audience.length === 1 ? settings.audience[0] : [...settings.audience];
  let verifier: { algs: string; verify: JWTVerifier } | undefined;

  function signerFor(): JWTSigner {
    const key = keys.activeKey();
    let signer = signers.get(key.kid);
    if (signer === undefined) {
      signer = createSigner(key, { typ: ACCESS_TOKEN_TYP, issuer: settings.issuer, audience });
      signers.clear();
      signers.set(key.kid, signer);
    }
    return signer;
  }

  function verifierFor(): JWTVerifier {
    // The allow-list is the algorithms of our own published keys; each key is bound to its one algorithm.
    const algs = [...new Set(keys.list().map((k) => k.alg))].sort();
    const id = algs.join(',');
    if (verifier?.algs !== id) {
      verifier = {
        algs: id,
        verify: createVerifier(keys, {
          algorithms: algs,
          issuer: settings.issuer,
          audience: [...settings.audience],
          typ: ACCESS_TOKEN_TYP,
          requiredClaims: ['sub', 'iat', 'jti', 'sid', 'ver'],
          clockTolerance: settings.clockToleranceSeconds,
        }),
      };
    }
    return verifier.verify;
  }

  return {
    issue(input) {
      const now = clock();
      const iat = Math.floor(now / 1000);
      const claims: Record<string, unknown> = {
        sub: input.userId,
        exp: iat + settings.accessTokenTtlSeconds,
        jti: randomBytes(16).toString('base64url'),
        sid: input.sessionId,
        ver: input.tokenVersion,
        auth_time: Math.floor(input.authTime / 1000),
        roles: [...input.roles],
        client_id: 'jot',
      };
      if (input.emailVerified !== undefined) claims.email_verified = input.emailVerified;
      if (input.scope !== undefined) claims.scope = input.scope;
      if (input.csrfHash !== undefined) claims.cth = input.csrfHash;
      const token = signerFor()(claims, { currentDate: new Date(iat * 1000) });
      return {
        token,
        claims: { ...claims, iss: settings.issuer, aud: audience, iat } as AccessTokenClaims,
        expiresIn: settings.accessTokenTtlSeconds,
      };
    },
    verify(token) {
      const { payload } = verifierFor()<AccessTokenClaims>(token, { currentDate: new Date(clock()) });
      return payload;
    },
  };
}
