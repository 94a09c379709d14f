/**
 * Reading a new account's password for `jot admin create` and `jot users add`: from an environment variable named
 * by `--password-env`, or a no-echo prompt asked twice — never from the command line, where it would land in shell
 * history and `ps`. The server's own policy (length, common passwords, whitespace, the email) decides.
 */
import { CliError } from '../errors.js';
import type { CliIo } from '../io.js';
import { promptHidden } from './input.js';
import { envVarName } from './options.js';
import { jotServer } from './server.js';

/** The server's password policy, as a CLI error. */
export async function checkPassword(password: string, email: string): Promise<void> {
  const { checkPasswordStrength, DomainError } = await jotServer();
  try {
    checkPasswordStrength(password, email);
  } catch (err) {
    if (err instanceof DomainError) throw new CliError('ERR_CLI_PASSWORD_REJECTED', err.message);
    throw err;
  }
}

/** Reads and checks the password for `email`. */
export async function readNewPassword(
  io: CliIo,
  passwordEnv: string | undefined,
  email: string,
): Promise<string> {
  let password: string;
  if (passwordEnv !== undefined) {
    const value = io.env[envVarName(passwordEnv, '--password-env')];
    if (value === undefined || value === '') {
      throw new CliError(
        'ERR_CLI_ENV_MISSING',
        `the environment variable ${passwordEnv} (from --password-env) is not set`,
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
    await checkPassword(password, email);
    if ((await promptHidden(io, 'Repeat the password: ')) !== password) {
      throw new CliError('ERR_CLI_PASSWORD_REJECTED', 'the two passwords differ');
    }
  }
  await checkPassword(password, email);
  return password;
}
