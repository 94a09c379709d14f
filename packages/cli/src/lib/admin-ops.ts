/**
 * Runs an administration command against the configured database with the server's own services
 * (`openAdminOps` from `@jot/server`), closing them afterwards; resolves users by email or id.
 */
import type { UserView } from '@jot/contract';
import type { AdminOps, User } from '@jot/server';

import { CliError } from '../errors.js';
import type { CliIo } from '../io.js';
import { jotServer } from './server.js';

/** Opens the services, runs `fn`, closes them (also when `fn` throws). */
export async function withAdminOps<T>(io: CliIo, fn: (ops: AdminOps) => Promise<T>): Promise<T> {
  const { loadConfig, openAdminOps } = await jotServer();
  const ops = await openAdminOps(loadConfig({ env: io.env, cwd: io.cwd }));
  try {
    return await fn(ops);
  } finally {
    await ops.close();
  }
}

/** The user named by `ref` (an email or an id), or `ERR_CLI_NOT_FOUND`. */
export async function userOf(ops: AdminOps, ref: string): Promise<User> {
  const user = await ops.findUser(ref.trim());
  if (user === undefined) throw new CliError('ERR_CLI_NOT_FOUND', `no user ${ref}`);
  return user;
}

/** Refuses a destructive command unless `--yes` was given. */
export function requireYes(yes: boolean | undefined, what: string): void {
  if (yes !== true)
    throw new CliError('ERR_CLI_CONFIRM', `${what} cannot be undone; run again with --yes to confirm`);
}

/** A user as the CLI prints it: the API's public view (never hashes). */
export async function userView(user: User): Promise<UserView> {
  return (await jotServer()).publicUser(user);
}

/** Splits a comma (and/or space) separated list of roles. */
export function parseRoles(values: readonly string[]): string[] {
  const roles = values
    .flatMap((v) => v.split(','))
    .map((r) => r.trim())
    .filter((r) => r !== '');
  for (const role of roles) {
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(role)) throw new CliError('ERR_CLI_USAGE', `bad role name "${role}"`);
  }
  return [...new Set(roles)];
}

/** The "Examples:" help block of a command. */
export function examples(...lines: string[]): string {
  return ['', 'Examples:', ...lines.map((l) => `  ${l}`)].join('\n');
}

/** Help text of a command that opens the configured database: where the configuration comes from, then examples. */
export function configuredExamples(...lines: string[]): string {
  return [
    '',
    'Reads the same configuration as the server (JOT_* variables, JOT_CONFIG or ./jot.config.json).',
    examples(...lines),
  ].join('\n');
}
