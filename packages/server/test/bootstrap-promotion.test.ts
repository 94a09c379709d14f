/**
 * `JOT_ADMIN_EMAIL` naming an account that already exists (and `JOT_ADMIN_PASSWORD` its password) makes it an admin
 * the way `jot admin create` and `jot users set-roles` grant the role, on SQLite and on PostgreSQL:
 *
 * - the admin role is added to the roles the account has when the change is made, read in the change's own
 *   transaction with the row held: a role another writer gave it after the bootstrap read the account is kept (it
 *   was lost: `setRoles([...rolesReadEarlier, 'admin'])`);
 * - the new roles, their revocation-feed entry and their events commit together: a feed entry that cannot be
 *   written leaves the account as it was (the roles used to commit first, the feed entry after, so a failure in
 *   between left a promotion resource servers were never told of);
 * - two instances starting at once with the same setting promote once: one `admin_created`, one `roles_changed`,
 *   one feed entry (PostgreSQL, the database several instances share);
 * - the password is checked again against the hash the grant's transaction reads, the row held: a password changed
 *   after the first check to another one refuses the promotion (the server does not start, the account is left as
 *   it was); it used to be promoted on the strength of the hash read before.
 *
 * Races are made deterministic by holding the bootstrap right after its password check (after it read the account,
 * before it changes it): another writer's turn, or the other instance's arrival, happens there.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { ensureBootstrapAdmin } from '../src/index.js';
import { Store } from '../src/store/index.js';
import { startServer, type TestServer } from './support/jot-server.js';
import { serverBackends } from './support/store-backends.js';

const backends = await serverBackends('bootstrap-promotion');
const PASSWORD = 'owner password 1';
/** Every instance of a deployment has the same KEK (the signing keys live in the shared database). */
const KEK = randomBytes(32).toString('base64url');

describe.each(backends)('JOT_ADMIN_EMAIL promoting an existing account ($name)', (backend) => {
  let dataDir: string;
  let store: Store;
  const servers: TestServer[] = [];
  const extraStores: Store[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'jot-bootstrap-promotion-'));
    store = await backend.open(dataDir);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const server of servers.splice(0)) await server.close({ keepData: true });
    for (const extra of extraStores.splice(0)) await extra.close();
  });
  afterAll(async () => {
    await store?.close();
    await backend.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** An instance configured with JOT_ADMIN_EMAIL=`email` and JOT_ADMIN_PASSWORD, over `over` (default: the store). */
  async function instance(email: string, over: Store = store): Promise<TestServer> {
    const server = await startServer(
      { adminEmail: email, adminPassword: PASSWORD, registration: 'open', kek: KEK },
      { dataDir, store: over },
    );
    servers.push(server);
    return server;
  }

  /** Registers `email` with the password the bootstrap is configured with; the account's id. */
  async function register(server: TestServer, email: string): Promise<string> {
    const res = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.roles).toEqual([]);
    return res.body.id as string;
  }

  /** Runs `meanwhile` once the bootstrap of `server` has checked the password, before it changes the account. */
  function afterPasswordCheck(server: TestServer, meanwhile: () => Promise<void>): void {
    const { passwords } = server.app.jot;
    const verify = passwords.verify.bind(passwords);
    passwords.verify = async (hash, password) => {
      const ok = await verify(hash, password);
      passwords.verify = verify;
      await meanwhile();
      return ok;
    };
  }

  /** The user entries of the revocation feed about `userId`, oldest first. */
  async function feedEntries(userId: string) {
    const page = await store.listRevocationsSince(undefined, 1000);
    return page.entries.filter((e) => e.kind === 'user' && e.subject === userId);
  }

  const eventsOf = async (userId: string, type: string) =>
    store.listSecurityEvents({ limit: 100, userId, type });

  it('adds admin to the roles the account has at the change: a role given meanwhile is kept', async () => {
    const server = await instance('kept@example.com');
    const id = await register(server, 'kept@example.com');
    // Between the bootstrap's read of the account and its change, another writer (an admin elsewhere) gives a role.
    afterPasswordCheck(server, async () => {
      expect(await store.setRoles(id, ['editor'])).toMatchObject({ roles: ['editor'] });
    });
    await ensureBootstrapAdmin(server.app);

    const user = await store.getUserById(id);
    expect(user?.roles).toEqual(['editor', 'admin']);
    expect(user?.emailVerifiedAt).not.toBeNull();
    const changed = await eventsOf(id, 'roles_changed');
    expect(changed.map((e) => e.detail)).toEqual([
      { by: 'bootstrap', before: ['editor'], roles: ['editor', 'admin'] },
    ]);
    const created = await eventsOf(id, 'admin_created');
    expect(created.map((e) => e.detail)).toEqual([{ via: 'bootstrap', by: 'bootstrap' }]);
    // Resource servers following the feed learn the version the promotion left.
    const entries = await feedEntries(id);
    expect(entries.at(-1)?.data).toMatchObject({ ver: user!.tokenVersion, status: 'active' });

    // A later start finds an admin and changes nothing.
    await ensureBootstrapAdmin(server.app);
    expect(await eventsOf(id, 'admin_created')).toHaveLength(1);
    expect(await feedEntries(id)).toHaveLength(entries.length);
  });

  it('commits the role change with its feed entry: a feed entry that cannot be written leaves the account as it was', async () => {
    const server = await instance('atomic@example.com');
    const id = await register(server, 'atomic@example.com');
    const before = await store.getUserById(id);
    const { addRevocation } = Store.prototype as {
      addRevocation: (
        this: Store,
        ...args: Parameters<Store['addRevocation']>
      ) => ReturnType<Store['addRevocation']>;
    };
    vi.spyOn(Store.prototype, 'addRevocation').mockImplementation(function (this: Store, input, now) {
      if (input.kind === 'user' && input.subject === id) {
        return Promise.reject(new Error('the feed entry could not be written'));
      }
      return addRevocation.call(this, input, now);
    });
    await expect(ensureBootstrapAdmin(server.app)).rejects.toThrow('the feed entry could not be written');

    const after = await store.getUserById(id);
    expect(after?.roles).toEqual([]);
    expect(after?.tokenVersion).toBe(before?.tokenVersion);
    expect(after?.emailVerifiedAt).toBeNull();
    expect(await eventsOf(id, 'admin_created')).toEqual([]);
    expect(await eventsOf(id, 'roles_changed')).toEqual([]);

    // The next start (the feed writable again) completes it.
    vi.restoreAllMocks();
    await ensureBootstrapAdmin(server.app);
    const promoted = await store.getUserById(id);
    expect(promoted?.roles).toEqual(['admin']);
    expect(promoted?.emailVerifiedAt).not.toBeNull();
    expect((await feedEntries(id)).map((e) => e.data.ver)).toEqual([promoted!.tokenVersion]);
    expect(await eventsOf(id, 'admin_created')).toHaveLength(1);
  });

  it('checks the password as the grant reads it: one changed after the check to another refuses the promotion', async () => {
    const server = await instance('changed@example.com');
    const id = await register(server, 'changed@example.com');
    // Between the bootstrap's password check and its grant, the owner (or whoever holds the account) changes it.
    const otherHash = await server.app.jot.passwords.hash('a different password 2');
    afterPasswordCheck(server, async () => {
      expect(await store.updatePasswordHash(id, otherHash)).toBeDefined();
    });
    await expect(ensureBootstrapAdmin(server.app)).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining('JOT_ADMIN_PASSWORD is not its password'),
    });

    // The server would not start, and the account is as it was: no role, no verified address, nothing recorded.
    const user = await store.getUserById(id);
    expect(user?.roles).toEqual([]);
    expect(user?.emailVerifiedAt).toBeNull();
    expect(user?.passwordHash).toBe(otherHash);
    expect(await eventsOf(id, 'admin_created')).toEqual([]);
    expect(await eventsOf(id, 'roles_changed')).toEqual([]);
    expect(await feedEntries(id)).toEqual([]);
    // A later start with the same setting still refuses.
    await expect(ensureBootstrapAdmin(server.app)).rejects.toMatchObject({ name: 'ConfigError' });
  });

  it('checks the password as the grant reads it: one set again to JOT_ADMIN_PASSWORD meanwhile is promoted', async () => {
    const server = await instance('reset@example.com');
    const id = await register(server, 'reset@example.com');
    // A new hash of the same password: the grant verifies the password against it, not the hash it read first.
    const sameAgain = await server.app.jot.passwords.hash(PASSWORD);
    afterPasswordCheck(server, async () => {
      expect(await store.updatePasswordHash(id, sameAgain)).toBeDefined();
    });
    await ensureBootstrapAdmin(server.app);

    const user = await store.getUserById(id);
    expect(user?.passwordHash).toBe(sameAgain);
    expect(user?.roles).toEqual(['admin']);
    expect(await eventsOf(id, 'admin_created')).toHaveLength(1);
  });

  it.runIf(backend.name === 'PostgreSQL')(
    'two instances starting at once promote once: one admin_created, one roles_changed, one feed entry',
    async () => {
      const other = await backend.open(dataDir);
      extraStores.push(other);
      const a = await instance('both@example.com');
      const b = await instance('both@example.com', other);
      const id = await register(a, 'both@example.com');
      // Both have read the account (not an admin yet) and checked the password before either changes it.
      let arrived = 0;
      let release!: () => void;
      const together = new Promise<void>((resolve) => (release = resolve));
      const deadline = setTimeout(release, 10_000);
      const meet = async (): Promise<void> => {
        arrived += 1;
        if (arrived === 2) release();
        await together;
      };
      afterPasswordCheck(a, meet);
      afterPasswordCheck(b, meet);
      try {
        await Promise.all([ensureBootstrapAdmin(a.app), ensureBootstrapAdmin(b.app)]);
      } finally {
        clearTimeout(deadline);
      }
      expect(arrived).toBe(2);

      const user = await store.getUserById(id);
      expect(user?.roles).toEqual(['admin']);
      expect(await eventsOf(id, 'admin_created')).toHaveLength(1);
      expect(await eventsOf(id, 'roles_changed')).toHaveLength(1);
      const entries = await feedEntries(id);
      expect(entries.map((e) => e.data.ver)).toEqual([user!.tokenVersion]);
    },
  );
});
