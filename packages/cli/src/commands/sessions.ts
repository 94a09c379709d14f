/** `jot sessions list|revoke`: a user's live sessions, and ending one or all of them. */
import type { Command } from 'commander';

import type { SessionListView } from '@jot/contract';
import type { AdminOps } from '@jot/server';

import { CliError } from '../errors.js';
import { writeJson, writeLine, type CliIo } from '../io.js';
import { examples, userOf, withAdminOps } from '../lib/admin-ops.js';
import { jotServer } from '../lib/server.js';

/** `jot sessions revoke --user`: ends every session and token of the user. */
async function revokeAll(io: CliIo, ops: AdminOps, ref: string, json: boolean | undefined): Promise<void> {
  const user = await userOf(ops, ref);
  await ops.revokeAllSessions(user);
  if (json === true) return writeJson(io.stdout, { user_id: user.id, revoked_all: true });
  writeLine(io.stdout, `every session of ${user.email} ended`);
}

/** Registers `jot sessions`. */
export function registerSessions(program: Command, io: CliIo): void {
  const sessions = program.command('sessions').description("list and revoke users' sessions");

  sessions
    .command('list <user>')
    .addHelpText('after', examples('jot sessions list ada@example.com'))
    .description("a user's live sessions (by email or id), most recently used first")
    .option('--json', 'print {"sessions": [...]} as GET /api/sessions does')
    .action((ref: string, options: { json?: boolean }) =>
      withAdminOps(io, async (ops) => {
        const list = await ops.listSessions(await userOf(ops, ref));
        // The API's session view (`current` is false: the CLI holds none of them).
        const { publicSession } = await jotServer();
        const views = list.map((s) => publicSession(s));
        if (options.json === true) return writeJson(io.stdout, { sessions: views } satisfies SessionListView);
        for (const v of views)
          writeLine(io.stdout, `${v.id}  last used ${v.last_used_at}  ${v.ip ?? '-'}  ${v.user_agent ?? ''}`);
        writeLine(io.stdout, `${views.length} live session${views.length === 1 ? '' : 's'}`);
      }),
    );

  sessions
    .command('revoke [session]')
    .addHelpText(
      'after',
      examples('jot sessions revoke 6c1e0d4e-…', 'jot sessions revoke --user ada@example.com'),
    )
    .description('end one session by id, or every session of a user with --user')
    .option('--user <user>', 'end every session and token of this user (email or id)')
    .option(
      '--json',
      'print {"session_id", "revoked"} (false: it had ended already), or {"user_id", "revoked_all": true}',
    )
    .action((id: string | undefined, options: { user?: string; json?: boolean }) =>
      withAdminOps(io, async (ops) => {
        if ((id === undefined) === (options.user === undefined)) {
          throw new CliError('ERR_CLI_USAGE', 'name one session id, or --user <user> for all of theirs');
        }
        if (options.user !== undefined) return revokeAll(io, ops, options.user, options.json);
        const session = await ops.store.getSession(id!);
        if (session === undefined) throw new CliError('ERR_CLI_NOT_FOUND', `no session ${id}`);
        const revoked = await ops.revokeSession(session.id);
        if (options.json === true) return writeJson(io.stdout, { session_id: session.id, revoked });
        writeLine(
          io.stdout,
          revoked ? `session ${session.id} revoked` : `session ${session.id} had already ended`,
        );
      }),
    );
}
