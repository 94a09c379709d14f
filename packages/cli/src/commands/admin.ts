/**
 * `jot admin create`: creates an admin account directly in the configured database, or gives an existing account
 * the admin role (its password is then left alone). The password comes from an environment variable or a no-echo
 * prompt, never from the command line, where it would land in shell history and `ps`.
 */
import type { Command } from 'commander';
import { loadConfig } from '@jot/server';

import { CliError } from '../errors.js';
import { writeJson, writeLine, type CliIo } from '../io.js';
import { openAccounts } from '../lib/accounts.js';
import { promptHidden } from '../lib/input.js';

/** NIST SP 800-63B §5.1.1.2 minimum, as the server enforces it. */
export const MIN_PASSWORD_LENGTH = 8;
/** The server's maximum, which bounds hashing work. */
export const MAX_PASSWORD_LENGTH = 1024;

interface CreateOptions {
  email: string;
  passwordEnv?: string;
  json?: boolean;
}

async function readPassword(io: CliIo, options: CreateOptions, email: string): Promise<string> {
  let password: string;
  if (options.passwordEnv !== undefined) {
    const value = io.env[options.passwordEnv];
    if (value === undefined || value === '') {
      throw new CliError(
        'ERR_CLI_ENV_MISSING',
        `the environment variable ${options.passwordEnv} (from --password-env) is not set`,
      );
    }
    password = value;
  } else {
    if (io.stdin.isTTY !== true) {
      throw new CliError(
        'ERR_CLI_NO_TTY',
        'no password: pass --password-env <VAR>, or run in a terminal to be prompted',
      );
    }
    password = await promptHidden(io, `Password for ${email}: `);
    checkPassword(password, email);
    if ((await promptHidden(io, 'Repeat the password: ')) !== password) {
      throw new CliError('ERR_CLI_PASSWORD_REJECTED', 'the two passwords differ');
    }
  }
  checkPassword(password, email);
  return password;
}

function checkPassword(password: string, email: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new CliError(
      'ERR_CLI_PASSWORD_REJECTED',
      `passwords must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
  if (password.trim().toLowerCase() === email) {
    throw new CliError('ERR_CLI_PASSWORD_REJECTED', 'the password must not be the email address');
  }
}

async function createAdmin(io: CliIo, options: CreateOptions): Promise<void> {
  const email = options.email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) {
    throw new CliError('ERR_CLI_USAGE', '--email must be an email address');
  }
  const config = loadConfig({ env: io.env, cwd: io.cwd });
  const accounts = await openAccounts(config);
  let result: { id: string; email: string; action: 'created' | 'promoted' | 'unchanged' };
  try {
    const existing = await accounts.store.getUserByEmail(email);
    if (existing === undefined) {
      const password = await readPassword(io, options, email);
      const user = await accounts.store.createUser({
        email,
        passwordHash: await accounts.hashPassword(password),
        name: 'Administrator',
        roles: ['admin'],
      });
      result = { id: user.id, email: user.email, action: 'created' };
    } else if (existing.roles.includes('admin')) {
      result = { id: existing.id, email: existing.email, action: 'unchanged' };
    } else {
      await accounts.store.setRoles(existing.id, [...existing.roles, 'admin']);
      result = { id: existing.id, email: existing.email, action: 'promoted' };
    }
  } finally {
    await accounts.close();
  }
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
      [
        '',
        'Reads the same configuration as the server (JOT_* variables, JOT_CONFIG or ./jot.config.json).',
        '',
        'Examples:',
        '  jot admin create --email admin@example.com                 # prompts for the password',
        '  ADMIN_PASSWORD=… jot admin create --email admin@example.com --password-env ADMIN_PASSWORD',
      ].join('\n'),
    )
    .action((options: CreateOptions) => createAdmin(io, options));
}
