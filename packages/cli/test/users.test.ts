/**
 * `jot users add` against a temporary SQLite data directory, checked through the real server: the account signs in
 * with the password given, gets the roles asked for, and the creation is a security event admins can see.
 */
import { describe, expect, it } from 'vitest';

import { createServer, loadConfig } from '@jot/server';
import { errorLine, jot, serverEnv, tempDir } from './support.js';

const PASSWORD = 'correct horse battery';

async function withServer<T>(
  env: Record<string, string>,
  use: (app: Awaited<ReturnType<typeof createServer>>) => Promise<T>,
): Promise<T> {
  const app = await createServer({ config: loadConfig({ env, file: false }), logger: false });
  try {
    return await use(app);
  } finally {
    await app.close();
  }
}

describe('jot users add', () => {
  it('creates an account that signs in, with its roles, whatever JOT_REGISTRATION says, and records the event', async () => {
    const dir = tempDir();
    const env = serverEnv(dir, { PW: PASSWORD, JOT_REGISTRATION: 'closed' });
    const noPassword = await jot(['users', 'add', '--email', 'Ada@Example.com'], { env, cwd: dir });
    expect(errorLine(noPassword)).toMatch(/^jot: ERR_CLI_NO_TTY: /);
    const result = await jot(
      [
        'users',
        'add',
        '--email',
        'Ada@Example.com',
        '--name',
        'Ada',
        '--role',
        'admin',
        '--role',
        'billing',
      ].concat(['--password-env', 'PW', '--json']),
      { env, cwd: dir },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const created = JSON.parse(result.stdout) as { id: string; email: string; roles: string[] };
    expect(created).toMatchObject({ email: 'Ada@Example.com', name: 'Ada', roles: ['admin', 'billing'] });
    expect(result.stdout).not.toContain(PASSWORD);

    await withServer(env, async (app) => {
      const login = await app.inject({
        method: 'POST',
        url: '/api/login',
        payload: { email: 'ada@example.com', password: PASSWORD },
      });
      expect(login.statusCode).toBe(200);
      const events = await app.jot.store.listSecurityEvents({ limit: 50, userId: created.id });
      expect(events.map((e) => e.type)).toEqual(
        expect.arrayContaining(['user_created', 'admin_created', 'login_succeeded']),
      );
      expect(events.find((e) => e.type === 'user_created')?.detail).toEqual({ via: 'cli' });
      const register = await app.inject({
        method: 'POST',
        url: '/api/register',
        payload: { email: 'someone@example.com', password: PASSWORD },
      });
      expect(register.statusCode).toBe(403);
    });
  });

  it('refuses a look-alike of an existing address, a common password and a bad role, naming the problem', async () => {
    const dir = tempDir();
    const env = serverEnv(dir, { PW: PASSWORD, WEAK: 'password1', BLANK: '         ' });
    expect(
      (await jot(['users', 'add', '--email', 'ops@example.com', '--password-env', 'PW'], { env, cwd: dir }))
        .code,
    ).toBe(0);
    const twin = await jot(['users', 'add', '--email', 'ＯＰＳ@example.com.', '--password-env', 'PW'], {
      env,
      cwd: dir,
    });
    expect(twin.code).toBe(2);
    expect(errorLine(twin)).toBe('jot: ERR_CLI_ACCOUNT_EXISTS: an account with this email already exists');
    const weak = await jot(['users', 'add', '--email', 'b@example.com', '--password-env', 'WEAK'], {
      env,
      cwd: dir,
    });
    expect(errorLine(weak)).toMatch(
      /^jot: ERR_CLI_PASSWORD_REJECTED: this password is among the most commonly used/,
    );
    const blank = await jot(['users', 'add', '--email', 'b@example.com', '--password-env', 'BLANK'], {
      env,
      cwd: dir,
    });
    expect(errorLine(blank)).toBe('jot: ERR_CLI_PASSWORD_REJECTED: the password must not be only spaces');
    const role = await jot(
      ['users', 'add', '--email', 'b@example.com', '--role', 'a b', '--password-env', 'PW'],
      {
        env,
        cwd: dir,
      },
    );
    expect(errorLine(role)).toMatch(/^jot: ERR_CLI_USAGE: --role "a b"/);
    const invisible = await jot(['users', 'add', '--email', 'b\u200b@example.com', '--password-env', 'PW'], {
      env,
      cwd: dir,
    });
    expect(errorLine(invisible)).toMatch(
      /^jot: ERR_CLI_USAGE: --email must be an email address: the email contains control, zero-width/,
    );
  });
});
