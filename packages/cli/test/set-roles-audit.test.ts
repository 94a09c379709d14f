/**
 * `jot users set-roles` and `jot users disable|enable` go through the admin API's own services: granting admin
 * records `admin_created`, `roles_changed` carries the roles before, and each change is recorded `by: 'cli'`.
 */
import { describe, expect, it } from 'vitest';

import { openStore } from '@jot/server';
import { errorLine, jot, serverEnv, tempDir } from './support.js';

const PASSWORD = 'correct horse battery';

async function eventsOf(dir: string, userId: string) {
  const store = await openStore({ dataDir: dir });
  try {
    return await store.listSecurityEvents({ limit: 50, userId });
  } finally {
    await store.close();
  }
}

async function addUsers(dir: string, env: Record<string, string>): Promise<string> {
  const root = ['users', 'add', '--email', 'root@example.com', '--role', 'admin', '--password-env', 'PW'];
  expect((await jot(root, { env, cwd: dir })).code).toBe(0);
  const bob = await jot(
    ['users', 'add', '--email', 'bob@example.com', '--role', 'editor', '--password-env', 'PW', '--json'],
    {
      env,
      cwd: dir,
    },
  );
  return (JSON.parse(bob.stdout) as { id: string }).id;
}

describe('jot users set-roles', () => {
  it('granting admin records roles_changed (with the roles before) and admin_created, as the API does', async () => {
    const dir = tempDir();
    const env = serverEnv(dir, { PW: PASSWORD });
    const id = await addUsers(dir, env);
    const r = await jot(['users', 'set-roles', 'bob@example.com', 'admin'], { env, cwd: dir });
    expect(r.code).toBe(0);
    const events = await eventsOf(dir, id);
    const changed = events.find((e) => e.type === 'roles_changed');
    expect(changed?.detail).toMatchObject({ by: 'cli', roles: ['admin'], before: ['editor'] });
    expect(events.find((e) => e.type === 'admin_created')?.detail).toMatchObject({ via: 'roles', by: 'cli' });
  });

  it('refuses to demote the last admin with ERR_LAST_ADMIN', async () => {
    const dir = tempDir();
    const env = serverEnv(dir, { PW: PASSWORD });
    await addUsers(dir, env);
    const r = await jot(['users', 'set-roles', 'root@example.com', 'editor'], { env, cwd: dir });
    expect(r.code).toBe(2);
    expect(errorLine(r)).toMatch(/^jot: ERR_LAST_ADMIN: /);
  });
});

describe('jot users disable', () => {
  it('records user_disabled by the CLI and refuses the last admin', async () => {
    const dir = tempDir();
    const env = serverEnv(dir, { PW: PASSWORD });
    const id = await addUsers(dir, env);
    expect((await jot(['users', 'disable', 'bob@example.com'], { env, cwd: dir })).code).toBe(0);
    const events = await eventsOf(dir, id);
    expect(events.find((e) => e.type === 'user_disabled')?.detail).toMatchObject({ by: 'cli' });
    const last = await jot(['users', 'disable', 'root@example.com'], { env, cwd: dir });
    expect(errorLine(last)).toMatch(/^jot: ERR_LAST_ADMIN: /);
  });
});
