/**
 * Bad option values are refused instead of being silently replaced: `--limit`/`--offset` that are not whole numbers
 * in range, `outbox retry` with an id that names no unsent message, `clients add --jwks-file` with a file that is
 * not JSON.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { errorLine, jot, serverEnv, tempDir } from './support.js';

describe('--limit and --offset', () => {
  it.each([
    ['users', 'list', '--limit', 'abc'],
    ['users', 'list', '--limit', '0'],
    ['users', 'list', '--limit', '10x'],
    ['users', 'list', '--offset', '-1'],
    ['outbox', 'list', '--limit', 'abc'],
  ])('%s %s %s %s is a usage error', async (...args) => {
    const dir = tempDir();
    const r = await jot(args, { env: serverEnv(dir), cwd: dir });
    expect(r.code).toBe(2);
    expect(errorLine(r)).toMatch(new RegExp(`^jot: ERR_CLI_USAGE: .*${args[2]}`));
  });

  it('a valid --limit is used', async () => {
    const dir = tempDir();
    const r = await jot(['users', 'list', '--limit', '5', '--json'], { env: serverEnv(dir), cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ users: [], total: 0 });
  });
});

describe('jot outbox retry <id>', () => {
  it('names an id that is no unsent message and exits 2', async () => {
    const dir = tempDir();
    const id = '00000000-0000-4000-8000-000000000000';
    const r = await jot(['outbox', 'retry', id], { env: serverEnv(dir), cwd: dir });
    expect(r.code).toBe(2);
    expect(errorLine(r)).toMatch(new RegExp(`^jot: ERR_CLI_NOT_FOUND: .*${id}`));
  });
});

describe('jot clients add --jwks-file', () => {
  it('a file that is not JSON is a usage error naming the file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'keys.json'), '{"keys": [');
    const r = await jot(
      ['clients', 'add', '--name', 'Billing', '--auth', 'private_key_jwt', '--jwks-file', 'keys.json'],
      { env: serverEnv(dir), cwd: dir },
    );
    expect(r.code).toBe(2);
    expect(errorLine(r)).toMatch(/^jot: ERR_CLI_USAGE: .*keys\.json/);
  });
});
