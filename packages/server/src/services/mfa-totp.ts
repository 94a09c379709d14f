/**
 * Authenticator-app (TOTP, RFC 6238) factors: enrolment as a pending factor whose secret is sealed under the KEK,
 * confirmed by its first code; the time step a code matches, each step usable once per factor; and the recovery
 * codes a first factor comes with (stored hashed, shown once).
 */
import { randomUUID } from 'node:crypto';

import type { Clock } from '../clock.js';
import type { MfaFactor, Store, User } from '../store/index.js';
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

/** The time step `code` matches for a TOTP factor, if any (the secret is wiped after use). */
export async function totpStep(
  { secrets, clock }: FactorDeps,
  factor: MfaFactor,
  code: string,
): Promise<number | undefined> {
  if (factor.secretCiphertext === null) return undefined;
  const secret = secrets.openTotp(factor.secretCiphertext, { userId: factor.userId, factorId: factor.id });
  try {
    return matchTotp(secret, code, clock());
  } finally {
    secret.fill(0);
  }
}

/** Starts an enrolment (replacing a pending one); refused while a confirmed authenticator app exists. */
export async function startTotp(deps: FactorDeps, user: User, issuerLabel: string): Promise<TotpEnrolment> {
  const { store, secrets } = deps;
  if ((await confirmedFactors(store, user.id)).some((f) => f.kind === 'totp')) {
    throw new DomainError(
      'conflict',
      'ERR_MFA_ALREADY_ENROLLED',
      'an authenticator app is already set up; remove it before adding another',
    );
  }
  await store.mfa.deleteFactors(user.id, { kind: 'totp', pendingOnly: true });
  const factorId = randomUUID();
  const secret = newTotpSecret();
  try {
    await store.mfa.insertFactor({
      id: factorId,
      userId: user.id,
      kind: 'totp',
      name: 'Authenticator app',
      secretCiphertext: secrets.sealTotp(secret, { userId: user.id, factorId }),
    });
    return { factorId, secret: base32Encode(secret), uri: otpauthUri(secret, issuerLabel, user.email) };
  } finally {
    secret.fill(0);
  }
}

/** Confirms the pending factor with its first code; returns new recovery codes if the user had none. */
export async function confirmTotp(
  deps: FactorDeps,
  user: User,
  factorId: string,
  code: string,
): Promise<string[] | undefined> {
  const { store } = deps;
  const factor = (await store.mfa.listFactors(user.id)).find(
    (f) => f.id === factorId && f.kind === 'totp' && f.confirmedAt === null,
  );
  if (factor === undefined) {
    throw new DomainError(
      'not_found',
      'ERR_NOT_FOUND',
      'no pending authenticator-app enrolment with this id',
    );
  }
  const step = await totpStep(deps, factor, code);
  if (step === undefined || !(await store.mfa.claimTotpStep(factor.id, step))) throw codeInvalid();
  if (!(await store.mfa.confirmFactor(user.id, factor.id))) throw codeInvalid();
  return issueFirstRecoveryCodes(deps, user.id);
}
