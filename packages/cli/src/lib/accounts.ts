/**
 * The server's own account services for `jot admin` and `jot users`: the configured store (SQLite or Postgres,
 * migrated on open), the argon2id hasher with the configured cost, and the server's account service, so the CLI
 * normalises emails, applies the password policy, hashes and records security events exactly as the server does.
 * Nothing else of the server starts: no keys are created, no Redis is needed.
 */
import type { Config, NewAccount, SecurityEvents, Store, User } from '@jot/server';

import { CliError } from '../errors.js';
import { jotServer } from './server.js';

/**
 * The `--email` of `jot admin create` and `jot users add`, trimmed; an address no account can have (the server's own
 * rule: one `@`, a valid domain name, no invisible characters) is a usage error, before any password is asked for or
 * any account looked up — `admin@example.com/x` must never find admin@example.com.
 */
export async function emailOption(email: string): Promise<string> {
  const { checkEmail, DomainError } = await jotServer();
  const trimmed = email.trim();
  try {
    checkEmail(trimmed);
  } catch (err) {
    if (err instanceof DomainError)
      throw new CliError('ERR_CLI_USAGE', `--email must be an email address: ${err.message}`);
    throw err;
  }
  return trimmed;
}

/** What `jot admin` and `jot users` need, and how to let go of it. */
export interface Accounts {
  readonly store: Store;
  readonly events: SecurityEvents;
  hashPassword(password: string): Promise<string>;
  /** Creates an account through the server's account service; its refusals become CLI errors. */
  create(input: NewAccount): Promise<User>;
  close(): Promise<void>;
}

/** The CLI code for a refusal of the account service. */
function cliCode(code: string): 'ERR_CLI_PASSWORD_REJECTED' | 'ERR_CLI_ACCOUNT_EXISTS' | 'ERR_CLI_USAGE' {
  if (code === 'ERR_EMAIL_TAKEN') return 'ERR_CLI_ACCOUNT_EXISTS';
  if (code === 'ERR_EMAIL_INVALID') return 'ERR_CLI_USAGE';
  return 'ERR_CLI_PASSWORD_REJECTED';
}

/** Opens the configured store and hasher. Call `close()` when done. */
export async function openAccounts(config: Config): Promise<Accounts> {
  const { createAccountService, createPasswordHasher, createSecurityEvents, DomainError, openStore } =
    await jotServer();
  const store = await openStore({ url: config.databaseUrl, dataDir: config.dataDir });
  const passwords = await createPasswordHasher({
    memoryKiB: config.argon2MemoryKib,
    timeCost: config.argon2TimeCost,
    parallelism: config.argon2Parallelism,
  });
  // Events are stored for admins to see; the CLI does not print them.
  const events = createSecurityEvents(store, { warn: () => undefined, info: () => undefined });
  const service = createAccountService({ store, passwords, events });
  return {
    store,
    events,
    hashPassword: (password) => passwords.hash(password),
    async create(input) {
      try {
        return await service.create(input);
      } catch (err) {
        if (err instanceof DomainError) throw new CliError(cliCode(err.code), err.message);
        throw err;
      }
    },
    close: () => store.close(),
  };
}
