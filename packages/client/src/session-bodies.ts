/**
 * The bodies `@jot/client` sends to sign in and to confirm the password, built as the `@jot/contract` types the
 * server's JSON schemas are pinned to: a member renamed on one side fails to compile on the other.
 */
import type {
  LoginBody,
  PasskeyLoginBody,
  PasswordChangeBody,
  ReauthBody,
  SessionDelivery,
} from '@jot/contract';

import type { PasskeyCredentialJSON } from './mfa.js';

/** The `device_token` member: only when there is a credential to present (bearer mode, device-tokens.ts). */
export function deviceTokenMember(deviceToken: string | undefined): { device_token?: string } {
  return deviceToken === undefined ? {} : { device_token: deviceToken };
}

/** `POST /api/login`: the session is delivered the way this client holds it. */
export function loginBody(
  email: string,
  password: string,
  delivery: SessionDelivery,
  deviceToken?: string,
): LoginBody {
  return { email, password, delivery, ...deviceTokenMember(deviceToken) };
}

/** `POST /api/passkeys/login`: a passwordless sign-in, delivered the way this client holds the session. */
export function passkeyLoginBody(
  credential: PasskeyCredentialJSON,
  delivery: SessionDelivery,
  deviceToken?: string,
): PasskeyLoginBody {
  return { credential, delivery, ...deviceTokenMember(deviceToken) };
}

/** `POST /api/reauth`: step-up (RFC 9470) with the password. */
export function reauthBody(password: string): ReauthBody {
  return { password };
}

/** `POST /api/password`: the current password and the new one. */
export function passwordChangeBody(currentPassword: string, newPassword: string): PasswordChangeBody {
  return { current_password: currentPassword, new_password: newPassword };
}
