/**
 * SQLite: the server process killed (SIGKILL) in the middle of a refresh storm and started again on the same file.
 * The database is intact (`PRAGMA integrity_check`), and every session refreshes with the last token its client
 * holds — a rotation that committed just before the kill, whose answer never arrived, is covered by the grace
 * window (the same successor again).
 */
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import {
  call,
  cleanup,
  login,
  requireBuiltServer,
  serverEnv,
  spawnServer,
  waitFor,
} from './support/processes.js';

describe('SQLite: SIGKILL during a refresh storm', () => {
  afterAll(cleanup);

  it('restarts intact, and every session still refreshes', async () => {
    requireBuiltServer();
    const env = serverEnv({ JOT_REFRESH_GRACE_WINDOW: '5m' });
    const file = join(env.JOT_DATA_DIR!, 'jot.db');
    const first = await spawnServer(env);
    const sessions = await Promise.all(
      Array.from({ length: 8 }, (_, i) => login(first.url, `storm${i}@example.com`)),
    );
    let refreshed = 0;
    const storm = sessions.map(async (_, i) => {
      for (;;) {
        const res = await call(first.url, 'POST', '/api/token/refresh', {
          body: { refresh_token: sessions[i]!.refresh_token },
        });
        if (res.status !== 200) return res.status; // the process is gone
        sessions[i] = res.body as (typeof sessions)[number];
        refreshed += 1;
      }
    });
    await waitFor('the storm to be under way', () => refreshed >= 80, 60_000, 5);
    await first.kill('SIGKILL');
    // Each loop stopped on a failed request (the connection died with the process), never on a refusal.
    expect(await Promise.all(storm)).toEqual(sessions.map(() => 0));

    const db = new Database(file, { fileMustExist: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }

    const second = await spawnServer(env);
    for (const session of sessions) {
      const res = await call(second.url, 'POST', '/api/token/refresh', {
        body: { refresh_token: session.refresh_token },
      });
      expect(res.status).toBe(200);
      expect((await call(second.url, 'GET', '/api/whoami', { token: res.body.access_token })).status).toBe(
        200,
      );
    }
    await second.kill('SIGTERM');
    const after = new Database(file, { readonly: true, fileMustExist: true });
    try {
      expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
      const orphans = after
        .prepare(
          `SELECT s.id FROM sessions s WHERE s.revoked_at IS NULL AND (SELECT count(*) FROM refresh_tokens t
             WHERE t.session_id = s.id AND t.rotated_at IS NULL) <> 1`,
        )
        .all();
      expect(orphans).toEqual([]);
    } finally {
      after.close();
    }
  }, 120_000);
});
