/**
 * The SQLite database holds password hashes and sealed keys: its file is created owner-only (0600) before SQLite opens
 * it, whatever the umask, and an existing file (with its `-wal` / `-shm` companions) that others can read is tightened
 * to 0600. SQLite gives the WAL and shared-memory files it creates the database file's permissions.
 */
import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';

/** Makes sure `filename` exists and it and its WAL companions are readable by the owner only. */
export function secureSqliteFile(filename: string): void {
  if (filename === ':memory:') return;
  if (!existsSync(filename)) closeSync(openSync(filename, 'a', 0o600));
  for (const path of [filename, `${filename}-wal`, `${filename}-shm`]) {
    if (existsSync(path) && (statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  }
}
