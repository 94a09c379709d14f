/**
 * What `jot … --json` prints is what the admin API answers for the same records: the `@jot/contract` views the
 * server's routes are pinned to (packages/contract/test/conformance.test.ts). Each command runs against a temporary
 * SQLite data directory and its output is compared with the real server's answer (`createServer` + `app.inject`)
 * on the same database, so the CLI cannot print a shape of its own.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type {
  ClientListView,
  ClientView,
  InvitationListView,
  SessionListView,
  SigningKeyListView,
  SigningKeyView,
  UserPageView,
  UserView,
} from '@jot/contract';
import { createServer, loadConfig } from '@jot/server';
import { jot, serverEnv, tempDir } from './support.js';

const PASSWORD = 'correct horse battery';
const env = serverEnv(tempDir(), { JOT_EMAIL_VERIFICATION: 'off' });
let app: FastifyInstance;
let adminToken: string;

/** The admin API's JSON answer to `GET path`. */
async function api<T>(path: string, token = adminToken): Promise<T> {
  const res = await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token}` } });
  expect(res.statusCode, path).toBe(200);
  return res.json<T>();
}

/** What `jot …args --json` printed, parsed. */
async function cliJson<T>(...args: string[]): Promise<T> {
  const result = await jot([...args, '--json'], { env });
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout) as T;
}

async function signIn(email: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } });
  expect(res.statusCode).toBe(200);
  return res.json<{ access_token: string }>().access_token;
}

beforeAll(async () => {
  app = await createServer({ config: loadConfig({ env, file: false }), logger: false });
  // Outside production the first account becomes the admin.
  for (const email of ['admin@example.com', 'member@example.com']) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/register',
      payload: { email, password: PASSWORD },
    });
    expect(res.statusCode).toBe(201);
  }
  adminToken = await signIn('admin@example.com');
});

afterAll(async () => {
  await app?.close();
});

describe('jot --json prints the admin API views', () => {
  it('users list, show and set-roles: the user views of GET /api/admin/users', async () => {
    const listed = await cliJson<UserPageView>('users', 'list');
    expect(listed).toEqual(await api<UserPageView>('/api/admin/users'));
    expect(listed.total).toBe(2);
    const shown = await cliJson<UserView & { live_sessions: number }>('users', 'show', 'member@example.com');
    const { live_sessions: live, ...user } = shown;
    expect(live).toBe(0);
    expect([user]).toEqual((await api<UserPageView>('/api/admin/users?q=member')).users);
    const added = await jot(
      ['users', 'add', '--email', 'cli@example.com', '--password-env', 'PW', '--json'],
      {
        env: { ...env, PW: PASSWORD },
      },
    );
    const [served] = (await api<UserPageView>('/api/admin/users?q=cli%40')).users;
    expect(JSON.parse(added.stdout)).toEqual({
      id: served!.id,
      email: served!.email,
      name: served!.name,
      roles: served!.roles,
    });
    const changed = await cliJson<UserView>('users', 'set-roles', 'member@example.com', 'editor');
    expect(changed.roles).toEqual(['editor']);
    expect([changed]).toEqual((await api<UserPageView>('/api/admin/users?q=member')).users);
  });

  it('sessions list: the session views of GET /api/sessions (none of them the CLI’s own)', async () => {
    const token = await signIn('member@example.com');
    const own = await api<SessionListView>('/api/sessions', token);
    const printed = await cliJson<SessionListView>('sessions', 'list', 'member@example.com');
    expect(printed.sessions.length).toBe(1);
    expect(printed).toEqual({ sessions: own.sessions.map((s) => ({ ...s, current: false })) });
  });

  it('keys list and rotate: the signing-key views of GET /api/admin/keys', async () => {
    const served = await api<SigningKeyListView>('/api/admin/keys');
    expect(await cliJson<SigningKeyListView>('keys', 'list')).toEqual(served);
    // A running server picks a rotation up from the database later; the new key has the members it serves.
    const rotated = await cliJson<SigningKeyView>('keys', 'rotate');
    expect(rotated.state).toBe('pending');
    expect(Object.keys(rotated).sort()).toEqual(Object.keys(served.keys[0]!).sort());
    expect((await cliJson<SigningKeyListView>('keys', 'list')).keys).toContainEqual(rotated);
  });

  it('users invite: the invitation view of GET /api/admin/invitations', async () => {
    const invited = await cliJson<InvitationListView['invitations'][number]>(
      'users',
      'invite',
      'new.hire@example.com',
      '--roles',
      'editor',
    );
    expect((await api<InvitationListView>('/api/admin/invitations')).invitations).toEqual([invited]);
  });

  it('clients add and list: the client views of GET /api/admin/clients, the secret printed once beside them', async () => {
    const added = await cliJson<ClientView & { client_secret?: string }>(
      'clients',
      'add',
      '--name',
      'Billing',
      '--id',
      'billing',
      '--auth',
      'client_secret_basic',
      '--audience',
      'https://api.example.com',
    );
    const { client_secret: secret, ...client } = added;
    expect(secret).toEqual(expect.any(String));
    expect(client).toEqual(await api<ClientView>('/api/admin/clients/billing'));
    expect(await cliJson<ClientListView>('clients', 'list')).toEqual(
      await api<ClientListView>('/api/admin/clients'),
    );
  });
});
