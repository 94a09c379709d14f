/**
 * One-time JWTs for links sent by mail: email verification, password reset, invitation and email change. Each kind
 * has its own `typ` and audience (the URL of the one endpoint that accepts it), so none passes as another kind or as
 * an access token (`at+jwt`), and no access token passes as one of them. They are HS256 under a key derived from the
 * KEK, never published in the JWKS: only this server (any of its instances) can verify them, and a resource server
 * trusting the JWKS never accepts one. Each `jti` is registered at issue time and consumed by one conditional
 * UPDATE, so a link works once across every instance; invitations use their own row for that.
 */
import { createHmac } from 'node:crypto';

import { createSigner, createVerifier, importSecret, isJoseError, type JWTPayload } from '@jot/jose';

import type { Clock } from '../clock.js';
import type { Store } from '../store/index.js';
import { randomBase64url } from './random-pool.js';
import { deriveKey, hashSecret, safeEqual } from './secrets.js';
import { DomainError } from './errors.js';

/** The kinds of one-time token. */
export type OneTimeKind = 'email_verification' | 'password_reset' | 'invitation' | 'email_change';

/** `typ` header and accepting endpoint of each kind. */
export const ONE_TIME_KINDS: {
  readonly [K in OneTimeKind]: { readonly typ: string; readonly path: string };
} = {
  email_verification: { typ: 'verify-email+jwt', path: '/api/email/verify' },
  password_reset: { typ: 'password-reset+jwt', path: '/api/password/reset' },
  invitation: { typ: 'invitation+jwt', path: '/api/invitations/accept' },
  email_change: { typ: 'email-change+jwt', path: '/api/email/change/confirm' },
};

/** The claims of a one-time token. */
export interface OneTimeClaims extends JWTPayload {
  sub: string;
  jti: string;
  exp: number;
  iat: number;
  /** The address the link was sent for. */
  email: string;
  /** Email change: the new address. */
  new_email?: string;
  /** Email change: the account's credential generation when it was asked for (decimal). */
  cg?: string;
  /** Password reset: a MAC of the credential it may replace. */
  pwd?: string;
}

/** Issues, checks and consumes one-time tokens. */
export interface OneTimeTokens {
  /** Signs a token (and registers its `jti`, except for invitations, whose row is the registration). */
  issue(
    kind: OneTimeKind,
    input: { subject: string; email: string; ttlMs: number; jti?: string; claims?: Record<string, string> },
  ): Promise<{ token: string; jti: string; expiresAt: number }>;
  /** Signature, `typ`, issuer, audience and lifetime; throws a 400 `ERR_LINK_INVALID` / `ERR_LINK_EXPIRED`. */
  verify(kind: OneTimeKind, token: string): OneTimeClaims;
  /**
   * Consumes the `jti` atomically; throws a 400 `ERR_LINK_USED` when it was used (or expired) already. Pass the
   * transaction (`tx`) of the change the link makes, so a change that fails does not spend the link; the account's
   * row is held from there to the end of that transaction (`Store.holdUser`), so link changes of one account queue.
   */
  consume(kind: Exclude<OneTimeKind, 'invitation'>, claims: OneTimeClaims, tx?: Store): Promise<void>;
  /**
   * Checks, without spending it, that the link is still unused (not consumed, not voided, not expired): a 400
   * `ERR_LINK_USED` as `consume` would throw. For a link whose use takes more (a password): a dead link is refused
   * before that is looked at. `consume` still decides, atomically.
   */
  checkUnused(kind: Exclude<OneTimeKind, 'invitation'>, claims: OneTimeClaims): Promise<void>;
  /** The MAC bound into a reset token for a password hash. */
  credentialMac(passwordHash: string): string;
  /** Constant-time check of a reset token's binding against the current password hash. */
  matchesCredential(claims: OneTimeClaims, passwordHash: string): boolean;
}

/**
 * The error for a link that was already used, or was voided by another change (a reset link after a new password
 * or email, an email-change link after signing out everywhere), or whose `jti` is unknown. One code and one text for
 * all: telling them apart would tell whoever holds the link what happened on the account since.
 */
export function linkUsed(): DomainError {
  return new DomainError(
    'invalid',
    'ERR_LINK_USED',
    'this link can no longer be used: it was used already, or the account changed since it was sent (a new password or email, or a sign-out everywhere); ask for a new one if you still need it',
  );
}

/**
 * Voids the user's unused links of `kinds` (they answer `ERR_LINK_USED` from now on), in the transaction `tx` of the
 * change that outdates them: a confirmed address change kills the verification, reset and email-change links mailed
 * for the account as it was. A link consumed earlier in the same transaction is used already, and left alone.
 */
export async function voidUserOneTimeTokens(
  tx: Store,
  userId: string,
  kinds: readonly Exclude<OneTimeKind, 'invitation'>[],
): Promise<void> {
  await tx.voidOneTimeTokens(userId, kinds);
}

/** What the service is built over. */
interface OneTimeDeps {
  kek: Buffer;
  issuer: string;
  store: Store;
  clock: Clock;
  clockToleranceSeconds: number;
}

type OneTimeSigner = ReturnType<typeof createSigner>;
type OneTimeVerifier = ReturnType<typeof createVerifier>;

const KINDS = Object.keys(ONE_TIME_KINDS) as OneTimeKind[];

/** A signer and a verifier per kind, each with the kind's `typ` and its endpoint as the audience. */
function signersAndVerifiers(deps: OneTimeDeps): {
  signers: Map<OneTimeKind, OneTimeSigner>;
  verifiers: Map<OneTimeKind, OneTimeVerifier>;
} {
  const { issuer } = deps;
  const key = importSecret(deriveKey(deps.kek, 'jot one-time tokens v1'), { alg: 'HS256', kid: 'jot-ott-1' });
  const audienceOf = (kind: OneTimeKind): string =>
    `${issuer.replace(/\/+$/, '')}${ONE_TIME_KINDS[kind].path}`;
  const signers = new Map(
    KINDS.map((kind) => [
      kind,
      createSigner(key, { typ: ONE_TIME_KINDS[kind].typ, issuer, audience: audienceOf(kind) }),
    ]),
  );
  const verifiers = new Map(
    KINDS.map((kind) => [
      kind,
      createVerifier(key, {
        algorithms: ['HS256'],
        typ: ONE_TIME_KINDS[kind].typ,
        issuer,
        audience: audienceOf(kind),
        requiredClaims: ['sub', 'jti', 'iat', 'email'],
        clockTolerance: deps.clockToleranceSeconds,
      }),
    ]),
  );
  return { signers, verifiers };
}

/** Registers the `jti` (but for invitations) and signs the token. */
async function issue(
  deps: OneTimeDeps,
  sign: OneTimeSigner,
  kind: OneTimeKind,
  input: Parameters<OneTimeTokens['issue']>[1],
): Promise<{ token: string; jti: string; expiresAt: number }> {
  const iat = Math.floor(deps.clock() / 1000);
  const exp = iat + Math.max(1, Math.floor(input.ttlMs / 1000));
  const jti = input.jti ?? randomBase64url(16);
  if (kind !== 'invitation') {
    await deps.store.insertOneTimeToken({
      tokenHash: hashSecret(`${kind}:${jti}`),
      purpose: kind,
      userId: input.subject,
      expiresAt: exp * 1000 + deps.clockToleranceSeconds * 1000,
    });
  }
  const token = sign(
    { ...input.claims, sub: input.subject, jti, email: input.email, exp },
    { currentDate: new Date(iat * 1000) },
  );
  return { token, jti, expiresAt: exp * 1000 };
}

/** The claims of a valid token; an expired one is `ERR_LINK_EXPIRED`, anything else `ERR_LINK_INVALID`. */
function verify(verifier: OneTimeVerifier, token: string, now: number): OneTimeClaims {
  try {
    return verifier<OneTimeClaims>(token, { currentDate: new Date(now) }).payload;
  } catch (err) {
    if (!isJoseError(err)) throw err;
    if (err.code === 'ERR_JWT_EXPIRED') {
      throw new DomainError('invalid', 'ERR_LINK_EXPIRED', 'this link has expired; ask for a new one');
    }
    throw new DomainError(
      'invalid',
      'ERR_LINK_INVALID',
      'this link is not valid; check that you copied all of it',
    );
  }
}

/** Builds the service over the KEK. */
export function createOneTimeTokens(deps: OneTimeDeps): OneTimeTokens {
  const { store, clock } = deps;
  const { signers, verifiers } = signersAndVerifiers(deps);
  const macKey = deriveKey(deps.kek, 'jot reset credential binding v1');
  const mac = (passwordHash: string): string =>
    createHmac('sha256', macKey).update(passwordHash).digest().subarray(0, 16).toString('base64url');

  return {
    issue: (kind, input) => issue(deps, signers.get(kind)!, kind, input),
    verify: (kind, token) => verify(verifiers.get(kind)!, token, clock()),
    async consume(kind, claims, tx = store) {
      // The account's row first: two links of one account consumed at once (each transaction then voiding the
      // other's link, `voidUserOneTimeTokens`) queue on it instead of each holding one link row and waiting for the
      // other's, a deadlock PostgreSQL would end with a 503.
      await tx.holdUser(claims.sub);
      const record = await tx.consumeOneTimeToken(hashSecret(`${kind}:${claims.jti}`), kind);
      if (record === undefined || record.userId !== claims.sub) throw linkUsed();
    },
    async checkUnused(kind, claims) {
      const record = await store.findUnusedOneTimeToken(hashSecret(`${kind}:${claims.jti}`), kind);
      if (record === undefined || record.userId !== claims.sub) throw linkUsed();
    },
    credentialMac: mac,
    matchesCredential(claims, passwordHash) {
      return typeof claims.pwd === 'string' && safeEqual(claims.pwd, mac(passwordHash));
    },
  };
}
