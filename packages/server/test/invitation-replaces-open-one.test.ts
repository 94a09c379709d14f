/**
 * A new invitation to an address replaces its open one (regression: both stayed listed, with different roles, and
 * the leftover answered 409 once the other was accepted), on SQLite and on PostgreSQL, each server on a database of
 * its own. On PostgreSQL also many invitations to one address created at the same instant, over two stores (two
 * instances' connection pools) on one schema: every creation succeeds and exactly one invitation stays open
 * (regression: those created in the same instant each revoked what they saw, not each other, and all stayed open);
 * and one created while another to the address is accepted either ends with the accept or is refused (regression: it
 * stayed open beside the new account).
 * And migration 0016, which makes the schema hold it, on a database the race left duplicates in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openStore, type Store } from '../src/index.js';
import type { InvitationsTable, Schema } from '../src/store/schema.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { migrateTo, migrationBackends } from './support/migrations.js';
import { requirePostgres } from './support/postgres.js';
import { linkIn, startSmtp, tokenIn, type TestSmtp } from './support/smtp.js';

interface Backend {
  name: string;
  start(smtpUrl: string): Promise<{ server: TestServer; cleanup: () => Promise<void> }>;
}

const pg = await requirePostgres('invitation replacement');
const pgForServer = pg && (await requirePostgres('invitation replacement'));

const backends: Backend[] = [
  {
    name: 'SQLite',
    async start(smtpUrl) {
      const server = await startServer({ smtpUrl, publicUrl: 'http://ui.test' });
      return { server, cleanup: () => server.close() };
    },
  },
];
if (pgForServer !== undefined) {
  backends.push({
    name: 'PostgreSQL',
    async start(smtpUrl) {
      const dataDir = mkdtempSync(join(tmpdir(), 'jot-invite-pg-'));
      const store = await openStore({
        url: pgForServer.url,
        dataDir,
        postgres: { schema: pgForServer.schema },
      });
      const server = await startServer({ smtpUrl, publicUrl: 'http://ui.test' }, { dataDir, store });
      return {
        server,
        cleanup: async () => {
          await server.close();
          await store.close();
          await pgForServer.drop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  });
}

for (const backend of backends) {
  describe(`inviting an address twice (${backend.name})`, () => {
    let smtp: TestSmtp;
    let server: TestServer;
    let cleanup: () => Promise<void>;
    let admin: Awaited<ReturnType<typeof signUp>>;

    beforeAll(async () => {
      smtp = await startSmtp();
      ({ server, cleanup } = await backend.start(smtp.url));
      admin = await signUp(server, 'admin@example.com');
    });
    afterAll(async () => {
      await cleanup?.();
      await smtp?.stop();
    });

    const invite = (roles: string[]) =>
      server.request('POST', '/api/admin/invitations', {
        token: admin.access_token,
        body: { email: 'dup@example.com', roles },
      });

    it('the new invitation replaces the open one: one listed, the old link dead, the new one accepted', async () => {
      expect((await invite(['admin'])).status).toBe(201);
      const first = tokenIn(linkIn(await smtp.waitFor((m) => m.to.includes('dup@example.com'))));
      const second = await invite([]);
      expect(second.status).toBe(201);
      const secondMail = await smtp.waitFor(
        (m) => m.to.includes('dup@example.com') && !m.text.includes(first),
      );
      const list = await server.request('GET', '/api/admin/invitations', { token: admin.access_token });
      const open = (list.body.invitations as { id: string; email: string; roles: string[] }[]).filter(
        (i) => i.email === 'dup@example.com',
      );
      expect(open).toEqual([expect.objectContaining({ id: second.body.id, roles: [] })]);
      const old = await server.request('POST', '/api/invitations/accept', {
        body: { token: first, password: 'invited password 1' },
      });
      expect(old.body.code).toBe('ERR_LINK_USED');
      const accepted = await server.request('POST', '/api/invitations/accept', {
        body: { token: tokenIn(linkIn(secondMail)), password: 'invited password 1' },
      });
      expect(accepted.status).toBe(201);
      expect(accepted.body.roles).toEqual([]);
    });
  });
}

describe.runIf(pg !== undefined)(
  'invitations to one address created at the same instant (PostgreSQL)',
  () => {
    const CREATIONS = 24;
    const T0 = Date.UTC(2031, 0, 1);
    let dataDir: string;
    let stores: Store[];

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'jot-invite-race-pg-'));
      const open = () =>
        openStore({ url: pg!.url, dataDir, postgres: { schema: pg!.schema }, now: () => T0 });
      const first = await open();
      stores = [first, await open()];
    });
    afterAll(async () => {
      for (const store of stores ?? []) await store.close();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    /** The address's invitations neither accepted nor revoked (expired or not). */
    const openOf = async (email: string) =>
      (await stores[0]!.listOpenInvitations(100, T0)).filter((i) => i.email === email);

    it(`${CREATIONS} creations split over two instances: all succeed, exactly one stays open`, async () => {
      for (let round = 0; round < 3; round++) {
        const email = `raced-${round}@example.com`;
        const created = await Promise.all(
          Array.from({ length: CREATIONS }, (_, i) =>
            stores[i % 2]!.createInvitation(
              { email, roles: [`r${i}`], invitedBy: null, expiresAt: T0 + 60_000 },
              T0,
            ),
          ),
        );
        expect(new Set(created.map((i) => i.id)).size).toBe(CREATIONS);
        const open = await openOf(email);
        expect({ round, open: open.length }).toEqual({ round, open: 1 });
        expect(created.map((i) => i.id)).toContain(open[0]!.id);
        // The others are revoked, never accepted.
        for (const invitation of created.filter((i) => i.id !== open[0]!.id)) {
          expect(await stores[1]!.getInvitation(invitation.id)).toMatchObject({
            acceptedAt: null,
            revokedAt: T0,
          });
        }
      }
    });

    it('an invitation created while another to the address is accepted: never an account and an open invitation', async () => {
      for (let round = 0; round < 12; round++) {
        const email = `accept-race-${round}@example.com`;
        const invite = (store: Store) =>
          store.createInvitation({ email, roles: [], invitedBy: null, expiresAt: T0 + 60_000 }, T0);
        const first = await invite(stores[0]!);
        const [accepted, created] = await Promise.allSettled([
          stores[round % 2]!.acceptInvitation(first.id, { passwordHash: 'h', name: null }, T0),
          invite(stores[(round + 1) % 2]!),
        ]);
        const account = await stores[0]!.getUserByEmail(email);
        const open = await openOf(email);
        if (account !== undefined) {
          // The accept committed first: the creation after it is refused (the address has its account).
          expect({ round, open: open.length }).toEqual({ round, open: 0 });
          expect(created.status === 'rejected' && created.reason).toMatchObject({
            code: 'ERR_STORE_CONFLICT',
          });
        } else {
          // The creation committed first: it replaced the invitation being accepted, whose link is then used.
          expect(accepted).toEqual({ status: 'fulfilled', value: undefined });
          expect({ round, open: open.length }).toEqual({ round, open: 1 });
        }
      }
    });
  },
);

// ---- Migration 0016 on a database the race left several open invitations to one address in -----------------

const M0 = Date.UTC(2034, 2, 1);
const migrations = await migrationBackends('migration 0016', M0);

/** An invitation row as a release before 0016 stored it. */
function invitationRow(
  id: string,
  email: string,
  at: { created: number; accepted?: number; revoked?: number },
): InvitationsTable {
  return {
    id,
    email,
    roles: '[]',
    invited_by: null,
    created_at: at.created,
    expires_at: M0 + 3_600_000,
    accepted_at: at.accepted ?? null,
    revoked_at: at.revoked ?? null,
  };
}

describe.each(migrations)('migration 0016 (one open invitation per address): $dialect', (backend) => {
  it("keeps the address's last-created open invitation, revokes the others at its creation; down drops the index", async () => {
    const store = await backend.open();
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    try {
      const down = await migrateTo(db, backend, '0015_device_cut_off');
      expect(down.error).toBeUndefined();
      // (Later migrations go down first; 0016 last.)
      expect(down.results?.map((r) => r.migrationName).at(-1)).toBe('0016_one_open_invitation');
      await db
        .insertInto('invitations')
        .values([
          invitationRow('twice-old', 'twice@example.com', { created: M0 - 2000 }),
          invitationRow('twice-new', 'twice@example.com', { created: M0 - 1000 }),
          invitationRow('twice-accepted', 'twice@example.com', { created: M0 - 5000, accepted: M0 - 4000 }),
          invitationRow('twice-revoked', 'twice@example.com', { created: M0 - 6000, revoked: M0 - 5500 }),
          invitationRow('tie-a', 'tie@example.com', { created: M0 - 100 }),
          invitationRow('tie-b', 'tie@example.com', { created: M0 - 100 }),
          // Stored before addresses were compared by their key (only lowercased): the fullwidth ｌ is an l.
          invitationRow('legacy-new', '\uff4cegacy@example.com', { created: M0 - 500 }),
          invitationRow('keyed-old', 'legacy@example.com', { created: M0 - 4000 }),
          invitationRow('alone', 'alone@example.com', { created: M0 - 3000 }),
        ])
        .execute();

      // The next open applies 0016, as an upgrade does.
      await (await backend.open()).close();
      const state = async (id: string) => {
        const invitation = await store.getInvitation(id);
        return invitation && [invitation.email, invitation.acceptedAt, invitation.revokedAt];
      };
      expect(await state('twice-new')).toEqual(['twice@example.com', null, null]);
      expect(await state('twice-old')).toEqual(['twice@example.com', null, M0 - 1000]);
      expect(await state('twice-accepted')).toEqual(['twice@example.com', M0 - 4000, null]);
      expect(await state('twice-revoked')).toEqual(['twice@example.com', null, M0 - 5500]);
      expect(await state('tie-b')).toEqual(['tie@example.com', null, null]);
      expect(await state('tie-a')).toEqual(['tie@example.com', null, M0 - 100]);
      expect(await state('legacy-new')).toEqual(['legacy@example.com', null, null]);
      expect(await state('keyed-old')).toEqual(['legacy@example.com', null, M0 - 500]);
      expect(await state('alone')).toEqual(['alone@example.com', null, null]);

      // From now on the schema holds it: no second open invitation, whoever writes it.
      const second = db
        .insertInto('invitations')
        .values(invitationRow('sneaked', 'twice@example.com', { created: M0 }))
        .execute();
      await expect(second).rejects.toThrow();
      // The store's own creation replaces the open one.
      const next = await store.createInvitation(
        { email: 'Twice@Example.com', roles: [], invitedBy: null, expiresAt: M0 + 60_000 },
        M0,
      );
      expect(
        (await store.listOpenInvitations(100, M0)).filter((i) => i.email === 'twice@example.com'),
      ).toEqual([expect.objectContaining({ id: next.id })]);

      // Down drops the index (what was revoked stays revoked).
      const downAgain = await migrateTo(db, backend, '0015_device_cut_off');
      expect(downAgain.error).toBeUndefined();
      await db
        .insertInto('invitations')
        .values(invitationRow('after-down', 'twice@example.com', { created: M0 + 1 }))
        .execute();
      expect(await state('twice-old')).toEqual(['twice@example.com', null, M0 - 1000]);
    } finally {
      await db.destroy();
      await store.close();
    }
  });
});
