/**
 * No session outlives the credential check it came from (issue 9), on SQLite and on PostgreSQL: many rounds of
 * sign-ins with the current password racing a password change, and racing a disable (then an enable); afterwards no
 * session any of those sign-ins created works — neither its access token nor its refresh token, nor after the
 * re-enable. And the rehash at sign-in after an argon2 parameter change never writes the old password back over a
 * password change (compare-and-swap).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPasswordHasher, openStore } from '../src/index.js';
import { requirePostgres } from './support/postgres.js';
import { startServer, type TestServer } from './support/jot-server.js';

const pg = await requirePostgres('account-races');

/** Limits out of the way: these tests are about ordering, not throttling. */
const SETTINGS = { loginLockout: '100000/1s', rateLimitAuth: '100000/min' } as const;
/**
 * The rounds run on several accounts at once, each account's rounds one after another: a round ends with a
 * reissue that waits out the cut-off's second (`waitPastCutoff`), so rounds on one account take about a second
 * each, and accounts do not share cut-offs. ACCOUNTS × ROUNDS_EACH races in all.
 */
const ACCOUNTS = 5;
const ROUNDS_EACH = 3;
const ROUNDS = ACCOUNTS * ROUNDS_EACH;
const LOGINS_PER_ROUND = 6;

/** Runs `race` for each of ACCOUNTS accounts at once; the results in account order. */
function onEachAccount<T>(race: (account: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: ACCOUNTS }, (_, account) => race(account)));
}

interface Backend {
  name: string;
  start(): Promise<{ server: TestServer; cleanup: () => Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    async start() {
      const server = await startServer(SETTINGS);
      return { server, cleanup: () => server.close() };
    },
  },
];
if (pg !== undefined) {
  backends.push({
    name: 'PostgreSQL',
    async start() {
      const dataDir = mkdtempSync(join(tmpdir(), 'jot-race-pg-'));
      const store = await openStore({ url: pg.url, dataDir, postgres: { schema: pg.schema } });
      const server = await startServer(SETTINGS, { dataDir, store });
      return {
        server,
        cleanup: async () => {
          await server.close();
          await store.close();
          await pg.drop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  });
}

/** Every way a session of `login` could still be used: its access token on the server, its refresh token. */
async function usable(
  server: TestServer,
  login: { access_token: string; refresh_token: string },
): Promise<string[]> {
  const alive: string[] = [];
  const who = await server.request('GET', '/api/whoami', { token: login.access_token });
  if (who.status === 200) alive.push('access token');
  const refresh = await server.request('POST', '/api/token/refresh', {
    body: { refresh_token: login.refresh_token },
  });
  if (refresh.status === 200) alive.push('refresh token');
  return alive;
}

for (const backend of backends) {
  describe(`racing credential changes on ${backend.name}`, () => {
    let server: TestServer;
    let cleanup: () => Promise<void>;
    let adminToken: string;

    beforeAll(async () => {
      ({ server, cleanup } = await backend.start());
      const reg = await server.request('POST', '/api/register', {
        body: { email: 'admin@example.com', password: 'the admin password 1' },
      });
      expect(reg.status).toBe(201);
      const login = await server.request('POST', '/api/login', {
        body: { email: 'admin@example.com', password: 'the admin password 1' },
      });
      adminToken = login.body.access_token;
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it(`a sign-in racing a password change never keeps its session (${ROUNDS} rounds)`, async () => {
      const raced = await onEachAccount(async (account) => {
        const email = `racer-${account}@example.com`;
        let password = 'racing password 0';
        expect((await server.request('POST', '/api/register', { body: { email, password } })).status).toBe(
          201,
        );
        let changer = (await server.request('POST', '/api/login', { body: { email, password } })).body;
        let won = 0;
        for (let round = 1; round <= ROUNDS_EACH; round++) {
          const next = `racing password ${round}`;
          const logins = Array.from({ length: LOGINS_PER_ROUND }, (_, i) =>
            new Promise((resolve) => setTimeout(resolve, i)).then(() =>
              server.request('POST', '/api/login', { body: { email, password } }),
            ),
          );
          const change = server.request('POST', '/api/password', {
            token: changer.access_token,
            body: { current_password: password, new_password: next },
          });
          const [changed, ...results] = await Promise.all([change, ...logins]);
          expect(changed.status).toBe(200);
          changer = changed.body;
          password = next;
          for (const res of results) {
            if (res.status !== 200) {
              expect([401, 403]).toContain(res.status);
              continue;
            }
            won++;
            expect({ account, round, alive: await usable(server, res.body) }).toEqual({
              account,
              round,
              alive: [],
            });
          }
          // The session that changed the password goes on.
          expect((await server.request('GET', '/api/whoami', { token: changer.access_token })).status).toBe(
            200,
          );
        }
        return won;
      });
      // The race was real: some sign-ins with the old password got through their check (and then lost).
      expect(raced.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    }, 180_000);

    it(`a sign-in racing a disable never keeps a session, not even after the account is enabled again (${ROUNDS} rounds)`, async () => {
      await onEachAccount(async (account) => {
        const email = `disabled-racer-${account}@example.com`;
        const password = 'disable racing password';
        const reg = await server.request('POST', '/api/register', { body: { email, password } });
        expect(reg.status).toBe(201);
        const id = reg.body.id as string;
        for (let round = 1; round <= ROUNDS_EACH; round++) {
          const logins = Array.from({ length: LOGINS_PER_ROUND }, (_, i) =>
            new Promise((resolve) => setTimeout(resolve, i)).then(() =>
              server.request('POST', '/api/login', { body: { email, password } }),
            ),
          );
          const disable = server.request('POST', `/api/admin/users/${id}/disable`, { token: adminToken });
          const [disabled, ...results] = await Promise.all([disable, ...logins]);
          expect(disabled.status).toBe(200);
          const enabled = await server.request('POST', `/api/admin/users/${id}/enable`, {
            token: adminToken,
          });
          expect(enabled.status).toBe(200);
          for (const res of results) {
            if (res.status === 200) {
              expect({ account, round, alive: await usable(server, res.body) }).toEqual({
                account,
                round,
                alive: [],
              });
            }
          }
        }
        // Enabled again, the account signs in normally.
        expect((await server.request('POST', '/api/login', { body: { email, password } })).status).toBe(200);
      });
    }, 180_000);

    it('the rehash after a parameter change never writes the old password back over a password change', async () => {
      const { store } = server.app.jot;
      // Hashes made with other (older) argon2 parameters than the server's, so every sign-in rehashes.
      const old = await createPasswordHasher({ memoryKiB: 2048, timeCost: 2, parallelism: 1 });
      // 15 rounds in all: 3 on each account, the accounts at once (see ACCOUNTS).
      await onEachAccount(async (account) => {
        const email = `rehash-${account}@example.com`;
        const reg = await server.request('POST', '/api/register', {
          body: { email, password: 'rehash password 0' },
        });
        const id = reg.body.id as string;
        for (let round = 1; round <= ROUNDS_EACH; round++) {
          const before = `rehash password ${round - 1}`;
          const after = `rehash password ${round}`;
          await store.updatePasswordHash(id, await old.hash(before));
          const changer = (await server.request('POST', '/api/login', { body: { email, password: before } }))
            .body;
          await store.updatePasswordHash(id, await old.hash(before));
          const logins = Array.from({ length: 4 }, () =>
            server.request('POST', '/api/login', { body: { email, password: before } }),
          );
          const change = server.request('POST', '/api/password', {
            token: changer.access_token,
            body: { current_password: before, new_password: after },
          });
          const [changed] = await Promise.all([change, ...logins]);
          expect(changed.status).toBe(200);
          const stored = (await store.getUserById(id))!.passwordHash;
          expect({
            account,
            round,
            newWorks: await server.app.jot.passwords.verify(stored, after),
          }).toEqual({ account, round, newWorks: true });
          expect(await server.app.jot.passwords.verify(stored, before)).toBe(false);
        }
      });
    }, 120_000);
  });
}
