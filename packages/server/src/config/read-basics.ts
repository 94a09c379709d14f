/**
 * The settings every other one builds on, read first: the environment (`JOT_NODE_ENV`), the port, the data
 * directory, the database, the issuer and the audience.
 */
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
        return target.dialect === 'postgres' ? p.postgresUrl(target.connectionString) : target.filename;
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
