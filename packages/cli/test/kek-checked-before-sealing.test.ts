/**
 * Commands that write what only the deployment's `JOT_KEK` can read or vouch for — an invitation (its link is signed
 * with a key derived from the KEK, its mail sealed under it), a `client_secret_jwt` secret, a retried mail — refuse
 * another KEK than the stored signing keys were sealed with (`ERR_KEK_MISMATCH`) and write nothing: otherwise the
 * servers would refuse the link, fail to send the mail and fail to open the secret, long after the command said "ok".
 */
import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { openStore } from '@jot/server';
import { jot, serverEnv, tempDir } from './support.js';

const kek = (): string => randomBytes(32).toString('base64url');

async function counts(dir: string): Promise<{ invitations: number; clients: number }> {
  const store = await openStore({ dataDir: dir });
  try {
    return {
      invitations: (await store.listOpenInvitations(100)).length,
      clients: (await store.listClients()).length,
    };
  } finally {
    await store.close();
  }
}

describe('JOT_KEK checked before the CLI seals anything', () => {
  it('invite, clients add and rotate-secret, outbox retry: ERR_KEK_MISMATCH with another KEK, nothing written', async () => {
    const dir = tempDir();
    const deployment = serverEnv(dir, { JOT_KEK: kek() });
    expect((await jot(['keys', 'list'], { env: deployment, cwd: dir })).code).toBe(0);
    const secretJwt = ['--auth', 'client_secret_jwt', '--audience', 'https://reports.internal'];
    const add = ['clients', 'add', '--name', 'Reports', '--id', 'reports', ...secretJwt];
    const added = await jot(add, { env: deployment, cwd: dir });
    expect(added.code, added.stderr).toBe(0);
    const before = await counts(dir);

    const wrong = serverEnv(dir, { JOT_KEK: kek() });
    for (const args of [
      ['users', 'invite', 'ada@example.com'],
      ['clients', 'add', '--name', 'Other', '--id', 'other', ...secretJwt],
      ['clients', 'rotate-secret', 'reports'],
      ['outbox', 'retry'],
    ]) {
      const r = await jot(args, { env: wrong, cwd: dir });
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(/ERR_KEK_MISMATCH/);
      expect(r.stderr).toMatch(/JOT_KEK/);
    }
    expect(await counts(dir)).toEqual(before);
  });

  it('the deployment KEK invites; so does any KEK on a database with no signing key yet', async () => {
    const dir = tempDir();
    const env = serverEnv(dir, { JOT_KEK: kek() });
    const first = await jot(['users', 'invite', 'ada@example.com'], { env, cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect((await jot(['keys', 'list'], { env, cwd: dir })).code).toBe(0);
    const second = await jot(['users', 'invite', 'bob@example.com'], { env, cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect((await counts(dir)).invitations).toBe(2);
  });
});
