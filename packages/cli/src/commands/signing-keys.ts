/**
 * `jot keys list|rotate|withdraw`: the server's signing keys in the configured database (never key material).
 * `withdraw` and `rotate --withdraw` take keys out of the JWKS at once (key compromise), as the admin API does.
 */
import type { Command } from 'commander';

import type { RotatedKeyView, SigningKeyListView, WithdrawnKeyView } from '@jot/contract';

import { CliError } from '../errors.js';
import { writeJson, writeLine, type CliIo } from '../io.js';
import { examples, withAdminOps } from '../lib/admin-ops.js';
import { operandsMayStartWithDash } from '../lib/dash-operands.js';
import { jotServer } from '../lib/server.js';

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
        const { publicSigningKey } = await jotServer();
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

  registerRotate(keys, io);
  registerWithdraw(keys, io);
}

/** `jot keys rotate [--immediate [--withdraw]]`. */
function registerRotate(keys: Command, io: CliIo): void {
  keys
    .command('rotate')
    .addHelpText(
      'after',
      examples(
        'jot keys rotate',
        'jot keys rotate --immediate   # after a key compromise',
        'jot keys rotate --immediate --withdraw   # and take every older key out of the JWKS now',
      ),
    )
    .description('create a new signing key (published first; --immediate signs with it at once)')
    .option('--immediate', 'sign with the new key now (after a key compromise)')
    .option('--withdraw', 'with --immediate: withdraw every older key from the JWKS at once')
    .option('--json', 'print the new key as JSON')
    .action((options: { immediate?: boolean; withdraw?: boolean; json?: boolean }) =>
      withAdminOps(io, async (ops) => {
        const { publicSigningKey } = await jotServer();
        let key: RotatedKeyView;
        if (options.withdraw === true) {
          if (options.immediate !== true)
            throw new CliError('ERR_CLI_USAGE', '--withdraw needs --immediate (nothing else would sign)');
          const rotated = await ops.rotateWithdrawing();
          key = { ...publicSigningKey(rotated.key), withdrawn: rotated.withdrawn.map((k) => k.kid) };
        } else {
          key = publicSigningKey(await ops.rotateKey({ immediate: options.immediate === true }));
        }
        if (options.json === true) return writeJson(io.stdout, key);
        writeLine(
          io.stdout,
          `created key ${key.kid} (${key.state}); running servers pick it up from the database`,
        );
        if (key.withdrawn !== undefined)
          writeLine(io.stdout, `withdrew ${key.withdrawn.join(', ') || 'no key'}`);
      }),
    );
}

/** `jot keys withdraw <kid>`: a kid starting with `-` (base64url) is the kid, not an option. */
function registerWithdraw(keys: Command, io: CliIo): void {
  operandsMayStartWithDash(keys.command('withdraw <kid>'))
    .addHelpText(
      'after',
      examples(
        'jot keys withdraw 3f0c…   # a retired or pending key, after a compromise',
        'jot keys withdraw -x3f…   # a kid may start with "-"',
      ),
    )
    .description('take a key that does not sign now out of the JWKS at once, for good')
    .option('--json', 'print {kid, alg, withdrawn_at} as POST /api/admin/keys/:kid/withdraw does')
    .action((kid: string, options: { json?: boolean }) =>
      withAdminOps(io, async (ops) => {
        const { isDomainError, publicWithdrawnKey } = await jotServer();
        let view: WithdrawnKeyView;
        try {
          view = publicWithdrawnKey(await ops.withdrawKey(kid));
        } catch (err) {
          if (isDomainError(err, 'not_found')) throw new CliError('ERR_CLI_NOT_FOUND', err.message);
          throw err;
        }
        if (options.json === true) return writeJson(io.stdout, view);
        writeLine(io.stdout, `withdrew key ${view.kid}; running servers drop it at once`);
      }),
    );
}
