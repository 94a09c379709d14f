/**
 * The first verification link of a new account, whoever made it (self-registration, an admin through the API,
 * `jot users add`): with `JOT_EMAIL_VERIFICATION` on, an address not yet proven gets its link through the outbox —
 * otherwise a `required` server would refuse the account's sign-in with no link ever sent.
 */
import type { Config } from '../config/index.js';
import type { User } from '../store/index.js';
import type { AccountMail } from './account-mail.js';

/**
 * Queues the verification link when verification is on and the address is unverified; true when one was queued.
 * A self-registered account (`selfRegistered`) gets `verify-new-account`: whoever registered may not own the
 * address, and its owner is told how to take the account over (a password reset).
 */
export async function sendNewAccountVerification(
  deps: { config: Pick<Config, 'emailVerification'>; accountMail: Pick<AccountMail, 'sendVerification'> },
  user: User,
  options: { selfRegistered?: boolean } = {},
): Promise<boolean> {
  if (deps.config.emailVerification === 'off' || user.emailVerifiedAt !== null) return false;
  await deps.accountMail.sendVerification(
    user,
    options.selfRegistered ? 'verify-new-account' : 'verify-email',
  );
  return true;
}
