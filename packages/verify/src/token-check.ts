/**
 * A token's signature and claims, checked through the verification cache: a hit skips the signature work, a miss
 * is verified inline or on the thread pool (as the offload policy says) against the remote JWKS, retried once after
 * a refetch when its `kid` is unknown (a key rotated in since the last fetch). Revocation is not checked here: the
 * caller checks it on every request, hit or miss.
 */
import { createVerifier as createJWTVerifier, isJoseError, type Algorithm } from '@jot/jose';

import type { VerificationCache } from './cache.js';
import { asAccessTokenClaims, type ClaimsProfile } from './claims.js';
import { isCompactJWE, type TokenOpener } from './decrypt.js';
import { VerifyError } from './errors.js';
import type { OffloadPolicy } from './offload.js';
import { keyThumbprint, type RemoteJWKS } from './remote-jwks.js';
import type { AccessTokenClaims, Clock } from './types.js';

/**
 * The claims each profile requires (besides `exp`, always required). `jot`: Jot's user tokens (`sid`, `ver`;
 * `auth_time` is checked in claims.ts). `rfc9068`: RFC 9068 §2.2 — `iss`, `exp`, `aud`, `sub`, `client_id`,
 * `iat`, `jti` — and nothing of Jot's, so tokens from Auth0, Keycloak or a Jot client-credentials grant pass.
 */
const REQUIRED_CLAIMS: Readonly<Record<ClaimsProfile, readonly string[]>> = {
  jot: ['sub', 'iat', 'jti', 'sid', 'ver'],
  rfc9068: ['iss', 'sub', 'aud', 'iat', 'jti', 'client_id'],
};

/** What the token check is built from: validated options and the verifier's shared parts. */
export interface TokenCheckSettings {
  issuer: string;
  audience: readonly string[];
  algorithms: readonly Algorithm[];
  profile: ClaimsProfile;
  /** Whole seconds of leeway for `exp`/`nbf`/`iat`. */
  clockTolerance: number;
  maxTokenLength: number;
  jwks: RemoteJWKS;
  cache: VerificationCache | undefined;
  offload: OffloadPolicy;
  opener: TokenOpener | undefined;
  clock: Clock;
}

/** Builds `(token) => claims`: signature and claims through the cache; throws a `JoseError` or `VerifyError`. */
export function createTokenCheck(
  settings: TokenCheckSettings,
): (token: string) => Promise<AccessTokenClaims> {
  const { jwks, cache, offload, opener, profile, clock } = settings;
  const verifyJWT = createJWTVerifier(jwks, {
    algorithms: settings.algorithms,
    issuer: settings.issuer,
    audience: settings.audience,
    typ: 'at+jwt',
    requiredClaims: REQUIRED_CLAIMS[profile],
    clockTolerance: settings.clockTolerance,
    maxTokenLength: settings.maxTokenLength,
  });

  /** One signature + claims check; `token` as presented (the cache key), `jws` the signed token inside it. */
  async function checkToken(token: string, jws: string, currentDate: Date): Promise<AccessTokenClaims> {
    const { payload, key } = offload.shouldOffload()
      ? await offload.track(verifyJWT.async(jws, { currentDate }))
      : verifyJWT(jws, { currentDate });
    const claims = asAccessTokenClaims(payload, profile);
    cache?.set(token, claims, keyThumbprint(key));
    return claims;
  }

  async function verifySignature(token: string, now: number): Promise<AccessTokenClaims> {
    await jwks.ensure();
    const currentDate = new Date(now);
    if (opener?.required && !isCompactJWE(token)) {
      throw new VerifyError('ERR_VERIFY_NOT_ENCRYPTED', 'this service accepts encrypted access tokens only');
    }
    const jws = opener === undefined ? token : await opener.open(token);
    try {
      return await checkToken(token, jws, currentDate);
    } catch (err) {
      // A kid we do not know may be a key rotated in since the last fetch: refetch (rate-limited), retry once.
      if (isJoseError(err, 'ERR_JWKS_NO_MATCHING_KEY') && (await jwks.refreshForUnknownKid())) {
        return checkToken(token, jws, currentDate);
      }
      throw err;
    }
  }

  return async (token) => {
    const now = clock();
    const claims = cache?.get(token, Math.floor(now / 1000));
    if (claims !== undefined) {
      // A hit skips the key set, so refresh an expired set here too: a key removed or replaced at the issuer
      // must evict the cached tokens it verified even when every request hits the cache. Never waits.
      void jwks.ensure().catch(() => undefined);
      return claims;
    }
    return verifySignature(token, now);
  };
}
