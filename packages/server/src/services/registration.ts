/**
 * Self-registration (`POST /api/register`): allowed only with `JOT_REGISTRATION=open`; the account is made by the
 * one account service; in development and test the first account becomes the admin; with email verification on,
 * the new address gets its link.
 */
import type { Config } from '../config/index.js';
import { StoreError, type Store, type User } from '../store/index.js';
import type { AccountMail } from './account-mail.js';
import type { AccountService } from './accounts.js';
import { DomainError } from './errors.js';
import { sendNewAccountVerification } from './new-account-verification.js';
import type { SecurityEvents } from './security-events.js';

/** What registration uses. */
export interface RegistrationDeps {
  config: Pick<Config, 'registration' | 'nodeEnv' | 'adminEmail' | 'emailVerification'>;
  store: Store;
  accounts: AccountService;
  events: SecurityEvents;
  accountMail: AccountMail;
}

/**
 * In development and test only (never in production), the first account becomes the admin unless JOT_ADMIN_EMAIL
 * names one. Being the oldest account is not enough when two register at once (commit order can differ from
 * timestamps), so the role is also claimed through a fixed primary key that only one insert can win.
 */
async function claimFirstAdmin(user: User, store: Store): Promise<boolean> {
  const [first] = await store.listUsers({ limit: 1 });
  if (first?.id !== user.id) return false;
  try {
    await store.insertOneTimeToken({
      tokenHash: 'bootstrap-admin',
      purpose: 'bootstrap_admin',
      userId: user.id,
      expiresAt: Number.MAX_SAFE_INTEGER,
    });
    return true;
  } catch (err) {
    if (err instanceof StoreError && err.code === 'ERR_STORE_CONFLICT') return false;
    throw err;
  }
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

/** Registers an account: the new user (an admin when it is the first one outside production). */
export async function registerAccount(
  deps: RegistrationDeps,
  input: { email: string; password: string; name?: string; ip: string },
): Promise<User> {
  const { config, store, events } = deps;
  assertRegistrationOpen(config.registration);
  let user = await deps.accounts.create({ ...input, via: 'register' });
  if (
    config.nodeEnv !== 'production' &&
    config.adminEmail === undefined &&
    (await claimFirstAdmin(user, store))
  ) {
    const promoted = await store.setRoles(user.id, ['admin']);
    if (typeof promoted === 'object') user = promoted;
    await events.record('admin_created', {
      userId: user.id,
      ip: input.ip,
      detail: { via: 'first_registrant' },
    });
  }
  await sendNewAccountVerification(deps, user);
  return user;
}
