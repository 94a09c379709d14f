/**
 * Deleting an account, the same way from the user's own request, an admin's, or the CLI: every session and token
 * ends (cut-off, per-session revocations, published to the feed), then the account row goes with its sessions,
 * refresh tokens and one-time tokens (cascade) together with a feed entry marking the account `disabled` for a whole
 * access-token lifetime (so no token of it, however late it was issued, is accepted), its queued mail and
 * invitations go, and the IP addresses recorded with its security events are cleared. One `account_deleted` event remains, carrying only the opaque user id.
 * Of two deletions of one account racing (the user's own and an admin's, say), one does all of it; the other is
 * refused as for an unknown user (`ERR_NOT_FOUND`).
 */
import type { Store, User } from '../store/index.js';
import type { RevocationService } from './revocation.js';
import type { SecurityEvents } from './security-events.js';
import { DomainError } from './errors.js';
import { noSuchUser } from './user-admin.js';

/** The refusal to delete, disable or demote the last active admin. */
export function lastAdmin(): DomainError {
  return new DomainError(
    'conflict',
    'ERR_LAST_ADMIN',
    'this is the last active admin; make another account an admin first',
  );
}

/** Who asked for the deletion. */
export type DeletedBy = { by: 'self' } | { by: 'admin'; adminId: string } | { by: 'cli' };

/** Deletes `user` and their personal data; see the file comment for what remains. */
export async function deleteAccount(
  deps: { store: Store; revocations: RevocationService; events: SecurityEvents },
  user: User,
  deletedBy: DeletedBy,
): Promise<void> {
  const { store, revocations, events } = deps;
  // The last active admin cannot go (neither can they be demoted or disabled): checked before anything ends, and
  // again, under lock, by the delete itself.
  if (await store.isLastActiveAdmin(user.id)) throw lastAdmin();
  // `user` was read before: another deletion (the user's own, another admin's) may have gone through since. The
  // cut-off and the delete each find the row themselves; when either finds none, that deletion did (or is doing)
  // everything below, so this one stops and answers as for an unknown user — one `account_deleted` event, not two.
  if ((await revocations.revokeAllForUser(user.id, 'account_deleted')) === undefined) throw noSuchUser();
  // The delete publishes, in its own transaction, a `disabled` entry for the account: a sign-in that completed since
  // the cut-off above has a session the cascade removes without a `sid` entry, and its token must be refused too.
  const deleted = await revocations.deleteUser(user.id);
  if (deleted === 'last_admin') throw lastAdmin();
  if (deleted === undefined) throw noSuchUser();
  await store.deleteMailOf(user);
  await store.deleteInvitationsFor(user.email);
  await store.scrubSecurityEvents(user.id);
  await events.record('account_deleted', {
    userId: user.id,
    detail: deletedBy.by === 'admin' ? { by: 'admin', admin: deletedBy.adminId } : { by: deletedBy.by },
  });
}
