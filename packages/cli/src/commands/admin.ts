/**
 * `jot admin create`: creates an admin account directly in the configured database, or gives an existing account
 * the admin role (its password is then left alone). Like the bootstrap admin of `JOT_ADMIN_EMAIL`, its address is
 * verified from the start: the operator named it, and a `JOT_EMAIL_VERIFICATION=required` server must let it sign
 * in. The password comes from an environment variable or a no-echo prompt, never from the command line, where it
 * would land in shell history and `ps`.
 */
import type { Command } from 'commander';

import type { UserView } from '@jot/contract';
import type { Config, User } from '@jot/server';

import { writeJson, writeLine, type CliIo } from '../io.js';
import { emailOption, openAccounts } from '../lib/accounts.js';
import { configuredExamples } from '../lib/admin-ops.js';
import { readNewPassword } from '../lib/password-input.js';
import { jotServer } from '../lib/server.js';

interface CreateOptions {
  email: string;
  passwordEnv?: string;
  json?: boolean;
}

async function createAdmin(io: CliIo, options: CreateOptions): Promise<void> {
  const email = (await emailOption(options.email)).toLowerCase();
  const config = (await jotServer()).loadConfig({ env: io.env, cwd: io.cwd });
  const accounts = await openAccounts(config);
  let result: Pick<UserView, 'id' | 'email'> & { action: 'created' | 'promoted' | 'unchanged' };
  let promote: User | undefined;
  try {
    const existing = await accounts.store.getUserByEmail(email);
    if (existing === undefined) {
      const password = await readNewPassword(io, options.passwordEnv, email);
      const user = await accounts.create({
        email,
        password,
        name: 'Administrator',
        roles: ['admin'],
        via: 'cli',
        emailVerifiedAt: Date.now(),
      });
      result = { id: user.id, email: user.email, action: 'created' };
    } else if (existing.roles.includes('admin')) {
      result = { id: existing.id, email: existing.email, action: 'unchanged' };
    } else {
      promote = existing;
      result = { id: existing.id, email: existing.email, action: 'promoted' };
    }
  } finally {
    await accounts.close();
  }
  if (promote !== undefined && !(await promoteExisting(config, promote))) result.action = 'unchanged';
  if (options.json === true) {
    writeJson(io.stdout, result);
    return;
  }
  const messages = {
    created: `created admin ${result.email} (id ${result.id})`,
    promoted: `${result.email} (id ${result.id}) is now an admin; the password was not changed`,
    unchanged: `${result.email} (id ${result.id}) is already an admin; nothing changed`,
  };
  writeLine(io.stdout, messages[result.action]);
}

/**
 * Verifies the address of an existing account and gives it the admin role, in one admin-operations session: it is
 * opened (and Redis, when JOT_REDIS_URL is set, found answering — else `ERR_UNAVAILABLE`) before anything is
 * written, so an unreachable Redis leaves the account as it was. The grant is `grantAdminRole`, the bootstrap
 * admin's path too: roles travel in access tokens, so the new roles, the verified address and their
 * revocation-feed entry commit together (and reach Redis), recorded as `roles_changed` and `admin_created` by the
 * CLI; a failure leaves the account as it was, and running the command again completes it. The roles are read in
 * that change's transaction, the row held, so a role another admin gave meanwhile is kept. False when the account
 * was an admin by then (nothing changed).
 */
async function promoteExisting(config: Config, user: User): Promise<boolean> {
  const ops = await (await jotServer()).openAdminOps(config);
  try {
    return (await ops.grantAdmin(user)).granted;
  } finally {
    await ops.close();
  }
}

/** Registers `jot admin` and its subcommands. */
export function registerAdmin(program: Command, io: CliIo): void {
  const admin = program.command('admin').description('manage accounts directly in the configured database');
  admin
    .command('create')
    .description('create an admin account, or give an existing account the admin role')
    .requiredOption('--email <email>', "the account's email")
    .option('--password-env <VAR>', 'read the password from this environment variable (default: prompt)')
    .option('--json', 'print {"id", "email", "action": "created" | "promoted" | "unchanged"}')
    .addHelpText(
      'after',
      configuredExamples(
        'jot admin create --email admin@example.com                 # prompts for the password',
        'ADMIN_PASSWORD=… jot admin create --email admin@example.com --password-env ADMIN_PASSWORD',
      ),
    )
    .action((options: CreateOptions) => createAdmin(io, options));
}
