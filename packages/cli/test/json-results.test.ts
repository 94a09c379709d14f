/**
 * Every database command takes `--json` (docs/cli.md): the ones that only report an outcome — `users delete`,
 * `sessions revoke`, `outbox retry`, `clients remove` — print a small JSON result.
 */
import { describe, expect, it } from 'vitest';

import { jot, serverEnv, tempDir } from './support.js';

const PASSWORD = 'correct horse battery';

async function setup(): Promise<{ dir: string; env: Record<string, string>; id: string }> {
  const dir = tempDir();
  const env = serverEnv(dir, { PW: PASSWORD });
  const add = (email: string, extra: string[] = []) =>
    jot(['users', 'add', '--email', email, '--password-env', 'PW', '--json', ...extra], { env, cwd: dir });
  expect((await add('root@example.com', ['--role', 'admin'])).code).toBe(0);
  const bob = await add('bob@example.com');
  return { dir, env, id: (JSON.parse(bob.stdout) as { id: string }).id };
}

describe('--json results', () => {
  it('users delete', async () => {
    const { dir, env, id } = await setup();
    const r = await jot(['users', 'delete', 'bob@example.com', '--yes', '--json'], { env, cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ id, email: 'bob@example.com', deleted: true });
  });

  it('sessions revoke --user', async () => {
    const { dir, env, id } = await setup();
    const r = await jot(['sessions', 'revoke', '--user', 'bob@example.com', '--json'], { env, cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ user_id: id, revoked_all: true });
  });

  it('outbox retry', async () => {
    const { dir, env } = await setup();
    const r = await jot(['outbox', 'retry', '--json'], { env, cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ queued: 0, not_found: [] });
  });

  it('clients remove', async () => {
    const { dir, env } = await setup();
    const add = ['clients', 'add', '--name', 'Reports', '--id', 'reports', '--auth', 'client_secret_basic'];
    add.push('--scope', 'orders:read', '--audience', 'https://orders.internal');
    const added = await jot(add, { env, cwd: dir });
    expect(added.code, added.stderr).toBe(0);
    const r = await jot(['clients', 'remove', 'reports', '--yes', '--json'], { env, cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ client_id: 'reports', removed: true });
  });
});
