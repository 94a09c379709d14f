/**
 * Who may follow a link that gives an account an address it trusts. Anyone may register any address, and anyone
 * signed in may ask to move their account to any address, so following such a link must come from whoever holds the
 * account, not merely from whoever reads the mailbox: the address's owner clicking the link would otherwise make a
 * stranger's account — the stranger's password and sessions and all — one with the owner's address, verified
 * (pre-account hijacking), which other applications trusting `email_verified` believe. Two links are guarded so:
 *
 * - the first verification of a never-verified address (`POST /api/email/verify`): the owner who did not register
 *   takes the account over with a password reset instead, which removes what the registrant set up
 *   (account-links.ts `resetPasswordWithLink`);
 * - every email-change confirmation (`POST /api/email/change/confirm`), whatever the account's verification state:
 *   the one who asked for the change proves it was them; the owner of the new address who did not ask ignores it.
 *
 * The proof is a session of the account or its password. The link itself is checked first (valid, unused, its
 * account active): a dead link is no way to try passwords.
 */
import type { Store, User } from '../store/index.js';
import { DomainError } from './errors.js';
import type { LoginThrottleService } from './login-throttle.js';
import { confirmPassword, type PasswordCheckReport } from './password-change.js';
import type { PasswordHasher } from './passwords.js';

/** What the request following a link shows of who follows it. */
export interface LinkFollowerProof {
  /**
   * The account a valid session of the request names (none: undefined). Asked only when it matters, once the link
   * passed its checks: judging a session reads the revocations and spends a DPoP proof.
   */
  signedInAs: () => Promise<string | undefined>;
  /** The password sent with the link, if any. */
  password: string | undefined;
  /** The device credentials the request presented (the sign-in throttle judges a live one by its own count). */
  deviceTokens: readonly string[];
  /** Where the check of `password` against the account `userId` reports (the route records it as a sign-in's). */
  report(userId: string): PasswordCheckReport;
}

/** How following a link was proven to come from the account's holder (`detail.proof` of its event). */
export type RegistrantProof = 'password' | 'session';

/** The link being followed: it decides what a missing password's refusal advises. */
export type ProvenLink = 'email_verification' | 'email_change';

/**
 * 400 `ERR_PASSWORD_REQUIRED`: the link is fine (and not spent) but the account's password is missing. It says what
 * to do either way: the account's holder enters the password (or signs in first); the mailbox's owner who did not
 * register takes the account over, and one who did not ask for an address change ignores the link.
 */
const passwordRequired = (link: ProvenLink): DomainError =>
  new DomainError(
    'invalid',
    'ERR_PASSWORD_REQUIRED',
    link === 'email_verification'
      ? "to confirm this address, enter this account's password (or sign in to it first); if you did not create " +
          "this account, someone may have used your address: take the account over with 'forgot password' " +
          '(POST /api/password/forgot) instead'
      : "to move this account to the new address, enter the account's password (or sign in to it first); if you " +
          'did not ask for this change, ignore the link: your address is not added to any account',
  );

/**
 * How the link's follower proved to hold the account `user` — a session of the account, or its password (checked
 * through the sign-in throttle as `POST /api/reauth` does: counted before it is evaluated, refused with 429
 * `ERR_LOGIN_LOCKED` while locked, a wrong one a failed sign-in, refused as at sign-in with 401
 * `ERR_INVALID_CREDENTIALS`); 400 `ERR_PASSWORD_REQUIRED` without either. Call it once the link is known to be
 * live and its account active.
 */
export async function proveRegistrant(
  deps: { store: Store; passwords: PasswordHasher; loginThrottle: LoginThrottleService },
  user: User,
  ip: string,
  proof: LinkFollowerProof,
  link: ProvenLink,
): Promise<RegistrantProof> {
  if ((await proof.signedInAs()) === user.id) return 'session';
  if (proof.password === undefined) throw passwordRequired(link);
  const caller = { userId: user.id, ip, deviceTokens: proof.deviceTokens };
  await confirmPassword(deps, caller, proof.password, proof.report(user.id), 'grant');
  return 'password';
}
