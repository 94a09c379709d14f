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
 */
import { randomBytes } from 'node:crypto';

import {
  ACCESS_TOKEN_TYP,
  FIRST_PARTY_CLIENT_ID,
  type AccessTokenClaims,
  type ActorClaim,
  type UserAccessTokenClaims,
} from '@jot/contract';
import {
  createSigner,
  createVerifier,
  isJoseError,
  JoseError,
  type JWK,
  type JWTSigner,
  type JWTVerifier,
  type Key,
} from '@jot/jose';

import type { Counter } from 'prom-client';

import type { Clock } from '../clock.js';
import type { KeyManager } from '../keys/types.js';
import { createTokenSealer } from './token-encryption.js';

/** What goes into a client-credentials token. */
export interface ClientTokenInput {
  clientId: string;
  scope?: string;
  audience: string | string[];
  ttlSeconds: number;
  /** Bind the token to this DPoP key thumbprint (`cnf.jkt`, RFC 9449 §6). */
  dpopJkt?: string;
}

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
  /** @default FIRST_PARTY_CLIENT_ID */
  clientId?: string;
  /** @default the configured audience */
  audience?: string | string[];
  /** @default the configured access-token lifetime */
  ttlSeconds?: number;
  /** Token exchange: the acting party (RFC 8693 §4.1). */
  act?: ActorClaim;
  /** RFC 8176 authentication methods of the session's last authentication. */
  amr?: readonly string[];
  /** Authentication context class of the session's last authentication (`aal1`, `aal2`). */
  acr?: string;
  /** Bind the token to this DPoP key thumbprint (`cnf.jkt`, RFC 9449 §6). */
  dpopJkt?: string;
}

/** An issued access token. */
export interface IssuedAccessToken {
  token: string;
  claims: UserAccessTokenClaims;
  /** Lifetime in seconds (`expires_in`). */
  expiresIn: number;
  /** True once `seal` encrypted it to its audience's key. */
  encrypted?: boolean;
}

/** The claims of any token this server issued, its `client_id` checked present (RFC 9068 §2.2). */
export type ClientBoundClaims = AccessTokenClaims & { readonly client_id: string };

/** Issues and verifies access tokens. */
export interface TokenService {
  /** Signs on libuv's thread pool for RS/PS keys (see `SIGN_OFF_LOOP`), inline for the others. */
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

/**
 * Keys whose signatures are made on libuv's thread pool (`signer.async`): RSA signing takes about a millisecond of
 * CPU, long enough that the event loop gains from handing it to the other cores; ECDSA, EdDSA and HMAC take tens of
 * microseconds, less than the hand-off costs, and stay inline.
 */
export const SIGN_OFF_LOOP = /^(RS|PS)/;

/** How many verified access tokens `verify` keeps (about 2 KB each with their claims). */
export const VERIFICATION_CACHE_SIZE = 10_000;

/** A verified token as the cache keeps it. */
interface Verified {
  readonly claims: UserAccessTokenClaims;
  readonly alg: string;
  readonly kid: string | undefined;
  /** The key object that verified the signature; a hit needs the key ring to select this same object. */
  readonly key: Key;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** Builds the token service over the key manager. Signers are cached per key; `issued` counts each signed token. */
export function createTokenService(
  keys: KeyManager,
  settings: TokenSettings,
  clock: Clock,
  issued?: Pick<Counter, 'inc'>,
  cacheSize = VERIFICATION_CACHE_SIZE,
): TokenService {
  const verified = new Map<string, Verified>();
  const signers = new Map<string, { sign: JWTSigner; offload: boolean }>();
  const [only, ...others] = settings.audience;
  const audience = only !== undefined && others.length === 0 ? only : [...settings.audience];
  let verifier: { algs: string; verify: JWTVerifier } | undefined;
  let anyVerifier: { algs: string; verify: JWTVerifier } | undefined;
  const sealer = createTokenSealer(settings.encryptionKeys ?? {});

  function signerFor(): { sign: JWTSigner; offload: boolean } {
    const key = keys.activeKey();
    let signer = signers.get(key.kid);
    if (signer === undefined) {
      signer = {
        sign: createSigner(key, { typ: ACCESS_TOKEN_TYP, issuer: settings.issuer }),
        offload: SIGN_OFF_LOOP.test(key.alg ?? ''),
      };
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
      verified.clear();
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

  function issuedVerifierFor(): JWTVerifier {
    const algs = [...new Set(keys.list().map((k) => k.alg))].sort();
    const id = algs.join(',');
    if (anyVerifier?.algs !== id) {
      anyVerifier = {
        algs: id,
        verify: createVerifier(keys, {
          algorithms: algs,
          issuer: settings.issuer,
          typ: ACCESS_TOKEN_TYP,
          requiredClaims: ['sub', 'iat', 'jti', 'client_id', 'aud'],
          clockTolerance: settings.clockToleranceSeconds,
        }),
      };
    }
    return anyVerifier.verify;
  }

  /** Whether the key ring still selects, for the token's `alg` and `kid`, the key object that verified it. */
  function stillSelects(entry: Verified): boolean {
    try {
      return keys.select(entry.alg as Parameters<KeyManager['select']>[0], entry.kid) === entry.key;
    } catch {
      return false;
    }
  }

  /** Signs `claims`; the signer writes `iss` and `iat` (from `claims.iat`) itself. */
  /** Signs `claims`; the signer writes `iss` and `iat` (from `claims.iat`) itself. */
  async function sign(claims: AccessTokenClaims): Promise<string> {
    const { iss: _iss, iat, ...payload } = claims;
    const signer = signerFor();
    const at = { currentDate: new Date(iat * 1000) };
    const token = signer.offload ? await signer.sign.async(payload, at) : signer.sign(payload, at);
    issued?.inc();
    return token;
  }

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
      const now = clock();
      const iat = Math.floor(now / 1000);
      const ttl = input.ttlSeconds ?? settings.accessTokenTtlSeconds;
      const claims: UserAccessTokenClaims = {
        iss: settings.issuer,
        iat,
        aud: input.audience ?? audience,
        sub: input.userId,
        exp: iat + ttl,
        jti: randomBytes(16).toString('base64url'),
        sid: input.sessionId,
        ver: input.tokenVersion,
        auth_time: Math.floor(input.authTime / 1000),
        roles: [...input.roles],
        client_id: input.clientId ?? FIRST_PARTY_CLIENT_ID,
        ...(input.emailVerified === undefined ? {} : { email_verified: input.emailVerified }),
        ...(input.scope === undefined ? {} : { scope: input.scope }),
        ...(input.csrfHash === undefined ? {} : { cth: input.csrfHash }),
        ...(input.act === undefined ? {} : { act: input.act }),
        ...(input.amr === undefined ? {} : { amr: [...input.amr] }),
        ...(input.acr === undefined ? {} : { acr: input.acr }),
        ...(input.dpopJkt === undefined ? {} : { cnf: { jkt: input.dpopJkt } }),
      };
      return { token: await sign(claims), claims, expiresIn: ttl };
    },
    async issueForClient(input) {
      const iat = Math.floor(clock() / 1000);
      const claims: AccessTokenClaims = {
        iss: settings.issuer,
        iat,
        aud: input.audience,
        sub: input.clientId,
        client_id: input.clientId,
        exp: iat + input.ttlSeconds,
        jti: randomBytes(16).toString('base64url'),
        ...(input.scope === undefined ? {} : { scope: input.scope }),
        ...(input.dpopJkt === undefined ? {} : { cnf: { jkt: input.dpopJkt } }),
      };
      return { token: await sign(claims), claims, expiresIn: input.ttlSeconds };
    },
    seal: (issued) => sealer.seal(issued),
    open: (token) => sealer.open(token),
    verifyIssued(token) {
      const { payload } = issuedVerifierFor()<AccessTokenClaims>(token, { currentDate: new Date(clock()) });
      if (typeof payload.client_id !== 'string') {
        throw new JoseError('ERR_JWT_CLAIM_INVALID', 'the "client_id" claim must be a string', {
          claim: 'client_id',
          reason: 'type',
        });
      }
      return payload as ClientBoundClaims;
    },
    verify(token) {
      const verify = verifierFor();
      const now = clock();
      const hit = verified.get(token);
      if (hit !== undefined) {
        verified.delete(token);
        if (hit.claims.exp > Math.floor(now / 1000) - settings.clockToleranceSeconds && stillSelects(hit)) {
          verified.set(token, hit);
          return hit.claims;
        }
      }
      const { payload, header, key } = verify<UserAccessTokenClaims>(token, { currentDate: new Date(now) });
      if (cacheSize > 0) {
        verified.set(token, { claims: deepFreeze(payload), alg: header.alg, kid: header.kid, key });
        if (verified.size > cacheSize) verified.delete(verified.keys().next().value as string);
      }
      return payload;
    },
  };
}
