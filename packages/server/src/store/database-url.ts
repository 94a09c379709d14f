/**
 * Decides which database a `JOT_DATABASE_URL` means. Shared by the store (to connect) and the
 * configuration loader (to reject a bad URL at start rather than at first query).
 */
import { isAbsolute, join, resolve } from 'node:path';

/** Where the data lives: a SQLite file (or `:memory:`) or a Postgres connection string. */
export type DatabaseTarget =
  | { readonly dialect: 'sqlite'; readonly filename: string }
  | { readonly dialect: 'postgres'; readonly connectionString: string };

/**
 * Resolves a database URL.
 *
 * - absent or empty: the SQLite file `<dataDir>/jot.db`
 * - `postgres://…` or `postgresql://…`: Postgres
 * - `:memory:`: an in-memory SQLite database (tests)
 * - `sqlite:<path>`, `sqlite://<path>`, `file:<path>` or a plain path: a SQLite file, relative to `cwd`
 *
 * @throws {TypeError} for any other `scheme:` URL.
 */
export function parseDatabaseUrl(
  url: string | undefined,
  dataDir: string,
  cwd = process.cwd(),
): DatabaseTarget {
  const value = url?.trim() ?? '';
  if (value === '') return { dialect: 'sqlite', filename: resolve(cwd, dataDir, 'jot.db') };
  if (/^postgres(ql)?:\/\//i.test(value)) return { dialect: 'postgres', connectionString: value };
  if (value === ':memory:') return { dialect: 'sqlite', filename: ':memory:' };
  const prefixed = /^(?:sqlite|file):(?:\/\/)?(.*)$/i.exec(value);
  const path = prefixed ? prefixed[1] : value;
  // Anything else that looks like a URL scheme (mysql://, http://) is a mistake, not a file name.
  // A Windows drive letter (C:\) is a single character and so is not taken for a scheme.
  if (path === undefined || path === '' || (!prefixed && /^[a-z][a-z0-9+.-]+:/i.test(value))) {
    throw new TypeError('unsupported database URL: use postgres://…, a SQLite file path, or :memory:');
  }
  if (path === ':memory:') return { dialect: 'sqlite', filename: ':memory:' };
  return { dialect: 'sqlite', filename: isAbsolute(path) ? path : join(resolve(cwd), path) };
}
