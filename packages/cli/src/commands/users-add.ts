/**
 * `jot users add` creates an account with the server's own rules (normalised email, password policy, argon2id) and
 * records a `user_created` security event (plus `admin_created` with `--role admin`). It works whatever
 * `JOT_REGISTRATION` says. The password comes from an environment variable or a no-echo prompt. With email
 * verification on, the address gets its verification link (as from the admin API), unless `--verified` says the
 * operator vouches for it: the account is then verified from the start.
 */
import type { Command } from 'commander';

import type { UserView } from '@jot/contract';
import type { AdminOps } from '@jot/server';

import { CliError } from '../errors.js';
import { writeJson, writeLine, type CliIo } from '../io.js';
import { emailOption, openAccounts } from '../lib/accounts.js';
import { configuredExamples } from '../lib/admin-ops.js';
import { readNewPassword } from '../lib/password-input.js';
import { jotServer } from '../lib/server.js';

interface AddOptions {
  email: string;
  name?: string;
  role: string[];
  passwordEnv?: string;
  verified?: boolean;
  json?: boolean;
}

const ROLE = /^[A-Za-z0-9_.:-]{1,64}$/;

async function addUser(io: CliIo, options: AddOptions): Promise<void> {
  const { loadConfig, openAdminOps } = await jotServer();
  const email = await emailOption(options.email);
  const roles = [...new Set(options.role)];
  const bad = roles.find((r) => !ROLE.test(r));
  if (bad !== undefined) {
    throw new CliError('ERR_CLI_USAGE', `--role "${bad}": roles are 1-64 of A-Z a-z 0-9 _ . : -`);
  }
  const config = loadConfig({ env: io.env, cwd: io.cwd });
  const verified = options.verified === true;
  // The link is signed and its message sealed with keys derived from JOT_KEK: checked before the account is made.
  let ops: AdminOps | undefined;
  if (!verified && config.emailVerification !== 'off') {
    ops = await openAdminOps(config);
    try {
      await ops.requireKek();
    } catch (err) {
      await ops.close();
      throw err;
    }
  }
  let user;
  let linkSent = false;
  try {
    const accounts = await openAccounts(config);
    try {
      if ((await accounts.store.getUserByEmail(email)) !== undefined) {
        throw new CliError('ERR_CLI_ACCOUNT_EXISTS', 'an account with this email already exists');
      }
      const password = await readNewPassword(io, options.passwordEnv, email);
      user = await accounts.create({
        email,
        password,
        name: options.name ?? null,
        roles,
        via: 'cli',
        emailVerifiedAt: verified ? Date.now() : null,
      });
    } finally {
      await accounts.close();
    }
    if (ops !== undefined) linkSent = await ops.sendVerification(user);
  } finally {
    await ops?.close();
  }
  if (options.json === true) {
    const view: Pick<UserView, 'id' | 'email' | 'name' | 'roles'> = {
      id: user.id,
      email: user.email,
      name: user.name,
      roles: user.roles,
    };
    writeJson(io.stdout, view);
    return;
  }
  const withRoles = user.roles.length === 0 ? '' : ` with roles ${user.roles.join(', ')}`;
  writeLine(io.stdout, `created ${user.email} (id ${user.id})${withRoles}`);
  if (linkSent) writeLine(io.stdout, `a verification link was sent to ${user.email}`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Registers `jot users add` on the `users` command. */
export function registerUsersAdd(users: Command, io: CliIo): void {
  users
    .command('add')
    .description('create an account (works whatever JOT_REGISTRATION says)')
    .requiredOption('--email <email>', "the account's email")
    .option('--name <name>', 'display name')
    .option('--role <role>', 'give a role (repeat for several)', collect, [])
    .option('--password-env <VAR>', 'read the password from this environment variable (default: prompt)')
    .option(
      '--verified',
      'the address is known to be theirs: verified from the start, no verification link sent',
    )
    .option('--json', 'print {"id", "email", "name", "roles"}')
    .addHelpText(
      'after',
      configuredExamples(
        'jot users add --email ada@example.com --name Ada                 # prompts for the password',
        'PW=… jot users add --email ops@example.com --role admin --password-env PW --json',
      ),
    )
    .action((options: AddOptions) => addUser(io, options));
}
