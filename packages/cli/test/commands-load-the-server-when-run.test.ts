/**
 * `jot` loads `@jot/server` only when a command that uses it runs (src/lib/server.ts): `jot --help` and the commands
 * that need no server (`kek`, `secret`, `keygen`, `decode`, …) start without it, as does the help of those that do, which was most of `jot`'s start-up
 * time (about 1.2 s of `jot --help`'s 1.4 s on a 2-core machine, ~0.3 s without). The built CLI runs in a child process
 * whose every loaded module is recorded (an ESM loader hook and the require cache).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { modulesLoadedBy } from '../../server/test/support/loaded-modules.js';
import { serverEnv } from './support.js';

const CLI = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'jot-cli-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Newest modification time of the files under `path`. */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function requireBuiltCli(): void {
  const built = fileURLToPath(new URL('../dist/.tsbuildinfo', import.meta.url));
  if (newest(fileURLToPath(new URL('../src', import.meta.url))) > statSync(built).mtimeMs) {
    throw new Error('the build of @jot/cli is older than its sources: run `npm run build`');
  }
}

/** Runs the built `jot` with `args` and returns every file (path or URL) the process loaded. */
const cliLoads = (args: string[], env: Record<string, string> = {}): Promise<string[]> =>
  modulesLoadedBy([CLI, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env } });

const isServer = (file: string): boolean => /\/packages\/server\/|\/node_modules\/@jot\/server\//.test(file);

describe('jot and @jot/server', () => {
  it.each([
    '--help',
    'kek',
    'secret',
    'keygen --alg ES256',
    'decode eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
    'users --help',
  ])('`jot %s` does not load the server', async (command) => {
    requireBuiltCli();
    const loaded = await cliLoads(command.split(' '));
    expect(loaded.some((f) => /\/packages\/cli\//.test(f))).toBe(true);
    expect(loaded.filter(isServer)).toEqual([]);
  });

  it('`jot config check` loads it (the recording sees the server when a command uses it)', async () => {
    requireBuiltCli();
    const loaded = await cliLoads(['config', 'check', '--json'], serverEnv(join(dir, 'data')));
    expect(loaded.some(isServer)).toBe(true);
  });
});
