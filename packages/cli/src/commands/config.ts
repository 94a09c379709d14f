/**
 * `jot config check`: loads the configuration exactly as the server does and prints it with secrets redacted (the
 * config's own `toJSON` does that), or exits 2 with the `ConfigError` naming the bad variable. Like the server, in
 * development it creates `<dataDir>/dev-kek` when no `JOT_KEK` is set.
 */
import type { Command } from 'commander';
import type * as JotServer from '@jot/server';

import { writeJson, writeLine, type CliIo } from '../io.js';
import { jotServer } from '../lib/server.js';

/** Registers `jot config` and its subcommands. */
export function registerConfig(program: Command, io: CliIo): void {
  const config = program.command('config').description('inspect the server configuration');
  config
    .command('check')
    .description('validate the configuration and print it with secrets redacted')
    .option('--json', 'print only the configuration JSON')
    .addHelpText(
      'after',
      [
        '',
        'Reads JOT_* variables, JOT_CONFIG or ./jot.config.json, as `jot serve` does.',
        '',
        'Examples:',
        '  JOT_PORT=8080 jot config check',
        '  JOT_CONFIG=/etc/jot/jot.config.json NODE_ENV=production jot config check --json',
      ].join('\n'),
    )
    .action(async (options: { json?: boolean }) => {
      const server = await jotServer();
      const loaded = server.loadConfig({ env: io.env, cwd: io.cwd });
      if (options.json === true) {
        writeJson(io.stdout, loaded);
        return;
      }
      const source =
        loaded.configFile === undefined ? 'environment and defaults' : `${loaded.configFile} and environment`;
      writeLine(io.stdout, `Configuration is valid (from ${source}):`);
      writeJson(io.stdout, loaded);
      if (loaded.kekGenerated) {
        writeLine(
          io.stderr,
          `warning: using the development KEK in ${loaded.dataDir}/dev-kek; set JOT_KEK for a real deployment`,
        );
      }
      const policy = adminPasswordRefusal(server, loaded.adminPassword, loaded.adminEmail);
      if (policy !== undefined) {
        writeLine(
          io.stderr,
          `warning: JOT_ADMIN_PASSWORD is refused by the password policy (${policy}): the server will not start ` +
            'unless the account JOT_ADMIN_EMAIL names already exists with that password',
        );
      }
      if (loaded.nodeEnv !== 'production') {
        writeLine(io.stderr, `warning: NODE_ENV is ${loaded.nodeEnv}; use production for deployments`);
      }
    });
}

/**
 * Why the password policy refuses `password` for the bootstrap admin `email`, or undefined. Only a warning here: the
 * server applies the policy when it creates the account, not to an account that already exists, which this check
 * (no database) cannot see.
 */
function adminPasswordRefusal(
  { checkPasswordStrength }: typeof JotServer,
  password: string | undefined,
  email: string | undefined,
): string | undefined {
  if (password === undefined || email === undefined) return undefined;
  try {
    checkPasswordStrength(password, email);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
