/** `jot keys list|rotate`: the server's signing keys in the configured database (never key material). */
import type { Command } from 'commander';

import type { SigningKeyListView, SigningKeyView } from '@jot/contract';
import { publicSigningKey } from '@jot/server';

import { writeJson, writeLine, type CliIo } from '../io.js';
import { examples, withAdminOps } from '../lib/admin-ops.js';

/** Registers `jot keys`. */
export function registerKeys(program: Command, io: CliIo): void {
  const keys = program.command('keys').description("the server's signing keys");

  keys
    .command('list')
    .addHelpText('after', examples('jot keys list'))
    .description('every published key: kid, algorithm, state and times')
    .option('--json', 'print {"keys": [...]} as GET /api/admin/keys does')
    .action((options: { json?: boolean }) =>
      withAdminOps(io, async (ops) => {
        const list = (await ops.keys()).list().map(publicSigningKey);
        if (options.json === true) return writeJson(io.stdout, { keys: list } satisfies SigningKeyListView);
        for (const k of list) {
          writeLine(
            io.stdout,
            `${k.kid}  ${k.alg.padEnd(6)} ${k.state.padEnd(8)} activates ${k.activates_at}`,
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
        const key: SigningKeyView = publicSigningKey(
          await (await ops.keys()).rotate({ immediate: options.immediate === true }),
        );
        if (options.json === true) return writeJson(io.stdout, key);
        writeLine(
          io.stdout,
          `created key ${key.kid} (${key.state}); running servers pick it up from the database`,
        );
      }),
    );
}
