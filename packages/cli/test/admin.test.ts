/**
 * `jot admin create` against a temporary SQLite data directory, checked by logging in through the real server
 * (`createServer` + `app.inject`) with the password the CLI was given.
 */
import { Buffer } from 'node:buffer';
import { createServer as createNetServer } from 'node:net';

import { describe, expect, it, vi } from 'vitest';

import { createServer, loadConfig, openStore } from '@jot/server';
import type * as JotServer from '@jot/server';
import { errorLine, fakeTty, jot, serverEnv, tempDir } from './support.js';

/** Runs (when set) just before the CLI's admin operations change a user's roles: another writer's turn. */
const beforeGrantAdmin = vi.hoisted(() => ({ hook: undefined as (() => Promise<void>) | undefined }));

vi.mock('@jot/server', async (importOriginal) => {
  const server = await importOriginal<typeof JotServer>();
  return {
    ...server,
    openAdminOps: async (...args: Parameters<typeof server.openAdminOps>) => {
      const ops = await server.openAdminOps(...args);
      const grantAdmin = ops.grantAdmin.bind(ops);
      const setRoles = ops.setRoles.bind(ops);
      // (A plain object of closures: the copy works as the original does.) Either way of changing the roles.
      return {
        ...ops,
        grantAdmin: async (...grantArgs: Parameters<typeof ops.grantAdmin>) => {
          await beforeGrantAdmin.hook?.();
          return grantAdmin(...grantArgs);
        },
        setRoles: async (...roleArgs: Parameters<typeof ops.setRoles>) => {
          await beforeGrantAdmin.hook?.();
          return setRoles(...roleArgs);
        },
      };
    },
  };
});

/** A local port with nothing listening. */
async function deadPort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const PASSWORD = 'correct horse battery';

async function login(
  env: Record<string, string>,
  email: string,
  password: string,
): Promise<{ status: number; roles?: string[] }> {
  const app = await createServer({ config: loadConfig({ env, file: false }), logger: false });
  try {
    const response = await app.inject({ method: 'POST', url: '/api/login', payload: { email, password } });
    const body = response.json<{ access_token?: string }>();
    const claims =
      body.access_token === undefined
        ? undefined
        : (JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString()) as {
            roles: string[];
          });
    return { status: response.statusCode, roles: claims?.roles };
  } finally {
    await app.close();
  }
}

async function register(env: Record<string, string>, email: string, password: string): Promise<number> {
  const app = await createServer({ config: loadConfig({ env, file: false }), logger: false });
  try {
    return (await app.inject({ method: 'POST', url: '/api/register', payload: { email, password } }))
      .statusCode;
  } finally {
    await app.close();
  }
}

/**
 * A data directory with an admin made by the CLI (root@example.com) and a registered account, dev@example.com, for
 * `jot admin create` to promote. The admin comes first: the first account registered would be made admin.
 */
async function accountToPromote(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = tempDir();
  const env = serverEnv(dir, { ADMIN_PASSWORD: PASSWORD });
  const root = ['admin', 'create', '--email', 'root@example.com', '--password-env', 'ADMIN_PASSWORD'];
  expect((await jot(root, { env, cwd: dir })).code).toBe(0);
  expect(await register(env, 'dev@example.com', 'dev password 1')).toBe(201);
  return { dir, env };
}

/**
 * Runs `jot admin create --email dev@example.com --json` with `between` run by another writer (its own store on the
 * same data directory) after the CLI read the account and before its grant; returns the exit code and the answer.
 */
async function promoteWhile(
  dir: string,
  env: Record<string, string>,
  between: (other: JotServer.Store, userId: string) => Promise<void>,
): Promise<{ code: number; answer: unknown }> {
  beforeGrantAdmin.hook = async () => {
    const other = await openStore({ dataDir: dir });
    try {
      const user = await other.getUserByEmail('dev@example.com');
      await between(other, user!.id);
    } finally {
      await other.close();
    }
  };
  try {
    const result = await jot(['admin', 'create', '--email', 'dev@example.com', '--json'], { env, cwd: dir });
    return { code: result.code, answer: result.code === 0 ? JSON.parse(result.stdout) : result.stderr };
  } finally {
    beforeGrantAdmin.hook = undefined;
  }
}

describe('jot admin create', () => {
  it('creates an admin who can then log in to the server with that password', async () => {
    const dir = tempDir();
    const env = serverEnv(dir, { ADMIN_PASSWORD: PASSWORD });
    const result = await jot(
      ['admin', 'create', '--email', 'Root@Example.com', '--password-env', 'ADMIN_PASSWORD'],
      { env, cwd: dir },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^created admin root@example\.com \(id [\w-]+\)\n$/);
    expect(result.stdout).not.toContain(PASSWORD);
    expect(await login(env, 'root@example.com', PASSWORD)).toEqual({ status: 200, roles: ['admin'] });
    expect((await login(env, 'root@example.com', 'wrong password')).status).toBe(401);

    const again = await jot(['admin', 'create', '--email', 'root@example.com', '--json'], { env, cwd: dir });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ email: 'root@example.com', action: 'unchanged' });
  });

  it('promotes an existing account without touching its password or asking for one', async () => {
    const { dir, env } = await accountToPromote();
    expect((await login(env, 'dev@example.com', 'dev password 1')).roles).toEqual([]);

    const result = await jot(['admin', 'create', '--email', 'dev@example.com', '--json'], { env, cwd: dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ email: 'dev@example.com', action: 'promoted' });
    expect(await login(env, 'dev@example.com', 'dev password 1')).toEqual({ status: 200, roles: ['admin'] });
  });

  it('promoting an existing account publishes the roles change to the revocation feed, as set-roles does', async () => {
    const { dir, env } = await accountToPromote();
    const result = await jot(['admin', 'create', '--email', 'dev@example.com', '--json'], { env, cwd: dir });
    expect(result.code).toBe(0);
    const { id, action } = JSON.parse(result.stdout) as { id: string; action: string };
    expect(action).toBe('promoted');

    const store = await openStore({ dataDir: dir });
    try {
      const user = await store.getUserById(id);
      expect(user?.roles).toEqual(['admin']);
      // Roles travel in access tokens: a verifier following the feed must see the new token version.
      const feed = await store.listRevocationsSince(undefined, 100);
      expect(feed.entries.filter((e) => e.kind === 'user' && e.subject === id)).toEqual([
        expect.objectContaining({ data: expect.objectContaining({ ver: user?.tokenVersion }) }),
      ]);
      // And the admin API's events, by the CLI: the roles before and after, and the admin role granted.
      const events = await store.listSecurityEvents({ limit: 50, userId: id });
      expect(events.find((e) => e.type === 'roles_changed')?.detail).toMatchObject({
        by: 'cli',
        roles: ['admin'],
        before: [],
      });
      expect(events.filter((e) => e.type === 'admin_created').map((e) => e.detail)).toEqual([
        expect.objectContaining({ via: 'roles', by: 'cli' }),
      ]);
    } finally {
      await store.close();
    }
  });

  it('promoting with Redis required but unreachable changes nothing (still unverified, not admin)', async () => {
    const { dir, env } = await accountToPromote();
    const setup = await openStore({ dataDir: dir });
    const before = await setup.getUserByEmail('dev@example.com');
    await setup.close();
    expect(before?.emailVerifiedAt).toBeNull();

    const port = await deadPort();
    const redisEnv = { ...env, JOT_REDIS_URL: `redis://127.0.0.1:${port}` };
    const result = await jot(['admin', 'create', '--email', 'dev@example.com'], { env: redisEnv, cwd: dir });
    expect(result.code).toBe(2);
    expect(errorLine(result)).toMatch(/^jot: ERR_UNAVAILABLE: .*Redis/);
    expect(result.stdout).toBe('');

    const store = await openStore({ dataDir: dir });
    try {
      const after = await store.getUserByEmail('dev@example.com');
      expect(after?.emailVerifiedAt).toBeNull();
      expect(after?.roles).toEqual([]);
      expect(after?.tokenVersion).toBe(before?.tokenVersion);
    } finally {
      await store.close();
    }
  });

  it('promoting keeps roles another writer gave the account after the CLI read it', async () => {
    const { dir, env } = await accountToPromote();
    // Between the CLI's read of the account and its promotion, another path (an admin's set-roles) adds a role.
    const result = await promoteWhile(dir, env, async (other, userId) => {
      await other.setRoles(userId, ['editor']);
    });
    expect(result).toMatchObject({ code: 0, answer: { action: 'promoted' } });
    const store = await openStore({ dataDir: dir });
    try {
      const user = await store.getUserByEmail('dev@example.com');
      expect(user?.roles).toEqual(['editor', 'admin']);
      const events = await store.listSecurityEvents({ limit: 50, userId: user!.id });
      expect(events.find((e) => e.type === 'roles_changed' && e.detail.by === 'cli')?.detail).toMatchObject({
        roles: ['editor', 'admin'],
        before: ['editor'],
      });
    } finally {
      await store.close();
    }
  });

  it('an account made admin after the CLI read it is left as it is and reported unchanged (no second grant)', async () => {
    const { dir, env } = await accountToPromote();
    let version: number | undefined;
    // Between the CLI's read and its grant, another writer (a second `jot admin create`, an admin) grants it.
    const result = await promoteWhile(dir, env, async (other, userId) => {
      const promoted = await other.setRoles(userId, ['admin']);
      version = typeof promoted === 'object' ? promoted.tokenVersion : undefined;
    });
    expect(result).toMatchObject({ code: 0, answer: { action: 'unchanged' } });
    const store = await openStore({ dataDir: dir });
    try {
      const user = await store.getUserByEmail('dev@example.com');
      expect(user?.roles).toEqual(['admin']);
      expect(user?.tokenVersion).toBe(version);
      const events = await store.listSecurityEvents({ limit: 50, userId: user!.id });
      expect(events.filter((e) => e.detail.by === 'cli')).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('prompts twice on a terminal, without echo, when no --password-env is given', async () => {
    const dir = tempDir();
    const env = serverEnv(dir);
    const tty = fakeTty();
    let typed = 0;
    const result = await jot(['admin', 'create', '--email', 'tty@example.com'], {
      env,
      cwd: dir,
      stdin: tty,
      onStderr: (text) => {
        const prompts = (text.match(/Password for tty@example\.com: |Repeat the password: /g) ?? []).length;
        if (prompts > typed) {
          typed = prompts;
          setImmediate(() => tty.type('s3cret-pw!x\u007fX\r'));
        }
      },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('s3cret');
    expect(tty.rawModes).toEqual([true, false, true, false]);
    expect((await login(env, 'tty@example.com', 's3cret-pw!X')).status).toBe(200);
  });

  it('refuses when the two prompted passwords differ, and creates nothing', async () => {
    const dir = tempDir();
    const env = serverEnv(dir);
    const tty = fakeTty();
    const answers = ['first password', 'second password'];
    const result = await jot(['admin', 'create', '--email', 'tty@example.com'], {
      env,
      cwd: dir,
      stdin: tty,
      onStderr: (text) => {
        if (text.endsWith(': ')) setImmediate(() => tty.type(`${answers.shift() ?? ''}\r`));
      },
    });
    expect(result.code).toBe(2);
    expect(errorLine(result)).toBe('jot: ERR_CLI_PASSWORD_REJECTED: the two passwords differ');
    expect((await login(env, 'tty@example.com', 'first password')).status).toBe(401);
  });

  it('exits 130 when Ctrl-C is pressed at the prompt', async () => {
    const tty = fakeTty();
    const dir = tempDir();
    const result = await jot(['admin', 'create', '--email', 'tty@example.com'], {
      env: serverEnv(dir),
      cwd: dir,
      stdin: tty,
      onStderr: (text) => {
        if (text.endsWith(': ')) setImmediate(() => tty.type('abc\u0003'));
      },
    });
    expect(result.code).toBe(130);
    expect(errorLine(result)).toBe('jot: ERR_CLI_ABORTED: cancelled');
  });

  it('refuses passwords under 8 characters, or equal to the email', async () => {
    const dir = tempDir();
    for (const [password, message] of [
      ['short', 'passwords must be 8 to 1024 characters'],
      ['A@Example.com', 'the password must not be the email address'],
    ]) {
      const env = serverEnv(dir, { PW: password! });
      const result = await jot(['admin', 'create', '--email', 'a@example.com', '--password-env', 'PW'], {
        env,
        cwd: dir,
      });
      expect(result.code).toBe(2);
      expect(errorLine(result)).toBe(`jot: ERR_CLI_PASSWORD_REJECTED: ${message}`);
      expect(result.stderr).not.toContain(`: ${password}`);
    }
    expect((await login(serverEnv(dir), 'a@example.com', 'A@Example.com')).status).toBe(401);
  });

  it('fails clearly without a password source, with an unset variable, or with a bad email', async () => {
    const dir = tempDir();
    const env = serverEnv(dir);
    const noTty = await jot(['admin', 'create', '--email', 'a@example.com'], { env, cwd: dir });
    expect(errorLine(noTty)).toBe(
      'jot: ERR_CLI_NO_TTY: no password: pass --password-env <VAR>, or run in a terminal to be prompted',
    );
    const unset = await jot(['admin', 'create', '--email', 'a@example.com', '--password-env', 'NOPE'], {
      env,
      cwd: dir,
    });
    expect(errorLine(unset)).toBe(
      'jot: ERR_CLI_ENV_MISSING: the environment variable NOPE (from --password-env) is not set',
    );
    const badEmail = await jot(['admin', 'create', '--email', 'not-an-email'], { env, cwd: dir });
    expect(errorLine(badEmail)).toBe(
      'jot: ERR_CLI_USAGE: --email must be an email address: expected one email address, like name@example.com',
    );
    for (const result of [noTty, unset, badEmail]) expect(result.code).toBe(2);
  });

  // Review M1: the URL host parser behind the IDNA conversion stopped at a URL delimiter, so dev@example.com#x
  // found (and promoted) dev@example.com, and root@example.com/x answered "unchanged" for the admin.
  it('refuses an --email with a malformed domain before any lookup: nothing found, promoted or created', async () => {
    const { dir, env } = await accountToPromote();
    const run = (args: string[]) => jot(args, { env: { ...env, PW: PASSWORD }, cwd: dir });
    const results = [
      await run(['admin', 'create', '--email', 'dev@example.com#x', '--json']),
      await run(['admin', 'create', '--email', 'root@example.com/x', '--json']),
      await run(['users', 'add', '--email', 'dev@example.com?x', '--password-env', 'PW', '--json']),
      await run(['users', 'add', '--email', 'new@[::1]', '--password-env', 'PW', '--json']),
      await run(['users', 'invite', 'dev@example.com:25']),
    ];
    expect(results.map((r) => ({ code: r.code, stdout: r.stdout, error: errorLine(r) }))).toEqual([
      {
        code: 2,
        stdout: '',
        error:
          'jot: ERR_CLI_USAGE: --email must be an email address: the email domain must not contain "#"; expected an address like name@example.com',
      },
      {
        code: 2,
        stdout: '',
        error: expect.stringMatching(/^jot: ERR_CLI_USAGE: --email .*must not contain "\/"/),
      },
      {
        code: 2,
        stdout: '',
        error: expect.stringMatching(/^jot: ERR_CLI_USAGE: --email .*must not contain "\?"/),
      },
      {
        code: 2,
        stdout: '',
        error: expect.stringMatching(/^jot: ERR_CLI_USAGE: --email .*must not contain "\["/),
      },
      { code: 2, stdout: '', error: expect.stringMatching(/^jot: ERR_CLI_USAGE: .*must not contain ":"/) },
    ]);
    expect(await login(env, 'dev@example.com', 'dev password 1')).toEqual({ status: 200, roles: [] });
    const store = await openStore({ dataDir: dir });
    try {
      expect((await store.listUsers({ limit: 10 })).map((u) => u.email).sort()).toEqual([
        'dev@example.com',
        'root@example.com',
      ]);
      expect(await store.listOpenInvitations(10)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('exits 2 naming the variable when the configuration is invalid', async () => {
    const dir = tempDir();
    const env = serverEnv(dir, { JOT_ARGON2_TIME_COST: 'two', PW: PASSWORD });
    const result = await jot(['admin', 'create', '--email', 'a@example.com', '--password-env', 'PW'], {
      env,
      cwd: dir,
    });
    expect(result.code).toBe(2);
    expect(errorLine(result)).toMatch(/^jot: ERR_CONFIG_INVALID: JOT_ARGON2_TIME_COST is invalid: /);
  });
});
