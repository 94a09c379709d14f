/**
 * `jot users|sessions|keys|outbox` against a temporary SQLite data directory, with the effects checked through the
 * real server (`createServer` + `app.inject`) on the same database: disabled users cannot sign in, revoked sessions
 * stop working, an invitation is queued and written as a development message, a deletion removes the account.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { createServer, loadConfig } from '@jot/server';
import { freePort } from '../../server/test/support/smtp.js';
import { errorLine, jot, serverEnv, tempDir } from './support.js';

const PASSWORD = 'correct horse battery';
const dataDir = tempDir();
const env = serverEnv(dataDir, { JOT_EMAIL_VERIFICATION: 'off' });
let app: FastifyInstance;

async function login(email: string): Promise<{ status: number; token?: string }> {
  const res = await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } });
  return { status: res.statusCode, token: res.json<{ access_token?: string }>().access_token };
}

async function whoami(token: string): Promise<number> {
  return (
    await app.inject({ method: 'GET', url: '/api/whoami', headers: { authorization: `Bearer ${token}` } })
  ).statusCode;
}

beforeAll(async () => {
  app = await createServer({ config: loadConfig({ env, file: false }), logger: false });
  for (const email of ['ada@example.com', 'bob@example.com', 'cy@example.com']) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/register',
      payload: { email, password: PASSWORD },
    });
    expect(res.statusCode).toBe(201);
  }
});
afterAll(async () => {
  await app.close();
});

describe('jot users', () => {
  it('lists with search, paging and a total; shows one user by email or id', async () => {
    const all = await jot(['users', 'list', '--json'], { env });
    expect(all.code).toBe(0);
    const listed = JSON.parse(all.stdout) as { users: { id: string; email: string }[]; total: number };
    expect(listed.total).toBe(3);
    const page = JSON.parse(
      (await jot(['users', 'list', '--limit', '1', '--offset', '1', '--json'], { env })).stdout,
    );
    expect(page.users.map((u: { email: string }) => u.email)).toEqual(['bob@example.com']);
    const found = await jot(['users', 'list', '--query', 'CY@'], { env });
    expect(found.stdout).toContain('cy@example.com');
    expect(found.stdout).toContain('1–1 of 1');
    const bob = listed.users[1]!;
    const show = await jot(['users', 'show', bob.id, '--json'], { env });
    expect(JSON.parse(show.stdout)).toMatchObject({
      email: 'bob@example.com',
      status: 'active',
      live_sessions: 0,
    });
    const missing = await jot(['users', 'show', 'nobody@example.com'], { env });
    expect(missing.code).toBe(2);
    expect(errorLine(missing)).toMatch(/^jot: ERR_CLI_NOT_FOUND: /);
  });

  it('disable stops existing tokens and sign-in at once; enable lets the user back', async () => {
    const before = await login('bob@example.com');
    expect(await whoami(before.token!)).toBe(200);
    expect((await jot(['users', 'disable', 'bob@example.com'], { env })).stdout).toContain('disabled');
    expect(await whoami(before.token!)).toBe(401);
    expect((await login('bob@example.com')).status).toBe(403);
    await jot(['users', 'enable', 'bob@example.com'], { env });
    expect((await login('bob@example.com')).status).toBe(200);
  });

  it('set-roles replaces the roles and makes tokens with the old ones stale', async () => {
    const before = await login('cy@example.com');
    const res = await jot(['users', 'set-roles', 'cy@example.com', 'editor,viewer', 'auditor', '--json'], {
      env,
    });
    expect(JSON.parse(res.stdout).roles).toEqual(['editor', 'viewer', 'auditor']);
    expect(await whoami(before.token!)).toBe(401);
    const bad = await jot(['users', 'set-roles', 'cy@example.com', 'no spaces!'], { env });
    expect(errorLine(bad)).toMatch(/^jot: ERR_CLI_USAGE: /);
  });

  it('invite queues the message and delivers it (here as a development .eml file)', async () => {
    const res = await jot(['users', 'invite', 'Dee@Example.com', '--roles', 'editor', '--json'], { env });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ email: 'dee@example.com', roles: ['editor'] });
    const files = readdirSync(join(dataDir, 'mail'));
    const eml = files
      .map((f) => readFileSync(join(dataDir, 'mail', f), 'utf8'))
      .find((t) => t.includes('dee@example.com'));
    expect(eml).toContain('accept-invitation?token=');
    const outbox = await jot(['outbox', 'list', '--json'], { env });
    const messages = JSON.parse(outbox.stdout).messages as { to: string; status: string; template: string }[];
    expect(messages).toContainEqual(
      expect.objectContaining({ to: 'dee@example.com', template: 'invitation', status: 'sent' }),
    );
    expect(outbox.stdout).not.toContain('token=');
  });

  it('delete needs --yes, then removes the account', async () => {
    const refused = await jot(['users', 'delete', 'cy@example.com'], { env });
    expect(errorLine(refused)).toMatch(/^jot: ERR_CLI_CONFIRM: /);
    expect((await login('cy@example.com')).status).toBe(200);
    const res = await jot(['users', 'delete', 'cy@example.com', '--yes'], { env });
    expect(res.stdout).toContain('deleted cy@example.com');
    expect((await login('cy@example.com')).status).toBe(401);
  });
});

describe('jot sessions', () => {
  it('lists a user’s live sessions and revokes one, or all of them', async () => {
    const first = await login('ada@example.com');
    const second = await login('ada@example.com');
    const listed = JSON.parse((await jot(['sessions', 'list', 'ada@example.com', '--json'], { env })).stdout);
    expect(listed.sessions.length).toBeGreaterThanOrEqual(2);
    const claims = JSON.parse(Buffer.from(first.token!.split('.')[1]!, 'base64url').toString()) as {
      sid: string;
    };
    expect((await jot(['sessions', 'revoke', claims.sid], { env })).stdout).toContain('revoked');
    expect(await whoami(first.token!)).toBe(401);
    expect(await whoami(second.token!)).toBe(200);
    expect((await jot(['sessions', 'revoke', '--user', 'ada@example.com'], { env })).code).toBe(0);
    expect(await whoami(second.token!)).toBe(401);
    const usage = await jot(['sessions', 'revoke'], { env });
    expect(errorLine(usage)).toMatch(/^jot: ERR_CLI_USAGE: /);
  });
});

describe('jot keys and jot outbox', () => {
  it('lists the signing keys and rotates', async () => {
    const before = JSON.parse((await jot(['keys', 'list', '--json'], { env })).stdout).keys as unknown[];
    expect(before.length).toBeGreaterThanOrEqual(1);
    const rotated = await jot(['keys', 'rotate', '--json'], { env });
    expect(JSON.parse(rotated.stdout).state).toBe('pending');
    const after = JSON.parse((await jot(['keys', 'list', '--json'], { env })).stdout).keys as unknown[];
    expect(after.length).toBe(before.length + 1);
  });

  it('records each rotation as key_rotated by cli, as the admin API does', async () => {
    const rotated = JSON.parse((await jot(['keys', 'rotate', '--json'], { env })).stdout) as {
      kid: string;
      alg: string;
      activates_at: string;
    };
    const urgent = JSON.parse((await jot(['keys', 'rotate', '--immediate', '--json'], { env })).stdout) as {
      kid: string;
      alg: string;
      activates_at: string;
    };
    const events = await app.jot.store.listSecurityEvents({ limit: 10, type: 'key_rotated' });
    for (const [key, immediate] of [
      [rotated, false],
      [urgent, true],
    ] as const) {
      const event = events.find((e) => e.detail.kid === key.kid);
      expect(event?.userId).toBeNull();
      expect(event?.detail).toEqual({
        kid: key.kid,
        alg: key.alg,
        immediate,
        activatesAt: Date.parse(key.activates_at),
        by: 'cli',
      });
    }
  });

  it('a message the mail server refused waits in the outbox; retry delivers it', async () => {
    const port = await freePort();
    const down = { ...env, JOT_SMTP_URL: `smtp://127.0.0.1:${port}` };
    expect((await jot(['users', 'invite', 'eve@example.com'], { env: down })).code).toBe(0);
    const pending = JSON.parse(
      (await jot(['outbox', 'list', '--status', 'pending', '--json'], { env })).stdout,
    ).messages as { id: string; to: string; attempts: number; last_error: string | null }[];
    const eve = pending.find((m) => m.to === 'eve@example.com')!;
    expect(eve.attempts).toBe(1);
    expect(eve.last_error).toMatch(/ECONNREFUSED|connect/i);
    expect((await jot(['outbox', 'retry', eve.id], { env })).stdout).toContain('1 message queued again');
    const sent = JSON.parse((await jot(['outbox', 'list', '--status', 'sent', '--json'], { env })).stdout)
      .messages as { id: string }[];
    expect(sent.map((m) => m.id)).toContain(eve.id);
  });

  it('a bad --status is a usage error', async () => {
    const bad = await jot(['outbox', 'list', '--status', 'lost'], { env });
    expect(errorLine(bad)).toMatch(/^jot: ERR_CLI_USAGE: /);
  });
});

describe('jot keys withdraw', () => {
  const list = async (): Promise<{ kid: string; state: string }[]> =>
    JSON.parse((await jot(['keys', 'list', '--json'], { env })).stdout).keys;

  it('takes a key that does not sign out of the JWKS, refuses the active key and a kid not published', async () => {
    const active = (await list()).find((k) => k.state === 'active')!;
    // `--` before a kid still works (a kid starting with `-` needs none: kid-starting-with-dash.test.ts).
    const refused = await jot(['keys', 'withdraw', '--', active.kid], { env });
    expect(refused.code).toBe(2);
    expect(errorLine(refused)).toMatch(/^jot: ERR_KEY_ACTIVE: key \S+ signs now/);
    expect((await list()).map((k) => k.kid)).toContain(active.kid);

    const pending = JSON.parse((await jot(['keys', 'rotate', '--json'], { env })).stdout) as { kid: string };
    const withdrawn = await jot(['keys', 'withdraw', '--json', '--', pending.kid], { env });
    expect(withdrawn.code).toBe(0);
    expect(JSON.parse(withdrawn.stdout)).toEqual({
      kid: pending.kid,
      alg: expect.any(String),
      withdrawn_at: expect.any(String),
    });
    expect((await list()).map((k) => k.kid)).not.toContain(pending.kid);
    expect((await list()).find((k) => k.state === 'active')?.kid).toBe(active.kid);
    const again = await jot(['keys', 'withdraw', '--', pending.kid], { env });
    expect(errorLine(again)).toMatch(/^jot: ERR_CLI_NOT_FOUND: no published signing key/);
  });

  it('rotate --immediate --withdraw replaces the ring; the server refuses the old tokens and refresh works', async () => {
    const session = await app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { email: 'ada@example.com', password: PASSWORD },
    });
    const { access_token: old, refresh_token: refresh } = session.json<{
      access_token: string;
      refresh_token: string;
    }>();
    expect(await whoami(old)).toBe(200);
    const usage = await jot(['keys', 'rotate', '--withdraw'], { env });
    expect(errorLine(usage)).toMatch(/^jot: ERR_CLI_USAGE: --withdraw needs --immediate/);
    const rotated = await jot(['keys', 'rotate', '--immediate', '--withdraw', '--json'], { env });
    expect(rotated.code).toBe(0);
    const key = JSON.parse(rotated.stdout) as { kid: string; state: string; withdrawn: string[] };
    expect(key.state).toBe('active');
    expect(key.withdrawn.length).toBeGreaterThanOrEqual(1);
    expect((await list()).map((k) => k.kid)).toEqual([key.kid]);
    await vi.waitFor(async () => expect(await whoami(old)).toBe(401), { timeout: 10_000, interval: 100 });
    const refreshed = await app.inject({
      method: 'POST',
      url: '/api/token/refresh',
      payload: { refresh_token: refresh },
    });
    expect(refreshed.statusCode).toBe(200);
    expect(await whoami(refreshed.json<{ access_token: string }>().access_token)).toBe(200);
  });
});
