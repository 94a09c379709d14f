/**
 * PostgreSQL connections lost under load (`pg_terminate_backend` of every backend of the server's own database,
 * again and again, while refreshes, whoami calls and logouts run): the process survives, a request that lost its
 * connection is answered 503 `ERR_UNAVAILABLE` with `Retry-After`, the next one works, and no rotation or
 * revocation is left half-written. A real server process (the built bin) on a database of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  call,
  cleanup,
  login,
  requireBuiltServer,
  requireTestDatabase,
  serverEnv,
  spawnServer,
  type Reply,
  type ServerProcess,
  type TestDatabase,
} from './support/processes.js';

const db = await requireTestDatabase('the PostgreSQL fault tests');

describe.skipIf(db === undefined)('PostgreSQL connection loss under load', () => {
  const database = db as TestDatabase;
  let server: ServerProcess;

  beforeAll(async () => {
    requireBuiltServer();
    server = await spawnServer(serverEnv({ JOT_DATABASE_URL: database.url }));
  });
  afterAll(async () => {
    await cleanup();
    await database.drop();
  });

  it('survives repeated backend terminations: 503 ERR_UNAVAILABLE, then success; nothing half-written', async () => {
    const sessions = await Promise.all(
      Array.from({ length: 6 }, (_, i) => login(server.url, `load${i}@example.com`)),
    );
    const replies: Reply[] = [];
    const record = (reply: Reply): Reply => {
      replies.push(reply);
      return reply;
    };
    let running = true;

    // A client that retries a 503 with the same refresh token, as a real one would (the grace window covers a
    // rotation that committed before the connection was lost).
    async function refreshLoop(index: number): Promise<void> {
      while (running) {
        const session = sessions[index]!;
        const res = record(
          await call(server.url, 'POST', '/api/token/refresh', {
            body: { refresh_token: session.refresh_token },
          }),
        );
        if (res.status === 200) sessions[index] = res.body as (typeof sessions)[number];
        record(await call(server.url, 'GET', '/api/whoami', { token: sessions[index]!.access_token }));
      }
    }
    async function logoutLoop(worker: number): Promise<void> {
      for (let n = 0; running; n += 1) {
        const email = `churn${worker}-${n}@example.com`;
        let tokens: { access_token: string } | undefined;
        while (running && tokens === undefined) {
          const reg = record(
            await call(server.url, 'POST', '/api/register', {
              body: { email, password: 'correct horse battery' },
            }),
          );
          if (reg.status !== 201 && reg.body.code !== 'ERR_EMAIL_TAKEN') continue;
          const res = record(
            await call(server.url, 'POST', '/api/login', {
              body: { email, password: 'correct horse battery' },
            }),
          );
          if (res.status === 200) tokens = res.body as { access_token: string };
        }
        let retried = false;
        while (running && tokens !== undefined) {
          const res = await call(server.url, 'POST', '/api/logout', { token: tokens.access_token });
          // 401 after a 503: the first attempt did commit (the session ended, so the token is revoked), only its
          // answer was lost — expected, whichever revocation code names it. A 401 on a first attempt is not.
          if (res.status === 401 && retried) break;
          record(res);
          if (res.status === 204 || res.status === 200 || res.status === 401) break;
          retried = res.status === 503;
        }
      }
    }

    let kills = 0;
    let terminated = 0;
    const killer = (async () => {
      while (kills < 8) {
        await new Promise((resolve) => setTimeout(resolve, 600));
        terminated += await database.terminateBackends();
        kills += 1;
      }
      running = false;
    })();
    await Promise.all([killer, ...sessions.map((_, i) => refreshLoop(i)), logoutLoop(0), logoutLoop(1)]);

    expect(terminated).toBeGreaterThan(kills); // the server's connections really were cut, again and again
    expect(server.child.exitCode).toBeNull();
    expect(server.child.signalCode).toBeNull();
    const unexpected = replies.filter(
      (r) =>
        ![200, 201, 204, 503].includes(r.status) &&
        !(r.status === 409 && r.body.code === 'ERR_EMAIL_TAKEN') &&
        !(r.status === 401 && r.body.code === 'ERR_SESSION_ENDED') &&
        // The access token of a session that ended (whoami after a refresh of the ended session).
        !(
          r.status === 401 &&
          r.body.code === 'ERR_TOKEN_REVOKED' &&
          r.body.error_description === 'the session has ended; sign in again'
        ),
    );
    expect(unexpected.map((r) => [r.status, r.body])).toEqual([]);
    for (const failed of replies.filter((r) => r.status === 503)) {
      expect(failed.body).toMatchObject({ code: 'ERR_UNAVAILABLE', error: 'server_error' });
      expect(Number(failed.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    console.info(
      `postgres-faults: ${replies.length} requests, ${replies.filter((r) => r.status === 503).length} answered 503 over ${kills} terminations (${terminated} backends)`,
    );

    // The next requests succeed: every session still refreshes and its new token works.
    for (const session of sessions) {
      const res = await call(server.url, 'POST', '/api/token/refresh', {
        body: { refresh_token: session.refresh_token },
      });
      expect(res.status).toBe(200);
      expect((await call(server.url, 'GET', '/api/whoami', { token: res.body.access_token })).status).toBe(
        200,
      );
    }

    // Nothing half-written: every ended session has its feed entry and no refresh token left; every live session
    // has exactly one unused refresh token; every rotated token's successor exists.
    expect(
      await database.query(`SELECT id FROM sessions s WHERE revoked_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.kind = 'sid' AND r.subject = s.id)`),
    ).toEqual([]);
    expect(
      await database.query(`SELECT s.id FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id
        WHERE s.revoked_at IS NOT NULL`),
    ).toEqual([]);
    expect(
      await database.query(`SELECT s.id FROM sessions s WHERE s.revoked_at IS NULL AND (SELECT count(*)
        FROM refresh_tokens t WHERE t.session_id = s.id AND t.rotated_at IS NULL) <> 1`),
    ).toEqual([]);
    expect(
      await database.query(`SELECT token_hash FROM refresh_tokens r WHERE rotated_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM refresh_tokens n WHERE n.token_hash = r.successor_hash)`),
    ).toEqual([]);
    expect(server.logs.filter((l) => Number(l.level) >= 60)).toEqual([]);
  }, 120_000);
});
