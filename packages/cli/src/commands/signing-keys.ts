/** `jot keys list|rotate`: the server's signing keys in the configured database (never key material). */
import type { Command } from 'commander';

import { writeJson, writeLine, type CliIo } from '../io.js';
import { examples, withAdminOps } from '../lib/admin-ops.js';

/** Registers `jot keys`. */
export function registerKeys(program: Command, io: CliIo): void {
  const keys = program.command('keys').description("the server's signing keys");

  keys
    .command('list')
    .addHelpText('after', examples('jot keys list'))
    .description('every published key: kid, algorithm, state and times')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withAdminOps(io, async (ops) => {
        const list = ops.keys.list();
        if (options.json === true) return writeJson(io.stdout, { keys: list });
        for (const k of list) {
          writeLine(
            io.stdout,
            `${k.kid}  ${k.alg.padEnd(6)} ${k.state.padEnd(8)} activates ${new Date(k.activatesAt).toISOString()}`,
          );
        }
      }),
    );

  keys
    .command('rotate')
    .addHelpText(
      'after',
      examples('jot keys rotate', 'jot keys rotate --immediate   # after a key compromise'),
    )
    .description('create a new signing key (published first; --immediate signs with it at once)')
    .option('--immediate', 'sign with the new key now (after a key compromise)')
    .option('--json', 'print the new key as JSON')
    .action((options: { immediate?: boolean; json?: boolean }) =>
      withAdminOps(io, async (ops) => {
        const key = await ops.keys.rotate({ immediate: options.immediate === true });
        if (options.json === true) return writeJson(io.stdout, key);
        writeLine(
          io.stdout,
          `created key ${key.kid} (${key.state}); running servers pick it up from the database`,
        );
      }),
    );
}
