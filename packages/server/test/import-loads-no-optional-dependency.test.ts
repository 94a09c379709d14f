/**
 * Importing `@jot/server` (the server, its tests, `jot-server`, the CLI) loads none of the heavy dependencies that
 * only some deployments or requests use: @simplewebauthn/server (passkeys), nodemailer (the first mail), ioredis
 * (JOT_REDIS_URL), pg (PostgreSQL), the zxcvbn dictionary (the first password checked), `jose` (encrypted tokens).
 * Each is loaded at its first use (services/lazy-import.ts); together they were about 40% of the import time. The
 * built package is imported in a child process that records every module it loads, ESM (a loader hook) and CommonJS
 * (the require cache).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';

import { describe, expect, it } from 'vitest';

import { modulesLoadedBy, packageOf } from './support/loaded-modules.js';
import { requireBuiltServer } from './support/processes.js';

const SERVER = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('importing @jot/server', () => {
  it('loads none of the dependencies only some deployments or requests use', async () => {
    requireBuiltServer();
    const packages = new Set(
      (
        await modulesLoadedBy([
          '--input-type=module',
          '-e',
          `await import(${JSON.stringify(pathToFileURL(SERVER).href)})`,
        ])
      ).map(packageOf),
    );
    // The recording sees both kinds of module: fastify is CommonJS, kysely ESM; the server needs both at start.
    expect(packages).toContain('fastify');
    expect(packages).toContain('kysely');
    const optional = [
      '@simplewebauthn/server',
      'nodemailer',
      'ioredis',
      'pg',
      '@zxcvbn-ts/language-common',
      'jose',
    ];
    expect(optional.filter((name) => packages.has(name))).toEqual([]);
  });
});
