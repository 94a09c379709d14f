/**
 * `jot users add|list|show|disable|enable|set-roles|invite|delete`: account administration against the configured
 * database, with the same effects as the admin API (tokens stop working at once; a deletion removes personal data).
 * `add` lives in users-add.ts.
 */
import type { Command } from 'commander';

import type { InvitationView, UserPageView, UserView } from '@jot/contract';
import type { AdminOps, Invitation } from '@jot/server';

import { CliError } from '../errors.js';

import { writeJson, writeLine, type CliIo } from '../io.js';
import { registerUsersAdd } from './users-add.js';
import { examples, parseRoles, requireYes, userOf, userView, withAdminOps } from '../lib/admin-ops.js';
import { wholeNumber } from '../lib/options.js';
import { jotServer } from '../lib/server.js';

interface JsonOption {
  json?: boolean;
}

function text(value: unknown): string {
  if (Array.isArray(value)) return value.join(', ') || '—';
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? `${value}` : JSON.stringify(value);
}

function printUser(io: CliIo, view: object, json: boolean | undefined): void {
  if (json === true) return writeJson(io.stdout, view);
  for (const [key, value] of Object.entries(view)) writeLine(io.stdout, `${key.padEnd(15)}${text(value)}`);
}

/** `jot users list`. */
function listCommand(users: Command, io: CliIo): void {
  users
    .command('list')
    .addHelpText('after', examples('jot users list --query example.com --limit 50', 'jot users list --json'))
    .description('list users, oldest first (search with --query, page with --limit/--offset)')
    .option('-q, --query <text>', 'only users whose email or name contains this')
    .option('--limit <n>', 'at most this many (1–10000)', wholeNumber(1, 10_000), 100)
    .option('--offset <n>', 'skip this many', wholeNumber(0, Number.MAX_SAFE_INTEGER), 0)
    .option('--json', 'print {"users": [...], "total": n} as GET /api/admin/users does')
    .action((options: { query?: string; limit: number; offset: number } & JsonOption) =>
      withAdminOps(io, async (ops) => {
        const { limit, offset } = options;
        const page = await ops.store.searchUsers({ q: options.query, limit, offset });
        const view: UserPageView = { users: await Promise.all(page.users.map(userView)), total: page.total };
        if (options.json === true) return writeJson(io.stdout, view);
        for (const u of page.users) {
          writeLine(
            io.stdout,
            `${u.id}  ${u.email.padEnd(32)} ${u.status.padEnd(8)} ${u.roles.join(',') || '-'}`,
          );
        }
        writeLine(
          io.stdout,
          `${page.users.length === 0 ? 0 : offset + 1}–${offset + page.users.length} of ${page.total}`,
        );
      }),
    );
}

/** `jot users show`. */
function showCommand(users: Command, io: CliIo): void {
  users
    .command('show <user>')
    .addHelpText('after', examples('jot users show ada@example.com'))
    .description('show one user (by email or id) and their live sessions')
    .option('--json', 'print the user as GET /api/admin/users/:id does, with live_sessions')
    .action((ref: string, options: JsonOption) =>
      withAdminOps(io, async (ops) => {
        const user = await userOf(ops, ref);
        const sessions = await ops.listSessions(user);
        const view: UserView & { live_sessions: number } = {
          ...(await userView(user)),
          live_sessions: sessions.length,
        };
        printUser(io, view, options.json);
      }),
    );
}

/** `jot users disable` and `jot users enable`. */
function statusCommands(users: Command, io: CliIo): void {
  for (const [verb, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    users
      .command(`${verb} <user>`)
      .addHelpText('after', examples(`jot users ${verb} mallory@example.com`))
      .description(
        verb === 'disable' ? 'disable a user: every token of theirs stops working' : 'enable a user again',
      )
      .option('--json', 'print the user as JSON')
      .action((ref: string, options: JsonOption) =>
        withAdminOps(io, async (ops) => {
          const user = await ops.setStatus(await userOf(ops, ref), status);
          if (options.json === true) return writeJson(io.stdout, await userView(user));
          writeLine(io.stdout, `${user.email} is ${status}`);
        }),
      );
  }
}

/** `jot users set-roles`. */
function setRolesCommand(users: Command, io: CliIo): void {
  users
    .command('set-roles <user> [roles...]')
    .addHelpText(
      'after',
      examples(
        'jot users set-roles ada@example.com admin,editor',
        'jot users set-roles ada@example.com   # no roles',
      ),
    )
    .description("replace a user's roles (comma or space separated; none clears them)")
    .option('--json', 'print the user as JSON')
    .action((ref: string, roles: string[], options: JsonOption) =>
      withAdminOps(io, async (ops) => {
        const user = await ops.setRoles(await userOf(ops, ref), parseRoles(roles));
        if (options.json === true) return writeJson(io.stdout, await userView(user));
        writeLine(io.stdout, `${user.email} now has roles: ${user.roles.join(', ') || 'none'}`);
      }),
    );
}

/**
 * Invites through the admin operations: a malformed address is a usage error; an address that has an account fails
 * with the admin API's `ERR_EMAIL_TAKEN`.
 */
async function invite(ops: AdminOps, email: string, roles: string[]): Promise<Invitation> {
  const { DomainError } = await jotServer();
  try {
    return await ops.invite(email, roles);
  } catch (err) {
    if (err instanceof DomainError && err.kind === 'invalid') {
      throw new CliError('ERR_CLI_USAGE', `"${email}": ${err.message}`);
    }
    throw err;
  }
}

/** `jot users invite`. */
function inviteCommand(users: Command, io: CliIo): void {
  users
    .command('invite <email>')
    .addHelpText('after', examples('jot users invite new.hire@example.com --roles editor'))
    .description('invite an address: a link to choose a password is mailed (the outbox delivers it)')
    .option('--roles <roles>', 'roles the account will have, comma separated', '')
    .option('--json', 'print the invitation as GET /api/admin/invitations lists it')
    .action((email: string, options: { roles: string } & JsonOption) =>
      withAdminOps(io, async (ops) => {
        const invitation = await invite(ops, email.trim().toLowerCase(), parseRoles([options.roles]));
        const view: InvitationView = (await jotServer()).invitationView(invitation);
        if (options.json === true) return writeJson(io.stdout, view);
        writeLine(io.stdout, `invited ${view.email} (invitation ${view.id}, expires ${view.expires_at})`);
      }),
    );
}

/** `jot users delete`. */
function deleteCommand(users: Command, io: CliIo): void {
  users
    .command('delete <user>')
    .addHelpText('after', examples('jot users delete leaver@example.com --yes'))
    .description('delete a user: sessions and tokens end, personal data is removed (needs --yes)')
    .option('--yes', 'confirm the deletion')
    .option('--json', 'print {"id", "email", "deleted": true}')
    .action((ref: string, options: { yes?: boolean } & JsonOption) =>
      withAdminOps(io, async (ops) => {
        const user = await userOf(ops, ref);
        requireYes(options.yes, `deleting ${user.email}`);
        await ops.deleteUser(user);
        if (options.json === true)
          return writeJson(io.stdout, { id: user.id, email: user.email, deleted: true });
        writeLine(io.stdout, `deleted ${user.email} (id ${user.id})`);
      }),
    );
}

/** Registers `jot users`. */
export function registerUsers(program: Command, io: CliIo): void {
  const users = program.command('users').description('manage accounts in the configured database');
  registerUsersAdd(users, io);
  listCommand(users, io);
  showCommand(users, io);
  statusCommands(users, io);
  setRolesCommand(users, io);
  inviteCommand(users, io);
  deleteCommand(users, io);
}
