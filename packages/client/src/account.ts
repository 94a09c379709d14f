/**
 * The signed-in user's own account changes that answer with this session's new tokens: a password change
 * (`POST /api/password`: a new refresh token, every earlier token cut off) and the confirmation of an authenticator
 * app (`POST /api/mfa/totp/confirm`: the session at the multi-factor level, and the first factor's recovery codes).
 * Sent through `json()` the answer's tokens were dropped, and a password change signed the session out.
 */
import { confirmIdentity, type ClientCore } from './identity.js';
import { passwordChangeBody } from './session-bodies.js';

/** `POST /api/password`. */
export const PASSWORD_CHANGE_PATH = '/api/password';
/** `POST /api/mfa/totp/confirm`. */
export const TOTP_CONFIRM_PATH = '/api/mfa/totp/confirm';

/** What confirming an authenticator app answers besides the session's tokens. */
export interface TotpConfirmation {
  /** The recovery codes, shown once: only when the app is the account's first factor. */
  recoveryCodes: string[] | undefined;
}

/**
 * Changes the password and goes on with the tokens of the answer (the earlier ones stop working). The change also
 * ends the device credentials issued before it; in bearer mode the answer's fresh `device_token` replaces the
 * account's entry (known by the answer's access token), which keeps the address it had (device-tokens.ts).
 */
export async function changePassword(
  core: ClientCore,
  currentPassword: string,
  newPassword: string,
): Promise<void> {
  const body = passwordChangeBody(currentPassword, newPassword);
  const answer = await confirmIdentity(core, PASSWORD_CHANGE_PATH, body, { supersedes: true });
  await core.devices?.keep(undefined, answer);
}

/** Confirms an authenticator app with its first code and adopts the multi-factor tokens of the answer. */
export async function confirmTotp(
  core: ClientCore,
  factorId: string,
  code: string,
): Promise<TotpConfirmation> {
  const answer = await confirmIdentity(core, TOTP_CONFIRM_PATH, { factor_id: factorId, code: code.trim() });
  const codes = (answer as { recovery_codes?: unknown }).recovery_codes;
  const valid = Array.isArray(codes) && codes.every((c): c is string => typeof c === 'string');
  return { recoveryCodes: valid ? codes : undefined };
}
