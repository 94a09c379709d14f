/**
 * The CLI's coded errors and the one place that turns any thrown value into `jot: <CODE>: <message>` and an exit
 * code. Exit codes follow grep: 0 success, 1 the check ran and failed (an invalid token), 2 it could not run (bad
 * usage, configuration, unreadable files, unreachable JWKS), 130 cancelled at a prompt.
 */
import { CommanderError } from 'commander';
import { isJoseError, type JoseErrorCode } from '@jot/jose';
import { ConfigError } from '@jot/server';

/** Codes of errors raised by the CLI itself. Documented in docs/cli.md. */
export type CliErrorCode =
  /** Bad arguments or options: unknown option, wrong choice, malformed JSON, an unusable combination. */
  | 'ERR_CLI_USAGE'
  /** A file to read does not exist or cannot be read. */
  | 'ERR_CLI_FILE_UNREADABLE'
  /** A file to write already exists; pass `--force` to replace it. */
  | 'ERR_CLI_FILE_EXISTS'
  /** A file cannot be written: missing directory, no permission. */
  | 'ERR_CLI_FILE_UNWRITABLE'
  /** A JWKS URL could not be fetched in time or did not return JSON. */
  | 'ERR_CLI_JWKS_FETCH'
  /** An environment variable named by an option (`--secret-env`, `--password-env`) is unset or empty. */
  | 'ERR_CLI_ENV_MISSING'
  /** A password was needed, none was given, and stdin is not a terminal to prompt on. */
  | 'ERR_CLI_NO_TTY'
  /** The password is too short, too long, equal to the email, or the two entries differ. */
  | 'ERR_CLI_PASSWORD_REJECTED'
  /** `jot users add`: an account with this email (or a look-alike of it) already exists. */
  | 'ERR_CLI_ACCOUNT_EXISTS'
  /** Ctrl-C at a prompt. */
  | 'ERR_CLI_ABORTED'
  /** The user, session or message named does not exist. */
  | 'ERR_CLI_NOT_FOUND'
  /** A destructive command was run without `--yes`. */
  | 'ERR_CLI_CONFIRM'
  /** Anything else; the message says what happened. */
  | 'ERR_CLI_UNEXPECTED';

/** Every CLI code, for documentation checks. */
export const CLI_ERROR_CODES: readonly CliErrorCode[] = [
  'ERR_CLI_USAGE',
  'ERR_CLI_FILE_UNREADABLE',
  'ERR_CLI_FILE_EXISTS',
  'ERR_CLI_FILE_UNWRITABLE',
  'ERR_CLI_JWKS_FETCH',
  'ERR_CLI_ENV_MISSING',
  'ERR_CLI_NO_TTY',
  'ERR_CLI_PASSWORD_REJECTED',
  'ERR_CLI_ACCOUNT_EXISTS',
  'ERR_CLI_ABORTED',
  'ERR_CLI_NOT_FOUND',
  'ERR_CLI_CONFIRM',
  'ERR_CLI_UNEXPECTED',
];

/** Exit codes. */
export const EXIT = { ok: 0, checkFailed: 1, error: 2, aborted: 130 } as const;

/** An error a command raises on purpose, with the exit code it should end the process with. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode | JoseErrorCode;
  readonly exitCode: number;

  constructor(code: CliErrorCode | JoseErrorCode, message: string, exitCode: number = EXIT.error) {
    super(message);
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** What to print and how to exit for a thrown value. */
export interface Failure {
  readonly code: string;
  readonly message: string;
  readonly exitCode: number;
}

function hasErrCode(err: unknown): err is Error & { code: string } {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_');
}

/**
 * Classifies a thrown value. A `JoseError` that reaches here came from reading a key (a configuration problem,
 * exit 2); token failures are turned into exit-1 `CliError`s by the commands that check tokens.
 */
export function describeFailure(err: unknown): Failure {
  if (err instanceof CliError) return { code: err.code, message: err.message, exitCode: err.exitCode };
  if (err instanceof CommanderError) {
    return { code: 'ERR_CLI_USAGE', message: err.message.replace(/^error: /, ''), exitCode: EXIT.error };
  }
  if (err instanceof ConfigError) return { code: err.code, message: err.message, exitCode: EXIT.error };
  if (isJoseError(err)) {
    const claim = err.claim === undefined ? '' : ` (${err.claim})`;
    return { code: err.code, message: `${err.message}${claim}`, exitCode: EXIT.error };
  }
  if (hasErrCode(err)) return { code: err.code, message: err.message, exitCode: EXIT.error };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'ERR_CLI_UNEXPECTED', message, exitCode: EXIT.error };
}

/** The single stderr line for a failure; newlines are folded so it stays one line. */
export function formatFailure(failure: Failure): string {
  return `jot: ${failure.code}: ${failure.message.replace(/\s*\n\s*/g, ' ')}`;
}
