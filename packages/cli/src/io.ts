/**
 * The streams, environment and clock a command may touch. `run()` takes them as arguments so the tests run the
 * whole CLI in-process with strings for stdin/stdout/stderr, a fake environment and a fixed clock.
 */
import type { SignalSource } from '@jot/server';

/** Where output goes: `process.stdout`, `process.stderr`, or a test double. */
export interface OutputStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

/** Where input comes from. A TTY with `setRawMode` lets `admin create` prompt without echo. */
export type InputStream = NodeJS.ReadableStream & {
  readonly isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
};

/** What `serve` listens to for a graceful shutdown (`process` in real use): the server's own `SignalSource`. */
export type { SignalSource };

/** Everything outside the program that a command reads or writes. */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly stdin: InputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Base for relative file paths. */
  readonly cwd: string;
  /** The time used for `exp`/`nbf`/`iat` decisions and for signing. */
  readonly now: () => Date;
  readonly signals: SignalSource;
}

/**
 * The real process's streams, environment, working directory and clock.
 *
 * @example
 * process.exitCode = await run(process.argv.slice(2), processIo());
 */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
    signals: process,
  };
}

/** Writes one line (a trailing newline added) to a stream. */
export function writeLine(stream: OutputStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Writes a value as indented JSON. */
export function writeJson(stream: OutputStream, value: unknown): void {
  writeLine(stream, JSON.stringify(value, null, 2));
}
