/**
 * Self-registration (`POST /api/register`): allowed only with `JOT_REGISTRATION=open`; the account is made by the
 * one account service; in development and test the first account becomes the admin; with email verification on,
 * the new address gets its link.
 */
import type { Config } from '../config/index.js';
import type { Store, User } from '../store/index.js';
import type { AccountMail } from './account-mail.js';
import { checkEmail, emailTaken, type AccountService } from './accounts.js';
import { DomainError } from './errors.js';
import { sendNewAccountVerification } from './new-account-verification.js';
import { checkPasswordStrength } from './password-policy.js';
import type { RevocationService } from './revocation.js';
import type { SecurityEvents } from './security-events.js';
import { grantAdminRole } from './user-admin.js';

/** What registration uses. */
export interface RegistrationDeps {
  config: Pick<Config, 'registration' | 'nodeEnv' | 'adminEmail' | 'emailVerification'>;
  store: Store;
  accounts: AccountService;
  events: SecurityEvents;
  revocations: RevocationService;
  accountMail: AccountMail;
}

/** `admin_created`'s `via` (and the grant's `by`) for the first account registered. */
const FIRST_REGISTRANT = 'first_registrant';

/**
 * In development and test only (never in production), the first account becomes the admin unless JOT_ADMIN_EMAIL
 * names one. Whether it is the first is decided in the grant's own transaction (`Store.claimFirstAdmin`: queued
 * behind any other instance's claim, the claim a fixed key only one account ever holds), and the claim, the role
 * (`grantAdminRole`), `roles_changed` and `admin_created` (via `first_registrant`) and the revocation-feed entry
 * commit together: of simultaneous first registrations exactly one becomes admin, and an admin made this way is
 * always recorded. The account itself is created before (its own transaction); if the grant then fails, the
 * registration fails with it and the account stays a plain one (`jot admin create` makes an admin).
 */
async function grantIfFirst(deps: RegistrationDeps, user: User, ip: string): Promise<User> {
  const { user: after, granted } = await grantAdminRole(
    deps,
    user.id,
    { by: FIRST_REGISTRANT, ip },
    { via: FIRST_REGISTRANT, onlyIf: (tx) => tx.claimFirstAdmin(user.id) },
  );
  return granted ? after : user;
}

/** Refuses registration unless it is open. */
function assertRegistrationOpen(registration: Config['registration']): void {
  if (registration === 'invite') {
    throw new DomainError(
      'forbidden',
      'ERR_REGISTRATION_INVITE_ONLY',
      'accounts on this server are created from invitations only; ask an administrator for one',
    );
  }
  if (registration !== 'open') {
    throw new DomainError(
      'forbidden',
      'ERR_REGISTRATION_CLOSED',
      'registration is closed on this server; ask an administrator for an account',
    );
  }
}

/**
 * Throws what `registerAccount` would refuse `input` with, before anything is written or sent: registration closed,
 * an address no account can have, a password the policy refuses, an address already taken. The route asks first so
 * that only a registration that will mail spends the recipient's mail budget: a refused one mails nothing.
 */
export async function checkRegistration(
  deps: Pick<RegistrationDeps, 'config' | 'store'>,
  input: { email: string; password: string },
): Promise<void> {
  assertRegistrationOpen(deps.config.registration);
  checkEmail(input.email);
  checkPasswordStrength(input.password, input.email);
  if ((await deps.store.getUserByEmail(input.email)) !== undefined) throw emailTaken();
}

/** Registers an account: the new user (an admin when it is the first one outside production). */
export async function registerAccount(
  deps: RegistrationDeps,
  input: { email: string; password: string; name?: string; ip: string },
): Promise<User> {
  const { config } = deps;
  assertRegistrationOpen(config.registration);
  let user = await deps.accounts.create({ ...input, via: 'register' });
  if (config.nodeEnv !== 'production' && config.adminEmail === undefined) {
    user = await grantIfFirst(deps, user, input.ip);
  }
  await sendNewAccountVerification(deps, user, { selfRegistered: true });
  return user;
}
