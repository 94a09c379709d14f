/**
 * An admin's changes to a user: status (disable, enable), roles, and ending every session. Each change and its
 * revocation-feed entry commit together (the user's token version moves in the same UPDATE), so old tokens stop
 * working everywhere; the last active admin can be neither demoted nor disabled (conflict `ERR_LAST_ADMIN`).
 */
import type { Store, User } from '../store/index.js';
import { DomainError } from './errors.js';
import type { RevocationService } from './revocation.js';
import type { SecurityEvents } from './security-events.js';

/** What the admin user changes use. */
export interface UserAdminDeps {
  store: Store;
  revocations: RevocationService;
  events: SecurityEvents;
}

/** Who asks, from where. */
export interface AdminActor {
  /** The admin's user id (`'cli'` for the `jot` CLI). */
  by: string;
  /** The request's address; null from the CLI. */
  ip: string | null;
}

/** The answer for a user who does not exist (or no longer does): 404 `ERR_NOT_FOUND`. */
export function noSuchUser(): DomainError {
  return new DomainError('not_found', 'ERR_NOT_FOUND', 'no such user');
}

function found(user: User | undefined): User {
  if (user === undefined) throw noSuchUser();
  return user;
}

/** The store's refusal to demote or disable the last active admin, as a conflict (thrown inside the transaction). */
function unlessLastAdmin(user: User | undefined | 'last_admin'): User | undefined {
  if (user === 'last_admin') {
    throw new DomainError(
      'conflict',
      'ERR_LAST_ADMIN',
      'this is the last active admin; make another account an admin first',
    );
  }
  return user;
}

/** Disables or enables a user; disabling ends every session of theirs. */
export async function setUserStatus(
  deps: UserAdminDeps,
  userId: string,
  status: 'disabled' | 'active',
  actor: AdminActor,
): Promise<User> {
  if (status === 'disabled' && userId === actor.by) {
    throw new DomainError('invalid', 'ERR_VALIDATION', 'you cannot disable your own account');
  }
  // The new status and its feed entry commit together; ending the sessions follows.
  const user = found(
    await deps.revocations.updateUser(async (tx) => unlessLastAdmin(await tx.setStatus(userId, status))),
  );
  if (status === 'disabled') await deps.revocations.revokeAllForUser(user.id, 'user_disabled');
  await deps.events.record(status === 'disabled' ? 'user_disabled' : 'user_enabled', {
    userId: user.id,
    ip: actor.ip,
    detail: { by: actor.by },
  });
  return user;
}

/** Replaces a user's roles; tokens carrying the old roles stop working. */
export async function setUserRoles(
  deps: UserAdminDeps,
  userId: string,
  roles: string[],
  actor: AdminActor,
): Promise<User> {
  const before = await deps.store.getUserById(userId);
  // The new roles and their feed entry commit together (or, for the last admin, nothing does).
  const user = found(
    await deps.revocations.updateUser(async (tx) => unlessLastAdmin(await tx.setRoles(userId, roles))),
  );
  await deps.events.record('roles_changed', {
    userId: user.id,
    ip: actor.ip,
    detail: { by: actor.by, roles: user.roles, before: before?.roles ?? [] },
  });
  if (user.roles.includes('admin') && !(before?.roles.includes('admin') ?? false)) {
    await deps.events.record('admin_created', {
      userId: user.id,
      ip: actor.ip,
      detail: { via: 'roles', by: actor.by },
    });
  }
  return user;
}

/**
 * Ends every session of a user and invalidates every token issued to them so far, as their own "sign out
 * everywhere" does (the same cut-off and feed entries); recorded as `logout_all` by the admin. Resolves to how many
 * sessions were live and ended. The cut-off itself finds the user, in its transaction: a user deleted meanwhile
 * (by another admin, or by themselves) is answered as an unknown one, with nothing written and nothing recorded.
 */
export async function endUserSessions(
  deps: UserAdminDeps,
  userId: string,
  actor: AdminActor,
): Promise<number> {
  const revoked = await deps.revocations.revokeAllForUser(userId, 'logout_all');
  if (revoked === undefined) throw noSuchUser();
  await deps.events.record('logout_all', {
    userId,
    ip: actor.ip,
    detail: { by: actor.by, revoked },
  });
  return revoked;
}
