/**
 * Outside production (without JOT_ADMIN_EMAIL) the first account registered becomes an admin — on SQLite and on
 * PostgreSQL, through every instance sharing the database:
 *
 * - whether it is the first is decided in the grant's own transaction, queued behind any other instance's claim: of
 *   two first registrations at once through two instances exactly one becomes admin, the other a plain account
 *   (201, not an error), and the admin's `admin_created` is there;
 * - the claim, the role, `roles_changed` and `admin_created` (via `first_registrant`) and the revocation-feed entry
 *   commit together: an event that cannot be written leaves the account a plain one, with nothing recorded (the role
 *   used to commit first and the event after, so a failure in between left an admin nobody had recorded);
 * - the grant is the one `jot admin create` makes (`grantAdminRole`): resource servers following the feed learn the
 *   version it left (it used to write no feed entry).
 *
 * Each test has a database of its own (a fresh SQLite folder, a fresh PostgreSQL schema): "first" needs an empty one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { FIRST_ADMIN_LOCK } from '../src/store/first-admin.js';
import { openStore } from '../src/store/open.js';
import { Store } from '../src/store/index.js';
import { startServer, type TestServer } from './support/jot-server.js';
import { createTestSchema, requirePostgres, type TestSchema } from './support/postgres.js';
import { waitFor } from './support/processes.js';

const PASSWORD = 'correct horse battery';

const probe = await requirePostgres('first-registrant-admin');
await probe?.drop();
const hasPostgres = probe !== undefined;

/** A fresh, empty database: `open` opens a store on it (as often as an instance needs), `schema` on PostgreSQL. */
interface Fresh {
  dataDir: string;
  open(): Promise<Store>;
  schema?: TestSchema;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fresh(backend: 'SQLite' | 'PostgreSQL'): Promise<Fresh> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-first-registrant-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const track = async (store: Promise<Store>): Promise<Store> => {
    const opened = await store;
    cleanups.push(() => opened.close());
    return opened;
  };
  if (backend === 'SQLite') return { dataDir, open: () => track(openStore({ dataDir })) };
  const schema = await createTestSchema();
  if ('error' in schema) throw new Error(schema.error);
  cleanups.push(() => schema.drop());
  return {
    dataDir,
    schema,
    open: () => track(openStore({ url: schema.url, dataDir, postgres: { schema: schema.schema } })),
  };
}

/** An instance (development defaults: open registration, no JOT_ADMIN_EMAIL) over `store`. */
async function instance(db: Fresh, store: Store): Promise<TestServer> {
  const server = await startServer({ nodeEnv: 'test', registration: 'open' }, { dataDir: db.dataDir, store });
  cleanups.push(() => server.close({ keepData: true }));
  return server;
}

const register = (server: TestServer, email: string) =>
  server.request('POST', '/api/register', { body: { email, password: PASSWORD } });

const eventsOf = (store: Store, userId: string, type: string) =>
  store.listSecurityEvents({ limit: 100, userId, type });

async function feedEntries(store: Store, userId: string) {
  const page = await store.listRevocationsSince(undefined, 1000);
  return page.entries.filter((e) => e.kind === 'user' && e.subject === userId);
}

const backends = ['SQLite', ...(hasPostgres ? ['PostgreSQL' as const] : [])] as const;

describe.each(backends)('the first account registered becomes the admin (%s)', (backend) => {
  it('records the grant with it: roles_changed, admin_created (first_registrant) and a feed entry', async () => {
    const db = await fresh(backend);
    const store = await db.open();
    const server = await instance(db, store);

    const first = await register(server, 'first@example.com');
    expect(first.status, first.text).toBe(201);
    expect(first.body.roles).toEqual(['admin']);
    const id = first.body.id as string;
    const user = await store.getUserById(id);
    expect(user?.roles).toEqual(['admin']);
    expect((await eventsOf(store, id, 'admin_created')).map((e) => e.detail)).toEqual([
      { via: 'first_registrant', by: 'first_registrant' },
    ]);
    expect((await eventsOf(store, id, 'roles_changed')).map((e) => e.detail)).toEqual([
      { by: 'first_registrant', before: [], roles: ['admin'] },
    ]);
    expect((await feedEntries(store, id)).map((e) => e.data.ver)).toEqual([user!.tokenVersion]);

    // The second account is a plain one.
    const second = await register(server, 'second@example.com');
    expect(second.status, second.text).toBe(201);
    expect(second.body.roles).toEqual([]);
    expect(await eventsOf(store, second.body.id as string, 'admin_created')).toEqual([]);
  });

  it('commits the role with its event: an event that cannot be written leaves a plain account, nothing recorded', async () => {
    const db = await fresh(backend);
    const store = await db.open();
    const server = await instance(db, store);
    // Every way an event is written (in a transaction or not) refuses admin_created.
    const methods = Store.prototype as unknown as Record<
      'addUserEvent' | 'addSecurityEvent' | 'insertSecurityEvent',
      (this: Store, ...args: unknown[]) => Promise<unknown>
    >;
    for (const method of ['addUserEvent', 'addSecurityEvent', 'insertSecurityEvent'] as const) {
      const real = methods[method];
      vi.spyOn(Store.prototype, method).mockImplementation(function (this: Store, ...args: unknown[]) {
        if ((args[0] as { type: string }).type === 'admin_created') {
          return Promise.reject<never>(new Error('the event could not be written'));
        }
        return real.apply(this, args) as never;
      });
    }

    const res = await register(server, 'first@example.com');
    expect(res.status, res.text).toBe(500);
    const [user] = await store.listUsers({ limit: 10 });
    expect(user?.email).toBe('first@example.com');
    // Not an admin nobody recorded: the role, the claim and the events rolled back together.
    expect(user?.roles).toEqual([]);
    expect(await eventsOf(store, user!.id, 'roles_changed')).toEqual([]);
    expect(await feedEntries(store, user!.id)).toEqual([]);
  });

  it('two first registrations at once through two instances: exactly one admin, and its admin_created', async () => {
    const db = await fresh(backend);
    const storeA = await db.open();
    // Two connections on PostgreSQL; on SQLite both instances share one, as the instances of one process would (a
    // second connection in this process would block the whole process, the first's transaction included, while it
    // waits for SQLite's write lock).
    const storeB = backend === 'PostgreSQL' ? await db.open() : storeA;
    const a = await instance(db, storeA);
    const b = await instance(db, storeB);
    // Both accounts are created before either registration decides whether its account is the first.
    let arrived = 0;
    let release!: () => void;
    const together = new Promise<void>((resolve) => (release = resolve));
    const deadline = setTimeout(release, 10_000);
    for (const server of [a, b]) {
      const { accounts } = server.app.jot;
      const create = accounts.create.bind(accounts);
      accounts.create = async (input) => {
        const user = await create(input);
        arrived += 1;
        if (arrived === 2) release();
        await together;
        return user;
      };
    }
    let answers;
    try {
      answers = await Promise.all([register(a, 'a@example.com'), register(b, 'b@example.com')]);
    } finally {
      clearTimeout(deadline);
    }
    expect(arrived).toBe(2);
    expect(answers.map((r) => r.status)).toEqual([201, 201]);

    const users = await storeA.listUsers({ limit: 10 });
    expect(users).toHaveLength(2);
    const admins = users.filter((u) => u.roles.includes('admin'));
    expect(admins).toHaveLength(1);
    const [admin] = admins;
    // The admin is the oldest account, and what each registration answered agrees with the database.
    expect(admin!.id).toBe(users[0]!.id);
    expect(answers.map((r) => (r.body.roles as string[]).includes('admin')).filter(Boolean)).toHaveLength(1);
    expect((await eventsOf(storeA, admin!.id, 'admin_created')).map((e) => e.detail)).toEqual([
      { via: 'first_registrant', by: 'first_registrant' },
    ]);
    const other = users.find((u) => u.id !== admin!.id)!;
    expect(await eventsOf(storeA, other.id, 'admin_created')).toEqual([]);
    expect(await eventsOf(storeA, other.id, 'roles_changed')).toEqual([]);
  });
});

describe.runIf(hasPostgres)('the first-admin claim across PostgreSQL connections', () => {
  it('a claim arriving while another is uncommitted waits for it, then declines (no conflict on the claim)', async () => {
    const db = await fresh('PostgreSQL');
    const storeA = await db.open();
    const storeB = await db.open();
    // A registers and claims in a transaction held open; B's account, older, appears only after A's check.
    const userA = await storeA.createUser({
      email: 'a@example.com',
      passwordHash: 'x',
      name: null,
      roles: [],
      createdVia: 'register',
      emailVerifiedAt: null,
    });
    let commitA!: () => void;
    const heldA = new Promise<void>((resolve) => (commitA = resolve));
    let claimedA!: (claimed: boolean) => void;
    const claimA = new Promise<boolean>((resolve) => (claimedA = resolve));
    const txA = storeA.transaction(async (tx) => {
      claimedA(await tx.claimFirstAdmin(userA.id));
      await heldA;
    });
    // Whatever happens below, A's transaction ends before its store closes.
    cleanups.push(async () => {
      commitA();
      await txA.catch(() => undefined);
    });
    expect(await claimA).toBe(true);
    const userB = await storeB.createUser(
      {
        email: 'b@example.com',
        passwordHash: 'x',
        name: null,
        roles: [],
        createdVia: 'register',
        emailVerifiedAt: null,
      },
      userA.createdAt - 1000,
    );
    const claimB = storeB.transaction((tx) => tx.claimFirstAdmin(userB.id));
    // B waits for A's lock (seen in pg_locks: an advisory lock of this schema's key, not granted) …
    const client = new pg.Client({ connectionString: db.schema!.url });
    await client.connect();
    cleanups.push(() => client.end());
    await waitFor('the second claim to wait for the first', async () => {
      const { rows } = await client.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_locks
          WHERE locktype = 'advisory' AND NOT granted
            AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
        [FIRST_ADMIN_LOCK + db.schema!.schema],
      );
      return rows[0]!.waiting > 0;
    });
    // … and, once A commits, reads A's claim: B, though older, is not granted, and nothing fails.
    commitA();
    await txA;
    expect(await claimB).toBe(false);
    // The claim is held once and for all: A asking again is declined too.
    expect(await storeB.transaction((tx) => tx.claimFirstAdmin(userA.id))).toBe(false);
  });
});
