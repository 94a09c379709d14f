/**
 * The CLI's coded errors and the one place that turns any thrown value into `jot: <CODE>: <message>` and an exit
 * code. Exit codes follow grep: 0 success, 1 the check ran and failed (an invalid token), 2 it could not run (bad
 * usage, configuration, unreadable files, unreachable JWKS), 130 cancelled at a prompt.
 */
import { CommanderError } from 'commander';
import { CLI_ERROR_CODES, isJotErrorCode, type CliErrorCode, type JoseErrorCode } from '@jot/contract';
import { isJoseError } from '@jot/jose';

/** Codes of errors raised by the CLI itself and the list of them (the registry in `@jot/contract`). See docs/cli.md. */
export { CLI_ERROR_CODES, type CliErrorCode };

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

/**
 * Whether `err` carries one of Jot's registered codes (`@jot/contract`). Not any `ERR_` prefix: Node's own errors
 * use it too (`ERR_INVALID_URL`, `ERR_MODULE_NOT_FOUND`), and `jot` prints only codes docs/errors.md lists.
 */
function hasJotCode(err: unknown): err is Error & { code: string } {
  return err instanceof Error && 'code' in err && isJotErrorCode(err.code);
}

/**
 * Classifies a thrown value. A `JoseError` that reaches here came from reading a key (a configuration problem,
 * exit 2); token failures are turned into exit-1 `CliError`s by the commands that check tokens. The server's errors
 * (`ConfigError`'s `ERR_CONFIG_INVALID`, `ERR_UNAVAILABLE`, …) are told by their registered code, not by class, so
 * that this module does not load the server (lib/server.ts). Anything else is `ERR_CLI_UNEXPECTED`.
 */
export function describeFailure(err: unknown): Failure {
  if (err instanceof CliError) return { code: err.code, message: err.message, exitCode: err.exitCode };
  if (err instanceof CommanderError) {
    return { code: 'ERR_CLI_USAGE', message: err.message.replace(/^error: /, ''), exitCode: EXIT.error };
  }
  if (isJoseError(err)) {
    const claim = err.claim === undefined ? '' : ` (${err.claim})`;
    return { code: err.code, message: `${err.message}${claim}`, exitCode: EXIT.error };
  }
  if (hasJotCode(err)) return { code: err.code, message: err.message, exitCode: EXIT.error };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'ERR_CLI_UNEXPECTED', message, exitCode: EXIT.error };
}

/** The single stderr line for a failure; newlines are folded so it stays one line. */
export function formatFailure(failure: Failure): string {
  return `jot: ${failure.code}: ${failure.message.replace(/\s*\n\s*/g, ' ')}`;
}
