/**
 * Operators decide who gets in (issue 9): registration modes, the first-registrant rule outside production only,
 * the bootstrap admin that never takes over an account it did not create, admins creating users, the last-admin rule,
 * look-alike emails, the password policy, /metrics protection, the SQLite file mode and weak KEKs in production.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { commonPasswordListSize, ConfigError, ensureBootstrapAdmin, loadConfig } from '../src/index.js';
import { signUp, startServer, TEST_SETTINGS, type TestServer } from './support/jot-server.js';

const PASSWORD = 'correct horse battery';
const production = () => ({ nodeEnv: 'production' as const, kek: randomBytes(32).toString('base64url') });

async function reauth(server: TestServer, token: string): Promise<string> {
  const res = await server.request('POST', '/api/reauth', { token, body: { password: PASSWORD } });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

describe('registration', () => {
  it('is closed by default in production: 403 ERR_REGISTRATION_CLOSED, and nobody becomes admin by registering', async () => {
    const server = await startServer(production());
    try {
      expect(server.config.registration).toBe('closed');
      const res = await server.request('POST', '/api/register', {
        body: { email: 'a@example.com', password: PASSWORD },
      });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('ERR_REGISTRATION_CLOSED');
      expect(await server.app.jot.store.listUsers({ limit: 10 })).toEqual([]);
    } finally {
      await server.close();
    }
    const open = await startServer({ ...production(), registration: 'open' });
    try {
      const first = await open.request('POST', '/api/register', {
        body: { email: 'a@example.com', password: PASSWORD },
      });
      expect(first.status).toBe(201);
      expect(first.body.roles).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('is open in development, where the first account becomes the admin (recorded as roles_changed and admin_created)', async () => {
    expect(loadConfig({ env: {}, file: false, overrides: { dataDir: '/tmp/jot-unused' } }).registration).toBe(
      'open',
    );
    const server = await startServer();
    try {
      const tokens = await signUp(server, 'first@example.com', PASSWORD);
      const events = await server.app.jot.store.listSecurityEvents({ limit: 10, userId: tokens.userId });
      expect(events.map((e) => e.type).sort()).toEqual([
        'admin_created',
        'login_succeeded',
        'registered',
        'roles_changed',
      ]);
    } finally {
      await server.close();
    }
  });
});

describe('the bootstrap admin (JOT_ADMIN_EMAIL)', () => {
  it('refuses a JOT_ADMIN_PASSWORD the password policy refuses as a configuration error naming the setting', async () => {
    for (const [password, code] of [
      ['password1', 'ERR_PASSWORD_COMMON'],
      ['new-ops@example.com', 'ERR_WEAK_PASSWORD'],
    ] as const) {
      const server = await startServer({ adminEmail: 'new-ops@example.com', adminPassword: password });
      try {
        const refused = ensureBootstrapAdmin(server.app);
        await expect(refused).rejects.toBeInstanceOf(ConfigError);
        await expect(refused).rejects.toMatchObject({
          setting: 'JOT_ADMIN_PASSWORD',
          message: expect.stringContaining(`JOT_ADMIN_PASSWORD is refused by the password policy`),
        });
        await expect(refused).rejects.toThrow(code);
        // Nothing was created: a good password set later creates the account.
        expect(await server.app.jot.store.getUserByEmail('new-ops@example.com')).toBeUndefined();
      } finally {
        await server.close();
      }
    }
  });

  it('never promotes an account it did not create unless JOT_ADMIN_PASSWORD is its password', async () => {
    const attacker = await startServer({ registration: 'open', nodeEnv: 'test' });
    const dataDir = attacker.dataDir;
    // Someone registers the operator's address first (in another spelling), with their own password.
    await attacker.request('POST', '/api/register', {
      body: { email: 'someone-else@example.com', password: PASSWORD },
    });
    const reg = await attacker.request('POST', '/api/register', {
      body: { email: 'OPS@example.com', password: 'attacker password 1' },
    });
    expect(reg.status).toBe(201);
    await attacker.close({ keepData: true });

    const operator = await startServer(
      { adminEmail: 'ops@example.com', adminPassword: 'operator password 1' },
      { dataDir },
    );
    try {
      await expect(ensureBootstrapAdmin(operator.app)).rejects.toThrow(
        /JOT_ADMIN_EMAIL names an existing account .* JOT_ADMIN_PASSWORD is not its password/,
      );
      const login = await operator.request('POST', '/api/login', {
        body: { email: 'ops@example.com', password: 'attacker password 1' },
      });
      expect(login.status).toBe(200);
      expect(login.body.access_token).toBeDefined();
      const who = await operator.request('GET', '/api/whoami', { token: login.body.access_token });
      expect(who.body.user.roles).toEqual([]);
    } finally {
      await operator.close({ keepData: true });
    }

    // The real owner of the account (who knows its password) may promote it this way.
    const owner = await startServer(
      { adminEmail: 'ops@example.com', adminPassword: 'attacker password 1' },
      { dataDir },
    );
    try {
      await ensureBootstrapAdmin(owner.app);
      expect((await owner.app.jot.store.getUserByEmail('ops@example.com'))?.roles).toEqual(['admin']);
    } finally {
      await owner.close();
    }
  });

  it('creates the account when the address is free, and leaves it alone on later starts', async () => {
    const server = await startServer({
      ...production(),
      adminEmail: 'root@example.com',
      adminPassword: PASSWORD,
    });
    try {
      await ensureBootstrapAdmin(server.app);
      const user = await server.app.jot.store.getUserByEmail('root@example.com');
      expect(user).toMatchObject({ roles: ['admin'], createdVia: 'bootstrap' });
      await ensureBootstrapAdmin(server.app);
      const events = await server.app.jot.store.listSecurityEvents({ limit: 10, userId: user!.id });
      expect(events.map((e) => e.type).sort()).toEqual(['admin_created', 'user_created']);
    } finally {
      await server.close();
    }
  });
});

describe('admins create users and cannot remove the last admin', () => {
  let server: TestServer;
  let admin: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    server = await startServer({ stepUpMaxAge: '1s' });
    admin = await signUp(server, 'admin@example.com', PASSWORD);
  });
  afterAll(async () => {
    await server.close();
  });

  it('POST /api/admin/users needs the admin role and a fresh password, creates the account and records it', async () => {
    const body = {
      email: 'New@Example.com',
      password: 'a new long password',
      name: 'New',
      roles: ['support'],
    };
    const user = await signUp(server, 'plain@example.com', PASSWORD);
    expect(
      (await server.request('POST', '/api/admin/users', { token: user.access_token, body })).status,
    ).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const stale = await server.request('POST', '/api/admin/users', { token: admin.access_token, body });
    expect(stale.status).toBe(401);
    expect(stale.body.code).toBe('ERR_STEP_UP_REQUIRED');
    const fresh = await reauth(server, admin.access_token);
    const created = await server.request('POST', '/api/admin/users', { token: fresh, body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      email: 'New@Example.com',
      name: 'New',
      roles: ['support'],
      status: 'active',
    });
    const login = await server.request('POST', '/api/login', {
      body: { email: 'new@example.com', password: 'a new long password' },
    });
    expect(login.status).toBe(200);
    const again = await server.request('POST', '/api/admin/users', {
      token: fresh,
      body: { ...body, email: 'NEW@example.com' },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ERR_EMAIL_TAKEN');
    const weak = await server.request('POST', '/api/admin/users', {
      token: fresh,
      body: { email: 'w@example.com', password: 'password' },
    });
    expect(weak.body.code).toBe('ERR_PASSWORD_COMMON');
    const events = await server.request('GET', `/api/admin/events?user_id=${created.body.id}`, {
      token: fresh,
    });
    expect(events.body.events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['user_created', 'login_succeeded']),
    );
    expect(events.body.events.find((e: { type: string }) => e.type === 'user_created').detail).toEqual({
      via: 'admin',
      by: admin.userId,
    });
  });

  it('refuses to demote or disable the last active admin with 409 ERR_LAST_ADMIN', async () => {
    const token = await reauth(server, admin.access_token);
    const self = await server.request('PUT', `/api/admin/users/${admin.userId}/roles`, {
      token,
      body: { roles: [] },
    });
    expect(self.status).toBe(409);
    expect(self.body.code).toBe('ERR_LAST_ADMIN');
    // With a second admin, one may step down; the other is then the last.
    const second = await server.request('POST', '/api/admin/users', {
      token,
      body: { email: 'second@example.com', password: 'second long password', roles: ['admin'] },
    });
    expect(second.status).toBe(201);
    const events = await server.app.jot.store.listSecurityEvents({ limit: 10, userId: second.body.id });
    expect(events.map((e) => e.type)).toContain('admin_created');
    const down = await server.request('PUT', `/api/admin/users/${admin.userId}/roles`, {
      token,
      body: { roles: [] },
    });
    expect(down.status).toBe(200);
    const login = await server.request('POST', '/api/login', {
      body: { email: 'second@example.com', password: 'second long password' },
    });
    const other = login.body.access_token as string;
    expect(
      (
        await server.request('PUT', `/api/admin/users/${second.body.id}/roles`, {
          token: other,
          body: { roles: ['x'] },
        })
      ).body.code,
    ).toBe('ERR_LAST_ADMIN');
    // Give the role back so other tests keep an admin.
    await server.request('PUT', `/api/admin/users/${admin.userId}/roles`, {
      token: other,
      body: { roles: ['admin'] },
    });
    const disable = await server.request('POST', `/api/admin/users/${second.body.id}/disable`, {
      token: (
        await server.request('POST', '/api/login', {
          body: { email: 'admin@example.com', password: PASSWORD },
        })
      ).body.access_token,
    });
    expect(disable.status).toBe(200);
    const lastOne = await server.request('POST', '/api/login', {
      body: { email: 'admin@example.com', password: PASSWORD },
    });
    const me = await server.request('GET', '/api/whoami', { token: lastOne.body.access_token });
    expect(me.body.user.roles).toEqual(['admin']);
  });
});

describe('one account per person-visible address', () => {
  it('refuses look-alike spellings (409) and invisible characters (400), keeping the display form', async () => {
    const server = await startServer();
    try {
      const first = await server.request('POST', '/api/register', {
        body: { email: 'José.Ops@Example.com', password: PASSWORD },
      });
      expect(first.status).toBe(201);
      expect(first.body.email).toBe('José.Ops@Example.com');
      for (const email of [
        'jose\u0301.ops@example.com', // decomposed accent
        'ＪＯＳÉ.ops@example.com', // fullwidth letters
        'josé.ops@example.com.', // trailing dot
        'JOSÉ.OPS@EXAMPLE.COM',
      ]) {
        const res = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
        expect({ email, status: res.status, code: res.body.code }).toEqual({
          email,
          status: 409,
          code: 'ERR_EMAIL_TAKEN',
        });
      }
      for (const email of [
        'jos\u200bé.ops@example.com', // zero-width space
        'ops\u202e@example.com', // right-to-left override
        'ops\u2066x@example.com', // isolate
        'ops\u00ad@example.com', // soft hyphen
      ]) {
        const res = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
        expect({ status: res.status, code: res.body.code }).toEqual({
          status: 400,
          code: 'ERR_EMAIL_INVALID',
        });
      }
      // Control characters are refused by the input guard of every route, before the email rules.
      const control = await server.request('POST', '/api/register', {
        body: { email: 'op\u0001s@example.com', password: PASSWORD },
      });
      expect(control.status).toBe(400);
      const login = await server.request('POST', '/api/login', {
        body: { email: 'ＪＯＳÉ.OPS@example.com', password: PASSWORD },
      });
      expect(login.status).toBe(200);
      const users = await server.app.jot.store.listUsers({ limit: 10 });
      expect(users).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe('password policy (NIST SP 800-63B)', () => {
  it('bundles at least the 10,000 most common passwords and refuses them, whitespace-only and short ones', async () => {
    expect(commonPasswordListSize()).toBeGreaterThanOrEqual(10_000);
    const server = await startServer();
    try {
      const cases: [string, string][] = [
        ['password', 'ERR_PASSWORD_COMMON'],
        ['PASSWORD', 'ERR_PASSWORD_COMMON'],
        ['12345678', 'ERR_PASSWORD_COMMON'],
        ['iloveyou', 'ERR_PASSWORD_COMMON'],
        ['aaaaaaaaaa', 'ERR_PASSWORD_COMMON'],
        ['        ', 'ERR_PASSWORD_BLANK'],
        ['\u00a0 \u3000 \u00a0 \u3000 ', 'ERR_PASSWORD_BLANK'],
        ['short', 'ERR_WEAK_PASSWORD'],
        ['ÅÅÅÅÅÅÅ', 'ERR_WEAK_PASSWORD'],
      ];
      for (const [password, code] of cases) {
        const res = await server.request('POST', '/api/register', {
          body: { email: 'p@example.com', password },
        });
        expect({ password, status: res.status, code: res.body.code }).toEqual({
          password,
          status: 400,
          code,
        });
      }
      // No composition rules: a long lowercase passphrase is fine, so is a non-Latin one.
      for (const [i, password] of [
        'correct horse battery staple',
        'пароль-для-входа',
        'Tr0ub4dor&3x',
      ].entries()) {
        const res = await server.request('POST', '/api/register', {
          body: { email: `ok${i}@example.com`, password },
        });
        expect(res.status).toBe(201);
      }
    } finally {
      await server.close();
    }
  });
});

describe('operations', () => {
  it('protects /metrics with JOT_METRICS_TOKEN, and closes it in production without one', async () => {
    const token = 'm'.repeat(40);
    const server = await startServer({ metricsToken: token });
    try {
      for (const authorization of [undefined, 'Bearer wrong', `Basic ${token}`, `Bearer ${token}x`]) {
        const res = await server.request('GET', '/metrics', {
          headers: authorization === undefined ? {} : { authorization },
        });
        expect({ authorization, status: res.status, code: res.body.code }).toEqual({
          authorization,
          status: 401,
          code: 'ERR_METRICS_AUTH',
        });
      }
      const ok = await server.request('GET', '/metrics', { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('jot_');
    } finally {
      await server.close();
    }
    const prod = await startServer(production());
    try {
      expect((await prod.request('GET', '/metrics')).status).toBe(401);
    } finally {
      await prod.close();
    }
  });

  it('creates the SQLite database and its WAL owner-only (0600), whatever the umask', async () => {
    const previous = process.umask(0o022);
    try {
      const server = await startServer();
      try {
        await signUp(server, 'file@example.com', PASSWORD);
        const file = join(server.dataDir, 'jot.db');
        for (const path of [file, `${file}-wal`]) {
          expect({ path, mode: (statSync(path).mode & 0o777).toString(8) }).toEqual({ path, mode: '600' });
        }
      } finally {
        await server.close();
      }
    } finally {
      process.umask(previous);
    }
  });

  it('refuses a key-encryption key with too little entropy in production', () => {
    const load = (kek: string, nodeEnv: 'production' | 'development' = 'production') =>
      loadConfig({
        env: {},
        file: false,
        overrides: { ...TEST_SETTINGS, nodeEnv, kek, dataDir: '/tmp/jot-kek-test' },
      });
    const weak = [
      Buffer.alloc(32).toString('hex'),
      Buffer.alloc(32, 0xab).toString('base64url'),
      Buffer.from('abcd'.repeat(8)).toString('hex'),
      Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex'),
    ];
    for (const kek of weak) expect(() => load(kek)).toThrow(/JOT_KEK .*too little entropy/);
    expect(load(randomBytes(32).toString('base64url')).kek).toHaveLength(32);
    expect(load(weak[0]!, 'development').kek).toHaveLength(32);
  });
});
