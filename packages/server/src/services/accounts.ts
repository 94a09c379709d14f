/**
 * Creating accounts, the one way every path does it (self-registration, an admin through the API, `jot users add`,
 * the bootstrap admin): the email is normalised and checked for look-alike characters, the password must pass the
 * policy, the hash is argon2id, a taken address is 409 `ERR_EMAIL_TAKEN`, and the creation is a security event.
 */
import { emailKey, InvalidEmailError } from '../store/email.js';
import { StoreError, type Store, type User } from '../store/index.js';
import { checkPasswordStrength } from './password-policy.js';
import type { PasswordHasher } from './passwords.js';
import type { SecurityEvents } from './security-events.js';
import { DomainError } from './errors.js';

/** How an account came to be (stored as `users.created_via`). */
export type AccountOrigin = 'register' | 'admin' | 'cli' | 'bootstrap' | (string & {});

/** Input of {@link AccountService.create}. */
export interface NewAccount {
  email: string;
  password: string;
  name?: string | null;
  roles?: readonly string[];
  via: AccountOrigin;
  /** The admin's user id when an admin created it. */
  by?: string;
  ip?: string | null;
  /** Set when the address is already proven (the operator's own, an accepted invitation). */
  emailVerifiedAt?: number | null;
}

/** Creates accounts. */
export interface AccountService {
  /** @throws {DomainError} `ERR_EMAIL_INVALID` / `ERR_WEAK_PASSWORD` (invalid), `ERR_EMAIL_TAKEN` (conflict). */
  create(input: NewAccount): Promise<User>;
}

/** Maps an address refused by the store to 400 `ERR_EMAIL_INVALID`. */
export function emailError(err: unknown): unknown {
  return err instanceof InvalidEmailError
    ? new DomainError('invalid', 'ERR_EMAIL_INVALID', err.message)
    : err;
}

/**
 * Refuses (400 `ERR_EMAIL_INVALID`) an address no account can have, by the rule the store keys accounts with
 * (store/email.ts): every path that takes an address checks it with this before anything else, so a malformed one
 * (`victim@example.org#x`) is refused alike on sign-in, "send me a link", registration, invitations and the CLI,
 * never looked up as the valid address it resembles.
 */
export function checkEmail(email: string): void {
  try {
    emailKey(email);
  } catch (err) {
    throw emailError(err);
  }
}

/** The refusal of an address another account has. */
export function emailTaken(): DomainError {
  return new DomainError('conflict', 'ERR_EMAIL_TAKEN', 'an account with this email already exists');
}

/** Builds the account service. */
export function createAccountService(deps: {
  store: Store;
  passwords: PasswordHasher;
  events: SecurityEvents;
}): AccountService {
  const { store, passwords, events } = deps;
  return {
    async create(input) {
      checkEmail(input.email);
      checkPasswordStrength(input.password, input.email);
      let user: User;
      try {
        user = await store.createUser({
          email: input.email,
          passwordHash: await passwords.hash(input.password),
          name: input.name ?? null,
          roles: input.roles ?? [],
          createdVia: input.via,
          emailVerifiedAt: input.emailVerifiedAt ?? null,
        });
      } catch (err) {
        if (err instanceof StoreError && err.code === 'ERR_STORE_CONFLICT') {
          throw emailTaken();
        }
        throw emailError(err);
      }
      const detail = { via: input.via, ...(input.by === undefined ? {} : { by: input.by }) };
      await events.record(input.via === 'register' ? 'registered' : 'user_created', {
        userId: user.id,
        ip: input.ip,
        detail,
      });
      if (user.roles.includes('admin')) {
        await events.record('admin_created', { userId: user.id, ip: input.ip, detail });
      }
      return user;
    },
  };
}
