/**
 * Account deletion racing a sign-in, on SQLite and on PostgreSQL. Deletion first cuts the account off (cut-off, one
 * `sid` entry per session, a `user` entry still `active`) and then deletes the row; a sign-in that completes between
 * the two gets a session created after the cut-off, which the cascade removes without a `sid` entry. The delete
 * therefore publishes, in its own transaction, a `user` entry with status `disabled` lasting a whole access-token
 * lifetime: every resource server following the feed (packages/verify rules) refuses that sign-in's token, and so
 * does the server itself (the user is gone). (Found by review: the token stayed valid on resource servers until it
 * expired, for an account that no longer existed.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { decodeUnverified } from '@jot/jose';
import { describe, expect, it } from 'vitest';

import { hookStore } from './support/hooked-store.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { serverBackends } from './support/store-backends.js';

const FEED_SECRET = 'feed-secret-'.padEnd(40, 'x');
const PASSWORD = 'correct horse battery';

const backends = await serverBackends('account-deletion-races-sign-in');

interface FeedEntry {
  kind: string;
  subject: string;
  data: Record<string, unknown>;
}

/** Whether a feed entry refuses a token with these claims (the rules of packages/verify). */
function covers(
  entries: FeedEntry[],
  claims: { sub: string; sid: string; jti: string; iat: number; ver: number },
) {
  return entries.some(
    (e) =>
      (e.kind === 'jti' && e.subject === claims.jti) ||
      (e.kind === 'sid' && e.subject === claims.sid) ||
      (e.kind === 'user' &&
        e.subject === claims.sub &&
        (e.data.status === 'disabled' ||
          claims.iat <= (e.data.valid_after as number) ||
          claims.ver < (e.data.ver as number))),
  );
}

/** Deletes an account while, right between its cut-off and its delete, its owner signs in again. */
async function deleteDuringSignIn(server: TestServer, hooked: ReturnType<typeof hookStore>) {
  const user = await signUp(server, 'leaving@example.com', PASSWORD);
  let late: { access_token: string; refresh_token?: string } | undefined;
  void hooked.once('deleteUser', async (call) => {
    const res = await server.request('POST', '/api/login', {
      body: { email: 'leaving@example.com', password: PASSWORD },
    });
    expect(res.status).toBe(200);
    late = res.body as typeof late;
    return call();
  });
  const deleted = await server.request('DELETE', '/api/account', { token: user.access_token });
  expect(deleted.status).toBe(204);
  expect(late).toBeDefined();
  expect(await server.app.jot.store.getUserById(user.userId)).toBeUndefined();
  return late!;
}

describe.each(backends)('account deletion racing a sign-in ($name)', (backend) => {
  it('leaves no access token that the revocation feed or the server still accepts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jot-del-race-'));
    const hooked = hookStore(await backend.open(dataDir));
    const server = await startServer({ revocationSecret: FEED_SECRET }, { dataDir, store: hooked.store });
    try {
      await signUp(server, 'admin@example.com', PASSWORD);
      const late = await deleteDuringSignIn(server, hooked);
      const claims = decodeUnverified(late.access_token).payload as Parameters<typeof covers>[1];

      const feed = await server.request('GET', '/api/revocations', { token: FEED_SECRET });
      expect(feed.status).toBe(200);
      expect(covers(feed.body.entries as FeedEntry[], claims)).toBe(true);
      const disabled = (feed.body.entries as FeedEntry[]).filter(
        (e) => e.kind === 'user' && e.subject === claims.sub && e.data.status === 'disabled',
      );
      expect(disabled).toHaveLength(1);

      expect((await server.request('GET', '/api/whoami', { token: late.access_token })).status).toBe(401);
    } finally {
      await server.close({ keepData: true });
      await hooked.store.close();
      await backend.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
