/**
 * What a user presents as a second factor, what each method proves (the RFC 8176 `amr` values), the `acr` of a
 * one- and a multi-factor authentication, and the one error for a wrong or reused code.
 */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';

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

/**
 * The grant error for a wrong or reused second-factor code: 401 at the sign-in's second step; a signed-in user's
 * proof (services/mfa-enrolment.ts) turns it into a 403.
 */
export function codeInvalid(attemptsLeft?: number): DomainError {
  const left = attemptsLeft === undefined ? '' : ` (${attemptsLeft} attempts left with this MFA token)`;
  return new DomainError('grant', 'ERR_MFA_CODE_INVALID', `the code is incorrect or was already used${left}`);
}
