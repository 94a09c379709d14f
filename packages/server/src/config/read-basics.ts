/**
 * The settings every other one builds on, read first: the environment (`NODE_ENV`), the port, the data
 * directory, the database, the issuer and the audience.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';

import { parseDatabaseUrl } from '../store/database-url.js';
import * as p from './parsers.js';
import type { SettingsReader } from './reader.js';
import type { Config, NodeEnv } from './types.js';

/** The basic settings, and whether this is production. */
export type Basics = Pick<
  Config,
  'nodeEnv' | 'port' | 'dataDir' | 'databaseUrl' | 'databaseNamedStatements' | 'issuer' | 'audience'
> & {
  production: boolean;
};

/** Reads the basics; relative paths are resolved against `cwd`. */
export function readBasics({ read, get, missing }: SettingsReader, cwd: string): Basics {
  const nodeEnv = get<NodeEnv>('nodeEnv', (v) => p.oneOf(v, ['development', 'production', 'test']));
  const production = nodeEnv === 'production';
  const port = get('port', (v) => p.integer(v, 0, 65535));
  const dataDir = resolve(cwd, get('dataDir', p.string));
  const databaseUrl =
    read('databaseUrl', (v) => {
      try {
        const target = parseDatabaseUrl(p.string(v), dataDir, cwd);
        if (target.dialect === 'sqlite') return target.filename;
        const url = p.postgresUrl(target.connectionString);
        checkPostgresFiles(url, cwd);
        return url;
      } catch (err) {
        throw err instanceof TypeError
          ? new p.Invalid('expected postgres://…, a SQLite file path, or :memory:')
          : err;
      }
    }) ?? resolve(dataDir, 'jot.db');
  const databaseNamedStatements = get('databaseNamedStatements', p.boolean);

  const issuer =
    read('issuer', p.httpUrl) ??
    (production
      ? missing('issuer', 'it is the "iss" of every token, e.g. https://auth.example.com')
      : `http://localhost:${port}`);
  const audience = read('audience', (v) => {
    const items = p.list(v);
    if (items.length === 0) throw new p.Invalid('expected one or more audience values, comma-separated');
    return items;
  }) ?? [issuer];
  return { nodeEnv, production, port, dataDir, databaseUrl, databaseNamedStatements, issuer, audience };
}

/**
 * Refuses a Postgres URL naming a certificate file (`sslrootcert`, `sslcert`, `sslkey`) that pg could not read when it
 * connects, naming the parameter and the path (never the rest of the URL, which may hold a password): otherwise the
 * server fails to start with pg's bare ENOENT. Each file is looked at, not read; a relative path is taken from `cwd`.
 */
function checkPostgresFiles(url: string, cwd: string): void {
  for (const { parameter, path } of p.postgresFiles(url)) {
    const problem = fileProblem(resolve(cwd, path));
    if (problem !== undefined) {
      throw new p.Invalid(
        `its ${parameter} parameter names ${path}, which ${problem}; pg reads that file when it connects: give the ` +
          `path of a readable file, or remove ${parameter}`,
      );
    }
  }
}

/** Why pg could not read the file at `path` ("does not exist (ENOENT)"), or undefined when it can. */
function fileProblem(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'is not a file';
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    if (code === 'ENOENT' || code === 'ENOTDIR') return `does not exist (${code})`;
    if (code === 'EACCES' || code === 'EPERM') return `this process cannot read (${code})`;
    return `cannot be read (${code})`;
  }
}
