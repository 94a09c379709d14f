/**
 * Multi-factor sign-in for `@jot/client`: the error a password sign-in throws when the account has a second factor
 * (`JotMfaRequiredError`, carrying the one-time MFA token), and the proofs the second step and a step-up accept —
 * an authenticator-app code, a recovery code, or a passkey assertion (the JSON `@simplewebauthn/browser`'s
 * `startAuthentication` returns; this package does not run the WebAuthn ceremony itself).
 */
import type { MfaProofFields, MfaRequiredBody, MfaSignInBody } from '@jot/contract';

import { JotClientError } from './errors.js';

/** A WebAuthn assertion or registration as JSON (`AuthenticationResponseJSON` of `@simplewebauthn/browser`). */
export type PasskeyCredentialJSON = Record<string, unknown>;

/** What the user presents as a second factor. */
export type MfaProof = { code: string } | { recoveryCode: string } | { passkey: PasskeyCredentialJSON };

/** The second-factor methods a server offers: `totp`, `webauthn`, `recovery_code`. */
export type MfaMethod = 'totp' | 'webauthn' | 'recovery_code' | (string & {});

/**
 * Thrown by `login()` when the password was right and the account has a second factor: finish with
 * `client.completeMfa(err.mfaToken, proof)` before `expiresIn` seconds pass (at most 5 attempts per token).
 */
export class JotMfaRequiredError extends JotClientError {
  /** The one-time MFA token (never an access token). */
  readonly mfaToken: string;
  /** What the second step accepts. */
  readonly methods: readonly MfaMethod[];
  /** Seconds the MFA token stays valid. */
  readonly expiresIn: number;

  constructor(body: Partial<Record<keyof MfaRequiredBody, unknown>> & { mfa_token: string }) {
    super('ERR_MFA_REQUIRED', 'the password is correct; complete the sign-in with a second factor', {
      status: 403,
      error: 'mfa_required',
    });
    this.mfaToken = body.mfa_token;
    this.methods = Array.isArray(body.mfa_methods)
      ? body.mfa_methods.filter((m): m is string => typeof m === 'string')
      : [];
    this.expiresIn = typeof body.mfa_token_expires_in === 'number' ? body.mfa_token_expires_in : 0;
  }
}

/** True when `err` is the `mfa_required` answer of a password sign-in. */
export function isMfaRequired(err: unknown): err is JotMfaRequiredError {
  return err instanceof JotMfaRequiredError;
}

/** The `mfa_required` error in a 403 answer of `POST /api/login`, or undefined. */
export async function mfaRequiredFrom(response: Response): Promise<JotMfaRequiredError | undefined> {
  if (response.status !== 403) return undefined;
  try {
    const body: unknown = await response.clone().json();
    if (typeof body !== 'object' || body === null) return undefined;
    // The contract's members, each still unchecked: a renamed member fails to compile here.
    const fields: Partial<Record<keyof MfaRequiredBody, unknown>> = body;
    const { error, mfa_token: mfaToken } = fields;
    if (error !== 'mfa_required' || typeof mfaToken !== 'string') return undefined;
    return new JotMfaRequiredError({ ...fields, mfa_token: mfaToken });
  } catch {
    return undefined;
  }
}

/** The body of `POST /api/login/mfa` for `proof` (with the device credential to present, in bearer mode). */
export function mfaSignInBody(mfaToken: string, proof: MfaProof, deviceToken?: string): MfaSignInBody {
  return {
    mfa_token: mfaToken,
    ...proofFields(proof),
    ...(deviceToken === undefined ? {} : { device_token: deviceToken }),
  };
}

/** The request fields of a proof (`code`, `recovery_code` or `webauthn`). */
export function proofFields(proof: MfaProof): MfaProofFields {
  if ('code' in proof) return { code: proof.code };
  if ('recoveryCode' in proof) return { recovery_code: proof.recoveryCode };
  if ('passkey' in proof) return { webauthn: proof.passkey };
  throw new TypeError('an MFA proof is { code }, { recoveryCode } or { passkey }');
}
