/**
 * An admin's changes to a user: status (disable, enable), roles, and ending every session. Each change and its
 * revocation-feed entry commit together (the user's token version moves in the same UPDATE), so old tokens stop
 * working everywhere; the last active admin can be neither demoted nor disabled (conflict `ERR_LAST_ADMIN`).
 */
import type { Store, User } from '../store/index.js';
import { DomainError } from './errors.js';
import { voidUserOneTimeTokens } from './one-time-tokens.js';
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
function unlessLastAdmin<T extends object>(user: T | undefined | 'last_admin'): T | undefined {
  if (user === 'last_admin') {
    throw new DomainError(
      'conflict',
      'ERR_LAST_ADMIN',
      'this is the last active admin; make another account an admin first',
    );
  }
  return user;
}

/**
 * Disables or enables a user; disabling ends every session of theirs. The event commits with the change: a deletion
 * of the account either came first (404, nothing recorded) or comes after and scrubs it with the account's others.
 */
export async function setUserStatus(
  deps: UserAdminDeps,
  userId: string,
  status: 'disabled' | 'active',
  actor: AdminActor,
): Promise<User> {
  if (status === 'disabled' && userId === actor.by) {
    throw new DomainError('invalid', 'ERR_VALIDATION', 'you cannot disable your own account');
  }
  // The new status, its event and its feed entry commit together; ending the sessions follows.
  const user = found(
    await deps.revocations.updateUser(async (tx) => {
      const changed = unlessLastAdmin(await tx.setStatus(userId, status));
      if (changed === undefined) return undefined;
      await deps.events.recordAboutUser(
        status === 'disabled' ? 'user_disabled' : 'user_enabled',
        { userId: changed.id, ip: actor.ip, detail: { by: actor.by } },
        tx,
      );
      return changed;
    }),
  );
  if (status === 'disabled') await deps.revocations.revokeAllForUser(user.id, 'user_disabled');
  return user;
}

/**
 * Replaces a user's roles; tokens carrying the old roles stop working. The roles before are read in the change's
 * transaction, the user's row held (`Store.changeRoles`), and the events commit with it: of two changes racing, the
 * second's `before` is the first's result, and their events are in the order the changes took effect. `roles` may
 * be a function of the roles so read (e.g. adding one): a role another admin gave meanwhile is then kept.
 */
export async function setUserRoles(
  deps: UserAdminDeps,
  userId: string,
  roles: string[] | ((current: readonly string[]) => readonly string[]),
  actor: AdminActor,
): Promise<User> {
  // The new roles, their events and their feed entry commit together (or, for the last admin, nothing does).
  const user = found(
    await deps.revocations.updateUser(async (tx) => {
      const changed = unlessLastAdmin(await tx.changeRoles(userId, roles));
      if (changed === undefined) return undefined;
      await recordRoleChange(deps.events, tx, changed.before, changed.after, actor, 'roles');
      return changed.after;
    }),
  );
  return user;
}

/** `roles_changed` (by whom, before and after) and, when admin was granted, `admin_created` (`via`), in `tx`. */
async function recordRoleChange(
  events: SecurityEvents,
  tx: Store,
  before: User,
  after: User,
  actor: AdminActor,
  via: string,
): Promise<void> {
  const facts = { userId: after.id, ip: actor.ip };
  await events.recordAboutUser(
    'roles_changed',
    { ...facts, detail: { by: actor.by, roles: after.roles, before: before.roles } },
    tx,
  );
  if (after.roles.includes('admin') && !before.roles.includes('admin')) {
    await events.recordAboutUser('admin_created', { ...facts, detail: { via, by: actor.by } }, tx);
  }
}

/** How an account becomes an admin: named by an operator, or the first one registered. */
export interface AdminGrant {
  /**
   * `admin_created`'s `via`: `'bootstrap'` (JOT_ADMIN_EMAIL), `'roles'` (`jot admin create`, as set-roles),
   * `'first_registrant'` (the first account registered outside production).
   */
  via: string;
  /** The address the operator named: marked verified with the grant, while it is still the account's. */
  verifyEmail?: string;
  /**
   * Whether to grant at all, decided first in the grant's transaction (e.g. `Store.claimFirstAdmin`): false leaves
   * everything as it was (`granted: false`); what it writes commits or rolls back with the grant.
   */
  onlyIf?: (tx: Store) => Promise<boolean>;
  /**
   * Checks the account as the grant's transaction read it, its row held to the commit (e.g. that a password still
   * matches: a change committed after an earlier read is seen here). Throwing rolls the grant back and rejects with
   * that error. Not called for an account that is an admin already.
   */
  confirm?: (account: User) => Promise<void>;
}

/**
 * Gives a user the admin role, keeping their other roles — the one path of `jot admin create`, the bootstrap admin
 * of `JOT_ADMIN_EMAIL` for an account that exists, and the first account registered outside production. The roles
 * are read in the change's own transaction, the user's row held (`Store.changeRoles`), and admin is added to them:
 * a role another writer gave meanwhile is kept. A user who is an admin by then is left as is (`granted: false`:
 * nothing written, recorded or published), so of several instances granting at once one does it; so is one that
 * `grant.onlyIf` declines or `grant.confirm` refuses (its error is thrown). The new roles, the address marked
 * verified (`verifyEmail`), `roles_changed` and `admin_created` (by `actor`, via `grant.via`), what `onlyIf` wrote
 * and the revocation-feed entry commit together: any failure leaves the account as it was, and trying again
 * completes it. `ERR_NOT_FOUND` for no such user.
 */
export async function grantAdminRole(
  deps: UserAdminDeps,
  userId: string,
  actor: AdminActor,
  grant: AdminGrant,
): Promise<{ user: User; granted: boolean }> {
  let already: User | undefined;
  const user = await deps.revocations.updateUser(async (tx) => {
    if (grant.onlyIf !== undefined && !(await grant.onlyIf(tx))) {
      already = await tx.getUserById(userId);
      return undefined;
    }
    const change = unlessLastAdmin(
      await tx.changeRoles(userId, (current) =>
        current.includes('admin') ? undefined : [...current, 'admin'],
      ),
    );
    if (change === undefined) return undefined;
    if (!change.changed) {
      already = change.before;
      return undefined;
    }
    await grant.confirm?.(change.before);
    let after = change.after;
    if (grant.verifyEmail !== undefined && after.emailVerifiedAt === null) {
      const verified = await tx.markEmailVerified(userId, grant.verifyEmail);
      // The admin vouched for the address: the verification links mailed to it have nothing left to prove.
      if (verified !== undefined) await voidUserOneTimeTokens(tx, userId, ['email_verification']);
      after = verified ?? after;
    }
    await recordRoleChange(deps.events, tx, change.before, after, actor, grant.via);
    return after;
  });
  if (user !== undefined) return { user, granted: true };
  return { user: found(already), granted: false };
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
  // Recorded only while the account exists: a deletion right after the cut-off leaves no event behind it.
  await deps.events.recordAboutUser('logout_all', {
    userId,
    ip: actor.ip,
    detail: { by: actor.by, revoked },
  });
  return revoked;
}
