/**
 * Pre-account-hijacking defence: no second factor is added to an account whose address is not proven yet. Otherwise
 * whoever registered someone else's address first could add their own authenticator app or passkey and wait: the
 * address's owner later "recovers" the account with a password reset and keeps the squatter's factor without
 * knowing it. With `JOT_EMAIL_VERIFICATION` on (`optional` or `required`), factor enrolment (authenticator app,
 * passkey, new recovery codes) waits for the address to be verified; a reset of an unverified account removes any
 * factor it has (account-links.ts). With verification `off` no address is ever proven, so nothing waits.
 */
import type { Config } from '../config/index.js';
import type { User } from '../store/index.js';
import { DomainError } from './errors.js';

/** Whether the account must verify its address before it may add a second factor (`needs_verified_email`). */
export function needsVerifiedEmail(
  config: Pick<Config, 'emailVerification'>,
  user: Pick<User, 'emailVerifiedAt'>,
): boolean {
  return config.emailVerification !== 'off' && user.emailVerifiedAt === null;
}

/**
 * Passes the account through to a factor enrolment step (TOTP start and confirm, passkey options and registration,
 * new recovery codes); refuses it with 403 `ERR_EMAIL_NOT_VERIFIED` while its address is unverified.
 */
export function mayEnrol(config: Pick<Config, 'emailVerification'>, user: User): User {
  if (needsVerifiedEmail(config, user)) {
    throw new DomainError(
      'forbidden',
      'ERR_EMAIL_NOT_VERIFIED',
      'confirm your email address first: open the verification link we mailed you (or ask for a new one with POST /api/email/verification), then set up two-step verification',
    );
  }
  return user;
}
