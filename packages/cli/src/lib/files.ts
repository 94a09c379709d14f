/**
 * Reading input files and writing key files. Private material is written with mode 0600 and existing files are
 * never replaced without `--force`; every file is written to a temporary before the first is moved into place, so
 * a failure leaves nothing half-done (never a new private key beside an old public one).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

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

/** A file written next to its target, waiting to be moved into place. */
interface Staged {
  readonly file: OutputFile;
  readonly target: string;
  readonly temporary: string;
}

function fileExists(file: OutputFile): CliError {
  return new CliError('ERR_CLI_FILE_EXISTS', `"${file.path}" already exists; pass --force to replace it`);
}

function unwritable(file: OutputFile, err: unknown): CliError {
  if (err instanceof Error && 'code' in err && err.code === 'EEXIST') return fileExists(file);
  return new CliError('ERR_CLI_FILE_UNWRITABLE', `cannot write "${file.path}": ${reason(err)}`);
}

/** Refuses before anything is written: an existing file without `force`, a directory in the way. */
function checkTargets(io: CliIo, files: readonly OutputFile[], force: boolean): void {
  for (const file of files) {
    let stats;
    try {
      stats = lstatSync(resolve(io.cwd, file.path));
    } catch {
      continue; // not there (or not visible): the write below decides
    }
    if (!force) throw fileExists(file);
    if (stats.isDirectory()) {
      throw new CliError('ERR_CLI_FILE_UNWRITABLE', `cannot write "${file.path}": it is a directory`);
    }
  }
}

/** Writes each file to a fresh temporary in its target's directory (exclusive create, exact mode). */
function stage(io: CliIo, files: readonly OutputFile[], staged: Staged[]): void {
  for (const file of files) {
    const target = resolve(io.cwd, file.path);
    const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
    const mode = file.secret ? 0o600 : 0o644;
    try {
      writeFileSync(temporary, file.contents, { mode, flag: 'wx' });
      staged.push({ file, target, temporary });
      chmodSync(temporary, mode); // the umask may have taken bits away; 0600/0644 are meant exactly
    } catch (err) {
      throw unwritable(file, err);
    }
  }
}

/** Moves a staged file into place: renamed over the target with `force`, else linked (never replacing a file). */
function place({ file, target, temporary }: Staged, force: boolean): void {
  try {
    if (force) renameSync(temporary, target);
    else {
      linkSync(temporary, target);
      rmSync(temporary, { force: true });
    }
  } catch (err) {
    throw unwritable(file, err);
  }
}

/**
 * Writes files, refusing (`ERR_CLI_FILE_EXISTS`) if any exists and `force` is false. Every file is first written
 * to a temporary beside its target (so its mode is exact from the start: a private key never passes through a
 * readable file), and only when all are written are they moved into place, one rename (or, without `force`, one
 * link) each. A failure to write any of them — a missing directory, no permission, a full disk, a directory where
 * a file should go — leaves the existing files as they were and no temporary behind; what is left to fail after
 * that, a rename within one directory, fails only if the directory changes meanwhile.
 */
export function writeFiles(io: CliIo, files: readonly OutputFile[], force: boolean): void {
  checkTargets(io, files, force);
  const staged: Staged[] = [];
  try {
    stage(io, files, staged);
    for (const one of staged) place(one, force);
  } finally {
    for (const { temporary } of staged) rmSync(temporary, { force: true });
  }
}
