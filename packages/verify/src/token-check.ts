/**
 * A token's signature and claims, checked through the verification cache: a hit skips the signature work, a miss
 * is verified inline or on the thread pool (as the offload policy says) against the remote JWKS, retried once after
 * a refetch when its `kid` is unknown (a key rotated in since the last fetch). Revocation is not checked here: the
 * caller checks it on every request, hit or miss.
 */
import {
  createVerifier as createJWTVerifier,
  isJoseError,
  JoseError,
  type Algorithm,
  type VerifiedJWT,
} from '@jot/jose';

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

/** The claims, or the promise of them when the check had to wait (keys, decryption, the thread pool, a refetch). */
export type ClaimsOrPromise = AccessTokenClaims | Promise<AccessTokenClaims>;

/**
 * A check that waited on the thread pool counts only if the issuer still publishes its key: a key-set refresh that
 * withdrew the key (a leaked one, say) may have landed meanwhile, after evicting that key's tokens from the cache.
 * The refusal is an unknown key's, so the caller's refetch-and-retry applies as for any kid not in the set.
 */
function stillPublished(jwks: RemoteJWKS, verified: VerifiedJWT): VerifiedJWT {
  if (!jwks.publishes(verified.key)) {
    throw new JoseError('ERR_JWKS_NO_MATCHING_KEY', 'the issuer withdrew the key that signed this token', {
      claim: 'kid',
      reason: 'no_match',
    });
  }
  return verified;
}

/** The JWT verifier of an access token (RFC 9068 `typ`, the profile's required claims) over the remote key set. */
function accessTokenVerifier(settings: TokenCheckSettings): ReturnType<typeof createJWTVerifier> {
  return createJWTVerifier(settings.jwks, {
    algorithms: settings.algorithms,
    issuer: settings.issuer,
    audience: settings.audience,
    typ: 'at+jwt',
    requiredClaims: REQUIRED_CLAIMS[settings.profile],
    clockTolerance: settings.clockTolerance,
    maxTokenLength: settings.maxTokenLength,
  });
}

/** Narrows and caches a verified payload; `token` as presented is the cache key. */
function acceptClaims(
  token: string,
  { payload, key }: VerifiedJWT,
  profile: ClaimsProfile,
  cache: VerificationCache | undefined,
): AccessTokenClaims {
  const claims = asAccessTokenClaims(payload, profile);
  cache?.set(token, claims, keyThumbprint(key));
  return claims;
}

/**
 * Builds `(token) => claims`: signature and claims through the cache; throws (or rejects with) a `JoseError` or
 * `VerifyError`. A cache hit, and a miss verified inline with the keys at hand, answer synchronously: no promise is
 * made on the hot path unless something has to be waited for.
 */
export function createTokenCheck(settings: TokenCheckSettings): (token: string) => ClaimsOrPromise {
  const { jwks, cache, offload, opener, profile, clock } = settings;
  const verifyJWT = accessTokenVerifier(settings);

  /** One check of `jws` (signed, in `token`), inline or on the pool: one promise there, a first try's retry in it. */
  function checkToken(token: string, jws: string, currentDate: Date, retry: boolean): ClaimsOrPromise {
    if (!offload.shouldOffload()) return acceptClaims(token, verifyJWT(jws, { currentDate }), profile, cache);
    offload.started();
    return verifyJWT.async(jws, { currentDate }).then(
      (verified) => {
        offload.settled();
        try {
          return acceptClaims(token, stillPublished(jwks, verified), profile, cache);
        } catch (err) {
          return retryUnknownKid(err, token, jws, currentDate, retry);
        }
      },
      (err: unknown) => {
        offload.settled();
        return retryUnknownKid(err, token, jws, currentDate, retry);
      },
    );
  }

  /**
   * A kid we do not know may be a key rotated in since the last fetch: refetch (rate-limited), retry once — on the
   * first try only (`retry`); any other failure, or the retry's, rejects as it is.
   */
  async function retryUnknownKid(
    err: unknown,
    token: string,
    jws: string,
    currentDate: Date,
    retry: boolean,
  ): Promise<AccessTokenClaims> {
    if (retry && isJoseError(err, 'ERR_JWKS_NO_MATCHING_KEY') && (await jwks.refreshForUnknownKid())) {
      return checkToken(token, jws, currentDate, false);
    }
    throw err;
  }

  /** `checkToken`, retried once on an unknown kid, whether it failed at once or on the pool. */
  function checkOrRetry(token: string, jws: string, currentDate: Date): ClaimsOrPromise {
    try {
      return checkToken(token, jws, currentDate, true);
    } catch (err) {
      // Only an unknown kid has anything to wait for; every other refusal is thrown as it is.
      if (isJoseError(err, 'ERR_JWKS_NO_MATCHING_KEY'))
        return retryUnknownKid(err, token, jws, currentDate, true);
      throw err;
    }
  }

  /** The path that waits: keys not loaded yet, or a token to decrypt first. */
  async function verifyAfterWaiting(token: string, currentDate: Date): Promise<AccessTokenClaims> {
    await jwks.ensure();
    if (opener?.required && !isCompactJWE(token)) {
      throw new VerifyError('ERR_VERIFY_NOT_ENCRYPTED', 'this service accepts encrypted access tokens only');
    }
    const jws = opener === undefined ? token : await opener.open(token);
    return checkOrRetry(token, jws, currentDate);
  }

  return (token) => {
    const now = clock();
    // A hit skips the key set, so `usable()` refreshes an expired set here too: a key removed or replaced at the
    // issuer must evict the cached tokens it verified even when every request hits the cache. Never waits. Asked
    // before the cache: a set it drops for being too stale evicts its tokens, this one included.
    const usable = jwks.usable();
    const claims = cache?.get(token, Math.floor(now / 1000));
    if (claims !== undefined) return claims;
    const currentDate = new Date(now);
    if (!usable || opener !== undefined) return verifyAfterWaiting(token, currentDate);
    return checkOrRetry(token, token, currentDate);
  };
}
