/**
 * Inviting an address with the roles its account will have: the one path `POST /api/admin/invitations` and
 * `jot users invite` share. An address that already has an account is refused (`ERR_EMAIL_TAKEN`, a conflict), one
 * the store refuses (invisible characters, no valid domain) is the admin's to fix (`ERR_EMAIL_INVALID`); the link
 * goes out through the mail outbox (so it survives a restart) and the invitation is recorded as a security event.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import { StoreError, type Invitation, type Store } from '../store/index.js';
import type { AccountMail } from './account-mail.js';
import { checkEmail, emailError } from './accounts.js';
import { DomainError } from './errors.js';
import type { SecurityEvents } from './security-events.js';

/** What inviting uses. */
export interface InvitationDeps {
  store: Store;
  clock: Clock;
  config: Pick<Config, 'oneTimeTokenTtlMs'>;
  accountMail: AccountMail;
  events: SecurityEvents;
}

/** Who invites: the admin's user id and address from the API; null and `{ by: 'cli' }` from the CLI. */
export interface Inviter {
  userId: string | null;
  ip: string | null;
  detail?: Record<string, unknown>;
}

const emailTaken = (): DomainError =>
  new DomainError('conflict', 'ERR_EMAIL_TAKEN', 'an account with this email already exists');

/** Stores the invitation, queues its mail and records `invitation_created`. */
export async function inviteAddress(
  deps: InvitationDeps,
  invite: { email: string; roles: readonly string[] },
  inviter: Inviter,
): Promise<Invitation> {
  const { store, clock, config, accountMail, events } = deps;
  checkEmail(invite.email);
  let invitation: Invitation;
  try {
    if ((await store.getUserByEmail(invite.email)) !== undefined) {
      throw emailTaken();
    }
    invitation = await store.createInvitation({
      email: invite.email,
      roles: invite.roles,
      invitedBy: inviter.userId,
      expiresAt: clock() + config.oneTimeTokenTtlMs.invitation,
    });
  } catch (err) {
    // An invitation to the address was accepted meanwhile (on any instance): it has its account now.
    if (err instanceof StoreError && err.code === 'ERR_STORE_CONFLICT') throw emailTaken();
    throw emailError(err);
  }
  await accountMail.sendInvitation(invitation);
  await events.record('invitation_created', {
    userId: inviter.userId,
    ip: inviter.ip,
    detail: { ...inviter.detail, invitation: invitation.id, roles: invitation.roles },
  });
  return invitation;
}
