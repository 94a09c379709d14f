/**
 * Second factors of an account: TOTP enrolment (a pending factor confirmed by its first code), recovery codes,
 * passkeys (see passkeys.ts), listing, renaming, removal and an admin reset — and the check of a proof (a TOTP code,
 * a recovery code or a passkey assertion) that yields the RFC 8176 `amr` values of the method.
 */
import { randomUUID } from 'node:crypto';

import type { AuthenticationResponseJSON } from '@simplewebauthn/server';

import type { Clock } from '../clock.js';
import type { MfaFactor, Store, User } from '../store/index.js';
import type { MfaSecrets } from './mfa-secrets.js';
import type { PasskeyService } from './passkeys.js';
import { base32Encode, matchTotp, newTotpSecret, otpauthUri } from './totp.js';
import { DomainError } from './errors.js';

/** What the user presents as a second factor. */
export type MfaProof =
  | { type: 'totp'; code: string }
  | { type: 'recovery_code'; code: string }
  | { type: 'webauthn'; response: AuthenticationResponseJSON };

/** The `acr` of a one-factor and of a multi-factor authentication. */
export const ACR = { single: 'aal1', multi: 'aal2' } as const;

/** RFC 8176 `amr` of each second-factor method (with the password step before it). */
export const METHOD_AMR: Readonly<Record<MfaProof['type'], readonly string[]>> = {
  totp: ['otp'],
  recovery_code: ['otp'],
  webauthn: ['hwk'],
};

/** A pending TOTP enrolment: what the user copies into an authenticator app. */
export interface TotpEnrolment {
  factorId: string;
  /** base32, as authenticator apps take it when typed. */
  secret: string;
  /** `otpauth://totp/…` for the QR code. */
  uri: string;
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
  /** Checks a proof for the user; returns the method's `amr` values. Throws 401 `ERR_MFA_CODE_INVALID`. */
  verify(userId: string, proof: MfaProof): Promise<string[]>;
  rename(userId: string, factorId: string, name: string): Promise<void>;
  /** Removes a factor; with the last one go the recovery codes. */
  remove(userId: string, factorId: string): Promise<void>;
  /** Removes every factor and recovery code of the user (admin reset). */
  reset(userId: string): Promise<number>;
}

/** A 401 for a wrong or reused second-factor code. */
export function codeInvalid(attemptsLeft?: number): DomainError {
  const left = attemptsLeft === undefined ? '' : ` (${attemptsLeft} attempts left with this MFA token)`;
  return new DomainError('grant', 'ERR_MFA_CODE_INVALID', `the code is incorrect or was already used${left}`);
}

/** Builds the MFA service. */
export function createMfaService(deps: {
  store: Store;
  secrets: MfaSecrets;
  passkeys: PasskeyService;
  clock: Clock;
  issuer: string;
}): MfaService {
  const { store, secrets, passkeys, clock } = deps;
  const issuerLabel = new URL(deps.issuer).host;

  async function confirmed(userId: string): Promise<MfaFactor[]> {
    return (await store.mfa.listFactors(userId)).filter((f) => f.confirmedAt !== null);
  }

  async function totpStep(factor: MfaFactor, code: string): Promise<number | undefined> {
    if (factor.secretCiphertext === null) return undefined;
    const secret = secrets.openTotp(factor.secretCiphertext, { userId: factor.userId, factorId: factor.id });
    try {
      return matchTotp(secret, code, clock());
    } finally {
      secret.fill(0);
    }
  }

  async function issueRecoveryCodes(userId: string): Promise<string[]> {
    const codes = secrets.newRecoveryCodes();
    await store.mfa.replaceRecoveryCodes(
      userId,
      codes.map((c) => secrets.hashRecoveryCode(userId, c)),
    );
    return codes;
  }

  return {
    factors: confirmed,

    async methods(userId) {
      const kinds = new Set((await confirmed(userId)).map((f) => f.kind));
      const out: string[] = [...kinds].sort();
      if (out.length > 0 && (await store.mfa.countRecoveryCodes(userId)) > 0) out.push('recovery_code');
      return out;
    },

    async startTotp(user) {
      if ((await confirmed(user.id)).some((f) => f.kind === 'totp')) {
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
    },

    async confirmTotp(user, factorId, code) {
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
      const step = await totpStep(factor, code);
      if (step === undefined || !(await store.mfa.claimTotpStep(factor.id, step))) throw codeInvalid();
      if (!(await store.mfa.confirmFactor(user.id, factor.id))) throw codeInvalid();
      if ((await store.mfa.countRecoveryCodes(user.id)) > 0) return undefined;
      return issueRecoveryCodes(user.id);
    },

    async newRecoveryCodes(userId) {
      if ((await confirmed(userId)).length === 0) {
        throw new DomainError(
          'conflict',
          'ERR_MFA_NOT_ENROLLED',
          'set up a second factor before recovery codes',
        );
      }
      return issueRecoveryCodes(userId);
    },

    recoveryCodesLeft: (userId) => store.mfa.countRecoveryCodes(userId),

    async verify(userId, proof) {
      if (proof.type === 'totp') {
        for (const factor of (await confirmed(userId)).filter((f) => f.kind === 'totp')) {
          const step = await totpStep(factor, proof.code.trim());
          if (step !== undefined && (await store.mfa.claimTotpStep(factor.id, step))) {
            await store.mfa.touchFactor(factor.id);
            return [...METHOD_AMR.totp];
          }
        }
        throw codeInvalid();
      }
      if (proof.type === 'recovery_code') {
        const ok = await store.mfa.consumeRecoveryCode(userId, secrets.hashRecoveryCode(userId, proof.code));
        if (!ok) throw codeInvalid();
        return [...METHOD_AMR.recovery_code];
      }
      await passkeys.verifyAssertion(proof.response, { userId, requireUserVerification: false });
      return [...METHOD_AMR.webauthn];
    },

    async rename(userId, factorId, name) {
      if (!(await store.mfa.renameFactor(userId, factorId, name))) {
        throw new DomainError('not_found', 'ERR_NOT_FOUND', 'no such factor');
      }
    },

    async remove(userId, factorId) {
      if ((await store.mfa.deleteFactors(userId, { id: factorId })) === 0) {
        throw new DomainError('not_found', 'ERR_NOT_FOUND', 'no such factor');
      }
      if ((await confirmed(userId)).length === 0) await store.mfa.deleteRecoveryCodes(userId);
    },

    async reset(userId) {
      const removed = await store.mfa.deleteFactors(userId);
      await store.mfa.deleteRecoveryCodes(userId);
      return removed;
    },
  };
}
