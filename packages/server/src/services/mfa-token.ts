/**
 * The MFA token of the two-step sign-in: a JWT of its own type (`typ: mfa+jwt`, RFC 8725 §3.11), signed by the
 * issuer's active key, addressed to the issuer's second-step endpoint rather than to any API (`aud`), and short
 * lived. An access-token verifier refuses it (wrong `typ`, wrong audience), and this one refuses access tokens.
 * Its `jti` is recorded hashed in `mfa_challenges`, which counts the attempts made with it and consumes it once.
 */
import { createSigner, createVerifier, isJoseError, type JWTVerifier } from '@jot/jose';

import type { Clock } from '../clock.js';
import type { KeyManager } from '../keys/types.js';
import type { Store } from '../store/index.js';
import { randomBase64url } from './random-pool.js';
import { hashSecret } from './secrets.js';
import { DomainError } from './errors.js';

/** The JOSE `typ` of MFA tokens. */
export const MFA_TOKEN_TYP = 'mfa+jwt';

/** Attempts allowed with one MFA token. */
export const MFA_TOKEN_ATTEMPTS = 5;

/** The verified claims of an MFA token. */
export interface MfaTokenClaims {
  sub: string;
  jti: string;
  exp: number;
  /** Methods already passed (the password step). */
  amr: string[];
}

/** Issues and checks MFA tokens. */
export interface MfaTokens {
  issue(userId: string, data: Record<string, unknown>): Promise<{ token: string; expiresIn: number }>;
  /** Signature, type, audience and expiry; throws a 401 `ERR_MFA_TOKEN_INVALID`. */
  verify(token: string): MfaTokenClaims;
  /** The record id of a token's `jti`. */
  idHash(jti: string): string;
}

/** A 401 for an MFA token that cannot be used (any more). */
export function mfaTokenInvalid(why: string): DomainError {
  return new DomainError(
    'grant',
    'ERR_MFA_TOKEN_INVALID',
    `the MFA token ${why}; sign in with your password again`,
  );
}

/** What MFA tokens are made with. */
interface MfaTokenDeps {
  keys: KeyManager;
  store: Store;
  clock: Clock;
  issuer: string;
  ttlMs: number;
  clockToleranceSeconds: number;
}

/** Signs a token with the active key and records its `jti` (hashed) with the sign-in's `data`. */
async function issue(
  deps: MfaTokenDeps,
  audience: string,
  userId: string,
  data: Record<string, unknown>,
): Promise<{ token: string; expiresIn: number }> {
  const { keys, store, clock, issuer } = deps;
  const ttlSeconds = Math.floor(deps.ttlMs / 1000);
  const jti = randomBase64url(16);
  const iat = Math.floor(clock() / 1000);
  const signer = createSigner(keys.activeKey(), { typ: MFA_TOKEN_TYP, issuer, audience });
  const token = signer(
    { sub: userId, jti, exp: iat + ttlSeconds, amr: ['pwd'] },
    { currentDate: new Date(iat * 1000) },
  );
  await store.mfa.insertChallenge({
    idHash: hashSecret(`mfa:${jti}`),
    kind: 'mfa_token',
    userId,
    data,
    expiresAt: (iat + ttlSeconds) * 1000,
  });
  return { token, expiresIn: ttlSeconds };
}

/** Builds the MFA token service. */
export function createMfaTokens(deps: MfaTokenDeps): MfaTokens {
  const { keys, clock, issuer } = deps;
  const audience = `${issuer.replace(/\/$/, '')}/api/login/mfa`;
  let verifier: { algs: string; verify: JWTVerifier } | undefined;

  /** The verifier for the algorithms of the current keys (remade when they change). */
  function verifierFor(): JWTVerifier {
    const algs = [...new Set(keys.list().map((k) => k.alg))].sort();
    if (verifier?.algs !== algs.join(',')) {
      verifier = {
        algs: algs.join(','),
        verify: createVerifier(keys, {
          algorithms: algs,
          issuer,
          audience,
          typ: MFA_TOKEN_TYP,
          requiredClaims: ['sub', 'jti', 'exp'],
          clockTolerance: deps.clockToleranceSeconds,
        }),
      };
    }
    return verifier.verify;
  }

  return {
    idHash: (jti) => hashSecret(`mfa:${jti}`),
    issue: (userId, data) => issue(deps, audience, userId, data),
    verify(token) {
      try {
        const { payload } = verifierFor()<Record<string, unknown>>(token, { currentDate: new Date(clock()) });
        const amr = Array.isArray(payload.amr) ? payload.amr.filter((a) => typeof a === 'string') : [];
        return { sub: String(payload.sub), jti: String(payload.jti), exp: Number(payload.exp), amr };
      } catch (err) {
        if (isJoseError(err)) {
          throw mfaTokenInvalid(err.code === 'ERR_JWT_EXPIRED' ? 'has expired' : 'is not valid');
        }
        throw err;
      }
    },
  };
}
