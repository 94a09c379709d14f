/**
 * Authenticator-app (TOTP, RFC 6238) factors: enrolment as a pending factor whose secret is sealed under the KEK,
 * confirmed by its first code; the time step a code matches, each step usable once per factor; and the recovery
 * codes a first factor comes with (stored hashed, shown once). One authenticator app per account: the schema allows
 * one confirmed and one pending TOTP factor per user (migration 0013).
 */
import { randomUUID } from 'node:crypto';

import type { Clock } from '../clock.js';
import { KeyError } from '../keys/errors.js';
import { StoreError, type MfaFactor, type Store, type User } from '../store/index.js';
import type { MfaSecrets } from './mfa-secrets.js';
import { codeInvalid } from './mfa-proof.js';
import { base32Encode, matchTotp, newTotpSecret, otpauthUri } from './totp.js';
import { DomainError } from './errors.js';

/** A pending TOTP enrolment: what the user copies into an authenticator app. */
export interface TotpEnrolment {
  factorId: string;
  /** base32, as authenticator apps take it when typed. */
  secret: string;
  /** `otpauth://totp/…` for the QR code. */
  uri: string;
}

/** What the factor operations work with. */
export interface FactorDeps {
  store: Store;
  secrets: MfaSecrets;
  clock: Clock;
}

/** The user's confirmed factors. */
export async function confirmedFactors(store: Store, userId: string): Promise<MfaFactor[]> {
  return (await store.mfa.listFactors(userId)).filter((f) => f.confirmedAt !== null);
}

/** Replaces the user's recovery codes; returns the new ones. */
export async function issueRecoveryCodes({ store, secrets }: FactorDeps, userId: string): Promise<string[]> {
  const codes = secrets.newRecoveryCodes();
  await store.mfa.replaceRecoveryCodes(
    userId,
    codes.map((c) => secrets.hashRecoveryCode(userId, c)),
  );
  return codes;
}

/**
 * New recovery codes for a user who has no unused one (the first factor), stored atomically; undefined when the user
 * has codes — also when a concurrent first factor stored its set first.
 */
export async function issueFirstRecoveryCodes(
  { store, secrets }: FactorDeps,
  userId: string,
): Promise<string[] | undefined> {
  const codes = secrets.newRecoveryCodes();
  const hashes = codes.map((c) => secrets.hashRecoveryCode(userId, c));
  return (await store.mfa.addFirstRecoveryCodes(userId, hashes)) ? codes : undefined;
}

/**
 * The factor's secret. One sealed under another KEK (the operator replaced a lost `JOT_KEK`: docs/keys.md) or
 * damaged can never be checked again: the user is told to use another factor or an admin reset, not sent a 500.
 */
function openSecret(secrets: MfaSecrets, factor: MfaFactor & { secretCiphertext: string }): Buffer {
  try {
    return secrets.openTotp(factor.secretCiphertext, { userId: factor.userId, factorId: factor.id });
  } catch (err) {
    if (!(err instanceof KeyError)) throw err;
    throw new DomainError(
      'conflict',
      'ERR_MFA_FACTOR_UNREADABLE',
      "this authenticator app can no longer be checked: the server's encryption key changed since it was set up; " +
        'sign in with a passkey, or ask an administrator to reset your two-step sign-in',
      { cause: err },
    );
  }
}

/** The time step `code` matches for a TOTP factor, if any (the secret is wiped after use). */
export async function totpStep(
  { secrets, clock }: FactorDeps,
  factor: MfaFactor,
  code: string,
): Promise<number | undefined> {
  if (factor.secretCiphertext === null) return undefined;
  const secret = openSecret(secrets, { ...factor, secretCiphertext: factor.secretCiphertext });
  try {
    return matchTotp(secret, code, clock());
  } finally {
    secret.fill(0);
  }
}

/** The answer while the account has a confirmed authenticator app. */
function alreadyEnrolled(): DomainError {
  return new DomainError(
    'conflict',
    'ERR_MFA_ALREADY_ENROLLED',
    'an authenticator app is already set up; remove it before adding another',
  );
}

/**
 * Starts an enrolment, replacing a pending one (the delete and the insert in one transaction holding the user's row,
 * so starts at once on several instances leave one pending factor); refused while a confirmed authenticator app
 * exists.
 */
export async function startTotp(deps: FactorDeps, user: User, issuerLabel: string): Promise<TotpEnrolment> {
  const { store, secrets } = deps;
  const factorId = randomUUID();
  const secret = newTotpSecret();
  try {
    const factor = await store.mfa.replacePendingTotp({
      id: factorId,
      userId: user.id,
      name: 'Authenticator app',
      secretCiphertext: secrets.sealTotp(secret, { userId: user.id, factorId }),
    });
    if (factor === undefined) throw alreadyEnrolled();
    return { factorId, secret: base32Encode(secret), uri: otpauthUri(secret, issuerLabel, user.email) };
  } finally {
    secret.fill(0);
  }
}

/**
 * Refuses (409) the confirmation of a pending factor while the user has a confirmed authenticator app — one
 * confirmed meanwhile, here or on another instance — and deletes the pending factor, which could never be confirmed.
 */
async function refuseSecondApp(store: Store, user: User, factorId: string): Promise<never> {
  await store.mfa.deleteFactors(user.id, { id: factorId, pendingOnly: true });
  throw alreadyEnrolled();
}

/** Confirms the factor; a unique violation (another authenticator app confirmed at once) is the 409. */
async function confirmOnce(store: Store, user: User, factorId: string): Promise<boolean> {
  try {
    return await store.mfa.confirmFactor(user.id, factorId);
  } catch (err) {
    if (err instanceof StoreError && err.code === 'ERR_STORE_CONFLICT')
      return refuseSecondApp(store, user, factorId);
    throw err;
  }
}

/**
 * Confirms the pending factor with its first code; returns new recovery codes if the user had none. One confirmed
 * authenticator app per account: while one exists the answer is 409 `ERR_MFA_ALREADY_ENROLLED`, also for a
 * confirmation racing another (migration 0013's unique index decides).
 */
export async function confirmTotp(
  deps: FactorDeps,
  user: User,
  factorId: string,
  code: string,
): Promise<string[] | undefined> {
  const { store } = deps;
  const factors = await store.mfa.listFactors(user.id);
  const factor = factors.find((f) => f.id === factorId && f.kind === 'totp' && f.confirmedAt === null);
  if (factor === undefined) {
    throw new DomainError(
      'not_found',
      'ERR_NOT_FOUND',
      'no pending authenticator-app enrolment with this id',
    );
  }
  if (factors.some((f) => f.kind === 'totp' && f.confirmedAt !== null))
    await refuseSecondApp(store, user, factorId);
  const step = await totpStep(deps, factor, code);
  if (step === undefined || !(await store.mfa.claimTotpStep(factor.id, step))) throw codeInvalid();
  if (!(await confirmOnce(store, user, factor.id))) throw codeInvalid();
  return issueFirstRecoveryCodes(deps, user.id);
}
