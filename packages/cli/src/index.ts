#!/usr/bin/env node
/** `jot`: the command-line entry. `run()` is exported so tests (and other tools) can drive the CLI in-process. */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { processIo } from './io.js';
import { run } from './program.js';

export { run, buildProgram } from './program.js';
export { processIo, type CliIo, type InputStream, type OutputStream, type SignalSource } from './io.js';
export { CliError, CLI_ERROR_CODES, EXIT, type CliErrorCode } from './errors.js';

/** True when this file is the process's entry (also through the npm bin symlink), not an import. */
function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** Resolves once everything written to `stream` so far has been handed to the system (or the stream failed). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) resolve();
    else stream.write('', () => resolve());
  });
}

if (isMain()) {
  // `jot keygen | head -1`: a reader that goes away early is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
  const argv = process.argv.slice(2);
  const code = await run(argv, processIo());
  process.exitCode = code;
  // `jot serve` has shut down gracefully when run() resolves. Any other command is done: exit even if a client it
  // opened (a Redis reconnect, a keep-alive socket) would keep the event loop alive.
  if (argv[0] !== 'serve') {
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    process.exit(code);
  }
}
