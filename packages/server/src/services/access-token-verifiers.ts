/**
 * Verification of the access tokens this server signed, with its own key ring: `verify` for a user's token at this
 * server's audience (answered from the bounded cache of `verified-tokens.ts` when seen before, the cache emptied when
 * the ring's algorithms change) and `verifyIssued` for any token it issued, for any audience. Signature and claims
 * only: revocation is `RevocationService.check`.
 */
import { ACCESS_TOKEN_TYP, type AccessTokenClaims, type UserAccessTokenClaims } from '@jot/contract';
import { JoseError } from '@jot/jose';

import type { Clock } from '../clock.js';
import type { KeyManager } from '../keys/types.js';
import { ringVerifier } from './ring-verifier.js';
import { createVerifiedTokens } from './verified-tokens.js';

/** The claims of any token this server issued, its `client_id` checked present (RFC 9068 §2.2). */
export type ClientBoundClaims = AccessTokenClaims & { readonly client_id: string };

/** The two verifications; both throw `JoseError`. */
export interface AccessTokenVerifiers {
  readonly verify: (token: string) => UserAccessTokenClaims;
  readonly verifyIssued: (token: string) => ClientBoundClaims;
}

/** What verification needs of the token settings. */
export interface VerifierSettings {
  issuer: string;
  audience: readonly string[];
  clockToleranceSeconds: number;
}

/** Builds both verifiers over the key ring; `cacheSize` bounds the cache of verified user tokens (0: none). */
export function createAccessTokenVerifiers(
  keys: KeyManager,
  settings: VerifierSettings,
  clock: Clock,
  cacheSize: number,
): AccessTokenVerifiers {
  const verified = createVerifiedTokens(keys, cacheSize, settings.clockToleranceSeconds);
  const common = {
    issuer: settings.issuer,
    typ: ACCESS_TOKEN_TYP,
    clockTolerance: settings.clockToleranceSeconds,
  };
  const userVerifier = ringVerifier(
    keys,
    { ...common, audience: [...settings.audience], requiredClaims: ['sub', 'iat', 'jti', 'sid', 'ver'] },
    () => verified.clear(),
  );
  const issuedVerifier = ringVerifier(keys, {
    ...common,
    requiredClaims: ['sub', 'iat', 'jti', 'client_id', 'aud'],
  });

  return {
    verify(token) {
      const verify = userVerifier();
      const now = clock();
      const hit = verified.get(token, now);
      if (hit !== undefined) return hit;
      const { payload, header, key } = verify<UserAccessTokenClaims>(token, { currentDate: new Date(now) });
      verified.put(token, { claims: payload, alg: header.alg, kid: header.kid, key });
      return payload;
    },
    verifyIssued(token) {
      const { payload } = issuedVerifier()<AccessTokenClaims>(token, { currentDate: new Date(clock()) });
      if (typeof payload.client_id !== 'string') {
        throw new JoseError('ERR_JWT_CLAIM_INVALID', 'the "client_id" claim must be a string', {
          claim: 'client_id',
          reason: 'type',
        });
      }
      return payload as ClientBoundClaims;
    },
  };
}
