/**
 * Input that should stay out of shell history: tokens read from stdin with `-`, JSON from `@file` or `@-`, and
 * passwords prompted on a terminal without echo.
 */
import { Buffer } from 'node:buffer';

import { CliError, EXIT } from '../errors.js';
import type { CliIo } from '../io.js';
import { readText } from './files.js';

/** More than any token or claims document we accept; stops a runaway pipe from filling memory. */
const MAX_STDIN_BYTES = 1024 * 1024;

/** Reads all of stdin as UTF-8. */
export async function readStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    size += bytes.length;
    if (size > MAX_STDIN_BYTES) throw new CliError('ERR_CLI_USAGE', 'stdin is larger than 1 MiB');
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The token argument, or stdin when it is `-`. Surrounding whitespace and a `Bearer ` prefix are dropped. */
export async function readToken(io: CliIo, arg: string): Promise<string> {
  if (arg === '-' && io.stdin.isTTY === true) {
    io.stderr.write('Paste the token, then press Enter and Ctrl-D:\n');
  }
  const text = (arg === '-' ? await readStdin(io) : arg).trim().replace(/^Bearer\s+/i, '');
  if (text === '') throw new CliError('ERR_CLI_USAGE', 'no token given (stdin was empty)');
  return text;
}

/** Parses `<json>`, `@<file>` or `@-` (stdin) as a JSON object. */
export async function readJsonObject(io: CliIo, arg: string, what: string): Promise<Record<string, unknown>> {
  const text =
    arg === '@-' ? await readStdin(io) : arg.startsWith('@') ? readText(io, arg.slice(1), what) : arg;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof SyntaxError ? err.message : 'invalid JSON';
    throw new CliError('ERR_CLI_USAGE', `${what} is not valid JSON: ${detail}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError('ERR_CLI_USAGE', `${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Asks for a secret on the terminal with echo off (raw mode), writing the question to stderr. Backspace edits,
 * Enter finishes, Ctrl-C cancels (`ERR_CLI_ABORTED`, exit 130). Fails with `ERR_CLI_NO_TTY` off a terminal.
 */
export function promptHidden(io: CliIo, question: string): Promise<string> {
  const { stdin } = io;
  if (stdin.isTTY !== true || typeof stdin.setRawMode !== 'function') {
    return Promise.reject(new CliError('ERR_CLI_NO_TTY', 'stdin is not a terminal to prompt on'));
  }
  io.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
    };
    function onData(chunk: Buffer | string): void {
      for (const char of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new CliError('ERR_CLI_ABORTED', 'cancelled', EXIT.aborted));
          return;
        }
        if (char === '\u007f' || char === '\b') value = Array.from(value).slice(0, -1).join('');
        else if (char >= ' ') value += char;
      }
    }
    stdin.on('data', onData);
  });
}
