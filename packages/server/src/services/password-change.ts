/**
 * The signed-in user's password: confirming it (a step-up, or before a change) and changing it. Both refuse a wrong
 * password with forbidden `ERR_INVALID_CREDENTIALS` (never a token error: the access token itself is fine); the
 * confirmation also serves a route where the password is the only credential (the link a first email verification or
 * an email-change confirmation follows, registrant-proof.ts), which refuses it as a sign-in does (401, `grant`). Both
 * go through the account's sign-in throttle (login-throttle.ts) as a sign-in does: the check is counted before the
 * password is evaluated and refused with 429 `ERR_LOGIN_LOCKED` while the account's sign-in is locked (or, with a
 * live device credential of the account, that credential's), so a stolen session guesses no faster than sign-in.
 * What the throttle did — a check it refused, a wrong password and the locks its failure set — goes to the caller's
 * {@link PasswordCheckReport}, which the routes record as a sign-in's events are (http/lock-refusal-events.ts).
 */
import type { Store, User } from '../store/index.js';
import { DomainError } from './errors.js';
import { LoginLockedError, type LoginLocks, type LoginThrottleService } from './login-throttle.js';
import { checkPasswordStrength } from './password-policy.js';
import type { PasswordHasher } from './passwords.js';
import type { RevocationService } from './revocation.js';
import type { SecurityEvents } from './security-events.js';

/** What the password steps use. */
export interface PasswordChangeDeps {
  store: Store;
  passwords: PasswordHasher;
  revocations: RevocationService;
  events: SecurityEvents;
  loginThrottle: LoginThrottleService;
}

/** Who asks: the signed-in user, the request's address and the device credentials it presented. */
export interface PasswordCaller {
  userId: string;
  ip: string;
  /** The device credentials the request presented (http/device-credential.ts `deviceTokens`). */
  deviceTokens?: readonly string[];
}

/** Where a password check reports the throttle's refusals (the route records them as security events). */
export interface PasswordCheckReport {
  /** The lock refused the check: the password was not evaluated. */
  refused(err: LoginLockedError): Promise<void>;
  /** The password was wrong (counted as a sign-in failure); `locks`: the locks that failure set. */
  failed(locks: LoginLocks): Promise<void>;
}

/**
 * How a wrong password is refused: `forbidden` (403) where the caller is signed in (the access token is fine, only
 * the password is not), `grant` (401, `invalid_grant`) where the password is the credential, as at sign-in.
 */
export type WrongPasswordKind = 'forbidden' | 'grant';

const wrongPassword = (kind: WrongPasswordKind): DomainError =>
  new DomainError(kind, 'ERR_INVALID_CREDENTIALS', 'the password is incorrect');

/**
 * The user, if `password` is theirs. The check is reserved on the account's sign-in throttle first (429
 * `ERR_LOGIN_LOCKED` while locked, the password not evaluated: reported `refused`); a wrong password stays counted
 * (reported `failed`, with the locks it set), a right one forgets the count as a sign-in does. A wrong password is
 * refused as `wrong` says (default `forbidden`).
 */
export async function confirmPassword(
  deps: Pick<PasswordChangeDeps, 'store' | 'passwords' | 'loginThrottle'>,
  caller: PasswordCaller,
  password: string,
  report: PasswordCheckReport,
  wrong: WrongPasswordKind = 'forbidden',
): Promise<User> {
  const current = await deps.store.getUserById(caller.userId);
  if (current === undefined) throw wrongPassword(wrong);
  const attempt = await deps.loginThrottle
    .begin(current.email, caller.deviceTokens ?? [])
    .catch(async (err: unknown) => {
      if (err instanceof LoginLockedError) await report.refused(err);
      throw err;
    });
  // Read again with the lock; an address changed meanwhile (to another account's) is no password of this user.
  const user = attempt.user?.id === caller.userId ? attempt.user : undefined;
  if (user === undefined || !(await deps.passwords.verify(user.passwordHash, password))) {
    await report.failed(await attempt.finish(false));
    throw wrongPassword(wrong);
  }
  await attempt.finish(true);
  return user;
}

/**
 * Changes the caller's password (the current one checked as {@link confirmPassword} does, reporting to `report`)
 * and ends every other session of theirs (including those a sign-in is still creating: credential generation). The
 * caller's own session is left for the route to reissue.
 */
export async function changePassword(
  deps: PasswordChangeDeps,
  caller: PasswordCaller & { sessionId: string },
  current: string,
  next: string,
  report: PasswordCheckReport,
): Promise<void> {
  const { store, passwords } = deps;
  let user = await confirmPassword(deps, caller, current, report);
  checkPasswordStrength(next, user.email);
  const newHash = await passwords.hash(next);
  // Compare-and-swap on the hash that was just checked. A sign-in's rehash (same password, new parameters) may
  // have replaced it meanwhile: then the current password is checked again against what is stored now; a real
  // change by someone else fails that check (conflict). The new hash commits with the cut-off of every other session
  // or not at all: a failure (503) leaves the old password in place for a retry, never a new one with the others
  // still signed in.
  for (let attempt = 0; ; attempt++) {
    const expected = user.passwordHash;
    const changed = await deps.revocations.changeAndRevokeAll(
      caller.userId,
      'password_changed',
      (tx) => tx.updatePasswordHash(caller.userId, newHash, { expect: expected }),
      { exceptSession: caller.sessionId },
    );
    if (changed !== undefined) break;
    const now = await store.getUserById(user.id);
    if (attempt >= 3 || now === undefined || !(await passwords.verify(now.passwordHash, current))) {
      throw new DomainError(
        'conflict',
        'ERR_PASSWORD_CHANGED_MEANWHILE',
        'the password was changed meanwhile; sign in again',
      );
    }
    user = now;
  }
  await deps.events.record('password_changed', {
    userId: user.id,
    sessionId: caller.sessionId,
    ip: caller.ip,
  });
}
