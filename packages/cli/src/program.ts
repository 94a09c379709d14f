/**
 * The `jot` program: builds the commander tree from `commands/*.ts` against an injected `CliIo` and runs it,
 * turning every failure into one `jot: <CODE>: <message>` line on stderr and an exit code.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';

import { registerAdmin } from './commands/admin.js';
import { registerConfig } from './commands/config.js';
import { registerDecode } from './commands/decode.js';
import { registerKek } from './commands/kek.js';
import { registerKeygen } from './commands/keygen.js';
import { registerOutbox } from './commands/outbox.js';
import { registerRedis } from './commands/redis.js';
import { registerSecret } from './commands/secret.js';
import { registerServe } from './commands/serve.js';
import { registerSessions } from './commands/sessions.js';
import { registerSign } from './commands/sign.js';
import { registerKeys } from './commands/signing-keys.js';
import { registerUsers } from './commands/users.js';
import { registerClients } from './commands/clients.js';
import { registerVerify } from './commands/verify.js';
import { describeFailure, EXIT, formatFailure } from './errors.js';
import { processIo, writeLine, type CliIo } from './io.js';

function version(): string {
  // src/ and dist/ both sit one level below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

/** Builds the program. Output and errors go to `io`; commander never exits the process itself. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('jot')
    .description('Jot: keys and secrets, token decode/verify/sign, admin bootstrap, and the auth server')
    .version(version(), '-V, --version')
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      outputError: () => undefined, // run() prints the one-line error
    })
    .exitOverride()
    // `jot`'s own options (-V, -h) come before the command: after it, an argument such as a kid starting with
    // `-V` is the command's to read, not a request for the version.
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      [
        '',
        'Exit codes: 0 success, 1 check failed (invalid token), 2 usage or configuration error.',
        'Run "jot <command> --help" for a command\'s options and examples. Docs: docs/cli.md',
      ].join('\n'),
    );
  for (const register of [
    registerKek,
    registerSecret,
    registerKeygen,
    registerDecode,
    registerVerify,
    registerSign,
    registerAdmin,
    registerUsers,
    registerClients,
    registerSessions,
    registerKeys,
    registerOutbox,
    registerRedis,
    registerServe,
    registerConfig,
  ]) {
    register(program, io);
  }
  return program;
}

/** The help hint for a usage error: the deepest command named in `argv`. */
function helpHint(program: Command, argv: readonly string[]): string {
  const names: string[] = [];
  let command = program;
  for (const arg of argv) {
    const sub = command.commands.find((c) => c.name() === arg);
    if (sub === undefined) break;
    names.push(arg);
    command = sub;
  }
  return ['jot', ...names, '--help'].join(' ');
}

/**
 * Runs `jot` with `argv` (the arguments after `jot`) and resolves with the exit code; never calls `process.exit`.
 *
 * @example
 * const stdout: string[] = [];
 * const code = await run(['kek'], { stdout: { write: (s: string) => stdout.push(s) } });
 */
export async function run(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = { ...processIo(), ...io };
  const program = buildProgram(full);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.ok; // --help, --version
      if (err.code === 'commander.help' || err.code === 'commander.helpDisplayed') return EXIT.error; // help already shown
    }
    const failure = describeFailure(err);
    const hint = err instanceof CommanderError ? ` (see "${helpHint(program, argv)}")` : '';
    writeLine(full.stderr, formatFailure({ ...failure, message: failure.message + hint }));
    return failure.exitCode;
  }
}
