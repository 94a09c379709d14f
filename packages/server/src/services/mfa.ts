/**
 * Second factors of an account: TOTP enrolment (a pending factor confirmed by its first code), recovery codes,
 * passkeys (see passkeys.ts), listing, renaming, removal and an admin reset — and the check of a proof (a TOTP code,
 * a recovery code or a passkey assertion) that yields the RFC 8176 `amr` values of the method.
 */
import type { Clock } from '../clock.js';
import type { MfaFactor, Store, User } from '../store/index.js';
import type { MfaSecrets } from './mfa-secrets.js';
import { codeInvalid, METHOD_AMR, type MfaProof } from './mfa-proof.js';
import {
  confirmedFactors,
  confirmTotp,
  issueFirstRecoveryCodes,
  issueRecoveryCodes,
  startTotp,
  totpStep,
  type FactorDeps,
  type TotpEnrolment,
} from './mfa-totp.js';
import type { PasskeyService } from './passkeys.js';
import { DomainError } from './errors.js';

export { ACR, codeInvalid, METHOD_AMR, type MfaProof } from './mfa-proof.js';
export type { TotpEnrolment } from './mfa-totp.js';

/**
 * A checked proof: the method's `amr`, and `undo` to give back what checking it spent when the sign-in it was for
 * did not happen (a recovery code is used up by its check; a TOTP step or a passkey's counter spends nothing the
 * user needs again, so for them `undo` does nothing).
 */
export interface MfaVerification {
  amr: string[];
  undo(): Promise<void>;
}

/** The MFA service. */
export interface MfaService {
  /** The user's confirmed factors. */
  factors(userId: string): Promise<MfaFactor[]>;
  /** The methods the user can use at the second step (`totp`, `webauthn`, `recovery_code`). */
  methods(userId: string): Promise<string[]>;
  startTotp(user: User): Promise<TotpEnrolment>;
  /** Confirms the pending TOTP factor with its first code; returns new recovery codes if the user had none. */
  confirmTotp(user: User, factorId: string, code: string): Promise<string[] | undefined>;
  /** Replaces the recovery codes; returns the new ones (shown once). */
  newRecoveryCodes(userId: string): Promise<string[]>;
  recoveryCodesLeft(userId: string): Promise<number>;
  /** New recovery codes when the user has no unused one (a first factor), atomically; else undefined. */
  firstRecoveryCodes(userId: string): Promise<string[] | undefined>;
  /** Checks a proof for the user; returns the method's `amr` values. Throws `ERR_MFA_CODE_INVALID` (a grant error). */
  verify(userId: string, proof: MfaProof): Promise<MfaVerification>;
  rename(userId: string, factorId: string, name: string): Promise<void>;
  /** Removes a factor; with the last one go the recovery codes. */
  remove(userId: string, factorId: string): Promise<void>;
  /**
   * Removes every factor and recovery code of the user (admin reset); resolves to how many factors went, or
   * undefined, with nothing removed, when there is no such user (deleted, say: the removal itself finds the user).
   */
  reset(userId: string): Promise<number | undefined>;
}

const NOTHING_TO_UNDO = async (): Promise<void> => {};

/** Checks a proof for the user; returns the method's `amr` values, and how to give back a used recovery code. */
async function verifyProof(
  deps: FactorDeps & { passkeys: PasskeyService },
  userId: string,
  proof: MfaProof,
): Promise<MfaVerification> {
  const { store, secrets } = deps;
  if (proof.type === 'totp') {
    for (const factor of (await confirmedFactors(store, userId)).filter((f) => f.kind === 'totp')) {
      const step = await totpStep(deps, factor, proof.code.trim());
      if (step !== undefined && (await store.mfa.claimTotpStep(factor.id, step))) {
        await store.mfa.touchFactor(factor.id);
        return { amr: [...METHOD_AMR.totp], undo: NOTHING_TO_UNDO };
      }
    }
    throw codeInvalid();
  }
  if (proof.type === 'recovery_code') {
    const hash = secrets.hashRecoveryCode(userId, proof.code);
    if (!(await store.mfa.consumeRecoveryCode(userId, hash))) throw codeInvalid();
    return {
      amr: [...METHOD_AMR.recovery_code],
      undo: () => store.mfa.restoreRecoveryCode(userId, hash),
    };
  }
  await deps.passkeys.verifyAssertion(proof.response, { userId, requireUserVerification: false });
  return { amr: [...METHOD_AMR.webauthn], undo: NOTHING_TO_UNDO };
}

async function methodsOf(store: Store, userId: string): Promise<string[]> {
  const kinds = new Set((await confirmedFactors(store, userId)).map((f) => f.kind));
  const out: string[] = [...kinds].sort();
  if (out.length > 0 && (await store.mfa.countRecoveryCodes(userId)) > 0) out.push('recovery_code');
  return out;
}

async function newRecoveryCodes(deps: FactorDeps, userId: string): Promise<string[]> {
  if ((await confirmedFactors(deps.store, userId)).length === 0) {
    throw new DomainError('conflict', 'ERR_MFA_NOT_ENROLLED', 'set up a second factor before recovery codes');
  }
  return issueRecoveryCodes(deps, userId);
}

function noFactor(): DomainError {
  return new DomainError('not_found', 'ERR_NOT_FOUND', 'no such factor');
}

/** Builds the MFA service. */
export function createMfaService(deps: {
  store: Store;
  secrets: MfaSecrets;
  passkeys: PasskeyService;
  clock: Clock;
  issuer: string;
}): MfaService {
  const { store } = deps;
  const issuerLabel = new URL(deps.issuer).host;
  return {
    factors: (userId) => confirmedFactors(store, userId),
    methods: (userId) => methodsOf(store, userId),
    startTotp: (user) => startTotp(deps, user, issuerLabel),
    confirmTotp: (user, factorId, code) => confirmTotp(deps, user, factorId, code),
    newRecoveryCodes: (userId) => newRecoveryCodes(deps, userId),
    recoveryCodesLeft: (userId) => store.mfa.countRecoveryCodes(userId),
    firstRecoveryCodes: (userId) => issueFirstRecoveryCodes(deps, userId),
    verify: (userId, proof) => verifyProof(deps, userId, proof),
    async rename(userId, factorId, name) {
      if (!(await store.mfa.renameFactor(userId, factorId, name))) throw noFactor();
    },
    async remove(userId, factorId) {
      if (!(await store.mfa.removeFactors(userId, { id: factorId }))) throw noFactor();
    },
    reset: (userId) => store.mfa.removeFactors(userId),
  };
}
