/**
 * Reading input files and writing key files. Private material is written with mode 0600 and existing files are
 * never replaced without `--force`; every file is checked before the first is written, so a refusal leaves
 * nothing half-done.
 */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { CliError } from '../errors.js';
import type { CliIo } from '../io.js';

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
};

function reason(err: unknown): string {
  const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : '';
  return REASONS[code] ?? (err instanceof Error ? err.message : String(err));
}

/** Reads a UTF-8 file relative to the working directory, or fails with `ERR_CLI_FILE_UNREADABLE`. */
export function readText(io: CliIo, path: string, what: string): string {
  try {
    return readFileSync(resolve(io.cwd, path), 'utf8');
  } catch (err) {
    throw new CliError('ERR_CLI_FILE_UNREADABLE', `cannot read ${what} "${path}": ${reason(err)}`);
  }
}

/** One file to write. */
export interface OutputFile {
  readonly path: string;
  readonly contents: string;
  /** Private keys and secrets: 0600. Everything else: 0644. */
  readonly secret: boolean;
}

/**
 * Writes files, refusing (`ERR_CLI_FILE_EXISTS`) if any exists and `force` is false. With `force` an existing file
 * is removed first rather than overwritten: `writeFile` keeps the mode of a file it replaces, so a private key
 * written over a 0644 file would be readable by others until a later chmod.
 */
export function writeFiles(io: CliIo, files: readonly OutputFile[], force: boolean): void {
  if (!force) {
    for (const file of files) {
      if (existsSync(resolve(io.cwd, file.path))) {
        throw new CliError(
          'ERR_CLI_FILE_EXISTS',
          `"${file.path}" already exists; pass --force to replace it`,
        );
      }
    }
  }
  for (const file of files) {
    const path = resolve(io.cwd, file.path);
    const mode = file.secret ? 0o600 : 0o644;
    try {
      if (force) rmSync(path, { force: true });
      writeFileSync(path, file.contents, { mode, flag: 'wx' });
      chmodSync(path, mode); // the umask may have taken bits away; 0600/0644 are meant exactly
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'EEXIST') {
        throw new CliError(
          'ERR_CLI_FILE_EXISTS',
          `"${file.path}" already exists; pass --force to replace it`,
        );
      }
      throw new CliError('ERR_CLI_FILE_UNWRITABLE', `cannot write "${file.path}": ${reason(err)}`);
    }
  }
}
