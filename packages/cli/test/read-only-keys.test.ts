/**
 * Only the `jot keys` commands load the signing keys: a user, session, outbox or client command never creates or
 * rotates one (a first key sealed by the wrong KEK when run from the wrong place), and does not need `JOT_KEK` to
 * match the stored keys.
 */
import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { openStore } from '@jot/server';
import { jot, serverEnv, tempDir } from './support.js';

async function storedKeys(dir: string): Promise<number> {
  const store = await openStore({ dataDir: dir });
  try {
    return (await store.listSigningKeys()).length;
  } finally {
    await store.close();
  }
}

const kek = (): string => randomBytes(32).toString('base64url');

describe('signing keys and the read-only commands', () => {
  it('users list, outbox list and clients list create no signing key; keys list does', async () => {
    const dir = tempDir();
    const env = serverEnv(dir, { JOT_KEK: kek() });
    for (const args of [
      ['users', 'list'],
      ['outbox', 'list'],
      ['clients', 'list'],
    ]) {
      const r = await jot(args, { env, cwd: dir });
      expect(r.code, r.stderr).toBe(0);
    }
    expect(await storedKeys(dir)).toBe(0);
    expect((await jot(['keys', 'list', '--json'], { env, cwd: dir })).code).toBe(0);
    expect(await storedKeys(dir)).toBe(1);
  });

  it('users list works with another JOT_KEK than the keys were sealed with', async () => {
    const dir = tempDir();
    expect((await jot(['keys', 'list'], { env: serverEnv(dir, { JOT_KEK: kek() }), cwd: dir })).code).toBe(0);
    const r = await jot(['users', 'list', '--json'], { env: serverEnv(dir, { JOT_KEK: kek() }), cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const other = await jot(['keys', 'list'], { env: serverEnv(dir, { JOT_KEK: kek() }), cwd: dir });
    expect(other.stderr).toMatch(/ERR_KEK_MISMATCH/);
  });
});
