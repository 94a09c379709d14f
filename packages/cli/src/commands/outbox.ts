/** `jot outbox list|retry`: the mail queue (recipients, templates, attempts, errors — never message content). */
import type { Command } from 'commander';
import type { AdminOps, OutboxStatus } from '@jot/server';

import { CliError } from '../errors.js';
import { writeJson, writeLine, type CliIo } from '../io.js';
import { examples, withAdminOps } from '../lib/admin-ops.js';
import { wholeNumber } from '../lib/options.js';

const STATUSES: readonly OutboxStatus[] = ['pending', 'sent', 'failed'];

/**
 * Makes messages due again: every failed one when no ids are given, else each named one that is not sent yet,
 * reporting the ids that name no such message.
 */
async function retry(ops: AdminOps, ids: readonly string[]): Promise<{ queued: number; notFound: string[] }> {
  if (ids.length === 0) return { queued: await ops.store.retryMail([]), notFound: [] };
  let queued = 0;
  const notFound: string[] = [];
  for (const id of new Set(ids)) {
    if ((await ops.store.retryMail([id])) === 0) notFound.push(id);
    else queued += 1;
  }
  return { queued, notFound };
}

/** Registers `jot outbox`. */
export function registerOutbox(program: Command, io: CliIo): void {
  const outbox = program.command('outbox').description('the mail outbox');

  outbox
    .command('list')
    .addHelpText('after', examples('jot outbox list --status failed'))
    .description('messages, newest first')
    .option('--status <status>', 'only pending, sent or failed messages')
    .option('--limit <n>', 'at most this many (1–10000)', wholeNumber(1, 10_000), 50)
    .option('--json', 'print JSON')
    .action((options: { status?: string; limit: number; json?: boolean }) =>
      withAdminOps(io, async (ops) => {
        const status = options.status as OutboxStatus | undefined;
        if (status !== undefined && !STATUSES.includes(status)) {
          throw new CliError('ERR_CLI_USAGE', `--status must be one of ${STATUSES.join(', ')}`);
        }
        const rows = await ops.store.listOutbox({ status, limit: options.limit });
        const views = rows.map((m) => ({
          id: m.id,
          to: m.to,
          template: m.template,
          status: m.status,
          attempts: m.attempts,
          next_attempt_at: m.status === 'pending' ? new Date(m.nextAttemptAt).toISOString() : null,
          last_error: m.lastError,
          created_at: new Date(m.createdAt).toISOString(),
          sent_at: m.sentAt === null ? null : new Date(m.sentAt).toISOString(),
        }));
        if (options.json === true) return writeJson(io.stdout, { messages: views });
        for (const v of views) {
          const error = v.last_error === null ? '' : `  (${v.last_error})`;
          writeLine(
            io.stdout,
            `${v.id}  ${v.status.padEnd(7)} ${String(v.attempts).padStart(2)}×  ${v.template.padEnd(22)} ${v.to}${error}`,
          );
        }
        writeLine(io.stdout, `${views.length} message${views.length === 1 ? '' : 's'}`);
      }),
    );

  outbox
    .command('retry [ids...]')
    .addHelpText('after', examples('jot outbox retry', 'jot outbox retry 3f2a…'))
    .description('make failed messages (or the given unsent ones) due now, with a fresh attempt count')
    .option('--json', 'print {"queued": n, "not_found": [ids]}')
    .action((ids: string[], options: { json?: boolean }) =>
      withAdminOps(io, async (ops) => {
        await ops.requireKek(); // the queued messages are sealed under JOT_KEK: another one could not send them
        const { queued, notFound } = await retry(ops, ids);
        await ops.mailer.flush();
        if (options.json === true) writeJson(io.stdout, { queued, not_found: notFound });
        else writeLine(io.stdout, `${queued} message${queued === 1 ? '' : 's'} queued again`);
        if (notFound.length > 0) {
          throw new CliError(
            'ERR_CLI_NOT_FOUND',
            `no unsent message ${notFound.join(', ')} (unknown, already sent, or its content erased)`,
          );
        }
      }),
    );
}
