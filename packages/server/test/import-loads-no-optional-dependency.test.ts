/**
 * Importing `@jot/server` (the server, its tests, `jot-server`, the CLI) loads none of the heavy dependencies that
 * only some deployments or requests use: @simplewebauthn/server (passkeys), nodemailer (the first mail), ioredis
 * (JOT_REDIS_URL), pg (PostgreSQL), the zxcvbn dictionary (the first password checked), `jose` (encrypted tokens).
 * Each is loaded at its first use (services/lazy-import.ts); together they were about 40% of the import time. The
 * built package is imported in a child process that records every module it loads, ESM (a loader hook) and CommonJS
 * (the require cache).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, describe, expect, it } from 'vitest';

import { requireBuiltServer } from './support/processes.js';

const SERVER = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'jot-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The files (paths or URLs) that importing `entry` in a fresh process loads. */
async function modulesLoadedBy(entry: string): Promise<string[]> {
  const list = join(dir, 'esm.txt');
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(list, '');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(list)}, url + '\\n');
  return next(url, context);
}`,
  );
  const script = `
import { createRequire, register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)});
await import(${JSON.stringify(pathToFileURL(entry).href)});
process.stdout.write(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  return [...readFileSync(list, 'utf8').split('\n'), ...(JSON.parse(stdout) as string[])].filter(Boolean);
}

const packageOf = (file: string): string | undefined =>
  /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1];

describe('importing @jot/server', () => {
  it('loads none of the dependencies only some deployments or requests use', async () => {
    requireBuiltServer();
    const packages = new Set((await modulesLoadedBy(SERVER)).map(packageOf));
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
