/**
 * Who may make a never-verified address verified. Anyone may register any address, so the first verification must
 * come from whoever registered it, not merely from whoever reads the mailbox: the address's owner following the link
 * would otherwise make a stranger's account — the stranger's password and all — one with a verified address
 * (pre-account hijacking), which other applications trusting `email_verified` believe. The proof is the account's
 * password or a session of the account; the owner who did not register takes the account over with a password reset
 * instead, which removes what the registrant set up (account-links.ts `resetPasswordWithLink`).
 */
import type { Store, User } from '../store/index.js';
import { DomainError } from './errors.js';
import type { LoginThrottleService } from './login-throttle.js';
import { confirmPassword, type PasswordCheckReport } from './password-change.js';
import type { PasswordHasher } from './passwords.js';

/** What the request following a verification link shows of who follows it. */
export interface VerificationProof {
  /** The account a valid access token of the request names (none: undefined). */
  signedInAs: string | undefined;
  /** The password sent with the link, if any. */
  password: string | undefined;
  /** The device credentials the request presented (the sign-in throttle judges a live one by its own count). */
  deviceTokens: readonly string[];
  /** Where the check of `password` against the account `userId` reports (the route records it as a sign-in's). */
  report(userId: string): PasswordCheckReport;
}

/** How the first verification of an address was proven to come from whoever registered it (`detail.proof`). */
export type RegistrantProof = 'password' | 'session';

/**
 * 400 `ERR_PASSWORD_REQUIRED`: the link is fine (and not spent) but the account's password is missing. It says what
 * to do either way: the registrant enters the password, the mailbox's owner who did not register takes over instead.
 */
const passwordRequired = (): DomainError =>
  new DomainError(
    'invalid',
    'ERR_PASSWORD_REQUIRED',
    'to confirm this address, enter the password this account was registered with; if you did not create this ' +
      "account, someone may have used your address: take the account over with 'forgot password' " +
      '(POST /api/password/forgot) instead',
  );

/**
 * How the link's follower proved to be the registrant of `user` — a session of the account, or its password (checked
 * through the sign-in throttle as `POST /api/reauth` does: counted before it is evaluated, refused with 429
 * `ERR_LOGIN_LOCKED` while locked, a wrong one a failed sign-in, refused as at sign-in with 401
 * `ERR_INVALID_CREDENTIALS`); 400 `ERR_PASSWORD_REQUIRED` without either. An address verified before asks for
 * nothing: undefined.
 */
export async function proveRegistrant(
  deps: { store: Store; passwords: PasswordHasher; loginThrottle: LoginThrottleService },
  user: User,
  ip: string,
  proof: VerificationProof,
): Promise<RegistrantProof | undefined> {
  if (user.emailVerifiedAt !== null) return undefined;
  if (proof.signedInAs === user.id) return 'session';
  if (proof.password === undefined) throw passwordRequired();
  const caller = { userId: user.id, ip, deviceTokens: proof.deviceTokens };
  await confirmPassword(deps, caller, proof.password, proof.report(user.id), 'grant');
  return 'password';
}
