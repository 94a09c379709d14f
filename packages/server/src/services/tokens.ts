/**
 * Access tokens (RFC 9068 JWT profile): `typ: at+jwt`, signed by the active key with its `kid`, small enough to
 * pass any proxy (a typical token is well under 1 KB). Verification here covers signature and claims only; the
 * revocation checks are `RevocationService.check`, on every request whatever this file remembers.
 *
 * `verify` keeps the tokens it verified (bounded, least recently used dropped first): a token presented again skips
 * the signature check, never the rest. A hit is only served while the token is unexpired by the same rule the
 * verifier applies, while its `alg` and `kid` still select the very key object that verified it (a key retired,
 * removed or replaced under the same `kid` makes every token it verified a miss, verified afresh), and while the
 * key ring's algorithms are the ones it was verified under. Keyed on the whole token text.
 *
 * This file composes the parts: the claims (`access-token-claims.ts`), signing with the active key
 * (`token-signer.ts`), verification and its cache (`access-token-verifiers.ts`, `verified-tokens.ts`) and
 * encryption to an audience's key (`token-encryption.ts`).
 */
import type { AccessTokenClaims, UserAccessTokenClaims } from '@jot/contract';
import { isJoseError, type JWK } from '@jot/jose';

import type { Counter } from 'prom-client';

import type { Clock } from '../clock.js';
import type { KeyManager } from '../keys/types.js';
import { createAccessTokenVerifiers, type ClientBoundClaims } from './access-token-verifiers.js';
import {
  clientTokenClaims,
  userTokenClaims,
  type AccessTokenInput,
  type ClientTokenInput,
} from './access-token-claims.js';
import { createTokenSealer } from './token-encryption.js';
import { createAccessTokenSigner } from './token-signer.js';

export type { AccessTokenInput, ClientTokenInput } from './access-token-claims.js';
export type { ClientBoundClaims } from './access-token-verifiers.js';

/** An issued access token. */
export interface IssuedAccessToken {
  token: string;
  claims: UserAccessTokenClaims;
  /** Lifetime in seconds (`expires_in`). */
  expiresIn: number;
  /** True once `seal` encrypted it to its audience's key. */
  encrypted?: boolean;
}

/** Issues and verifies access tokens. */
export interface TokenService {
  /** Signs on libuv's thread pool for RS/PS keys (see `SIGN_OFF_LOOP` in token-signer.ts), inline for the others. */
  issue(input: AccessTokenInput): Promise<IssuedAccessToken>;
  /** A client's own token (client credentials): `sub` = `client_id`, no session. */
  issueForClient(
    input: ClientTokenInput,
  ): Promise<{ token: string; claims: AccessTokenClaims; expiresIn: number }>;
  /** Encrypts an issued token when its audience registered an encryption key (`JOT_ENCRYPTION_KEYS`). */
  seal<T extends { token: string; claims: { aud: string | string[] } }>(
    issued: T,
  ): Promise<T & { encrypted?: boolean }>;
  /** The JWS inside an encrypted token (with the server's private keys), or the token itself; throws `JoseError`. */
  open(token: string): Promise<string>;
  /** True for a token sealed for an audience whose key this server holds only as public (see `TokenSealer`). */
  sealedForOthers(token: string): boolean;
  /**
   * Signature, `typ`, `iss`, `aud`, times and Jot's required claims; throws `JoseError`. Tokens verified before are
   * answered from a bounded cache (the claims are frozen), re-checking expiry and the verifying key; see above.
   */
  verify(token: string): UserAccessTokenClaims;
  /**
   * Runs a verification (`() => tokens.verify(t)`); if it fails because the token names a kid this instance does
   * not know yet (another instance just rotated), re-reads the key ring — at most once a second, shared by
   * concurrent callers — and verifies again before refusing.
   */
  fresh<T>(verification: () => T): Promise<T>;
  /**
   * Any access token this server issued, for any audience (introspection, revocation, token exchange): signature,
   * `typ`, `iss`, times, `sub`, `jti`, `client_id`; throws `JoseError`.
   */
  verifyIssued(token: string): ClientBoundClaims;
}

/** Settings the token service needs. */
export interface TokenSettings {
  issuer: string;
  audience: readonly string[];
  accessTokenTtlSeconds: number;
  clockToleranceSeconds: number;
  /** Audience → JWK of the audiences whose tokens are encrypted. */
  encryptionKeys?: Readonly<Record<string, JWK>>;
}

/** How many verified access tokens `verify` keeps (about 2 KB each with their claims). */
export const VERIFICATION_CACHE_SIZE = 10_000;

/** Builds the token service over the key manager. Signers are cached per key; `issued` counts each signed token. */
export function createTokenService(
  keys: KeyManager,
  settings: TokenSettings,
  clock: Clock,
  issued?: Pick<Counter, 'inc'>,
  cacheSize = VERIFICATION_CACHE_SIZE,
): TokenService {
  const [only, ...others] = settings.audience;
  const defaults = {
    issuer: settings.issuer,
    audience: only !== undefined && others.length === 0 ? only : [...settings.audience],
    ttlSeconds: settings.accessTokenTtlSeconds,
  };
  const sign = createAccessTokenSigner(keys, settings.issuer, issued);
  const sealer = createTokenSealer(settings.encryptionKeys ?? {});
  const { verify, verifyIssued } = createAccessTokenVerifiers(keys, settings, clock, cacheSize);

  return {
    async fresh(verification) {
      try {
        return verification();
      } catch (err) {
        if (!isJoseError(err) || err.code !== 'ERR_JWKS_NO_MATCHING_KEY') throw err;
        if (!(await keys.refreshForUnknownKid())) throw err;
        return verification();
      }
    },
    async issue(input) {
      const { claims, ttl } = userTokenClaims(input, defaults, clock());
      return { token: await sign(claims), claims, expiresIn: ttl };
    },
    async issueForClient(input) {
      const claims = clientTokenClaims(input, settings.issuer, clock());
      return { token: await sign(claims), claims, expiresIn: input.ttlSeconds };
    },
    seal: (issued) => sealer.seal(issued),
    open: (token) => sealer.open(token),
    sealedForOthers: (token) => sealer.sealedForOthers(token),
    verifyIssued,
    verify,
  };
}
