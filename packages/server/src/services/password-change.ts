/**
 * The signed-in user's password: confirming it (a step-up, or before a change) and changing it. Both refuse a wrong
 * password with forbidden `ERR_INVALID_CREDENTIALS` (never a token error: the access token itself is fine).
 */
import type { Store, User } from '../store/index.js';
import { DomainError } from './errors.js';
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
}

/** The user, if `password` is theirs. */
export async function confirmPassword(
  deps: Pick<PasswordChangeDeps, 'store' | 'passwords'>,
  userId: string,
  password: string,
): Promise<User> {
  const user = await deps.store.getUserById(userId);
  if (user === undefined || !(await deps.passwords.verify(user.passwordHash, password))) {
    throw new DomainError('forbidden', 'ERR_INVALID_CREDENTIALS', 'the password is incorrect');
  }
  return user;
}

/**
 * Changes the caller's password and ends every other session of theirs (including those a sign-in is still
 * creating: credential generation). The caller's own session is left for the route to reissue.
 */
export async function changePassword(
  deps: PasswordChangeDeps,
  caller: { userId: string; sessionId: string; ip: string },
  current: string,
  next: string,
): Promise<void> {
  const { store, passwords } = deps;
  let user = await confirmPassword(deps, caller.userId, current);
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
