/**
 * A refresh token reused after its grace window, presented at two instances at once (one PostgreSQL database, one
 * Redis): the session ends once, and the reuse is recorded once — one `refresh_token_reuse` security event and one
 * `sid` feed entry — as a renewal reuse is ("recorded once, by whichever request ended it"), and as a sequential
 * replay is (the first ends the session and deletes its refresh tokens; the next finds none).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  clusterBackendsAvailable,
  eventCount,
  fireAtAll,
  outcome,
  startCluster,
  type Cluster,
} from './support/cluster.js';
import { signUp, type TestServer } from './support/jot-server.js';

const available = await clusterBackendsAvailable('refresh-token reuse recorded once across instances');

describe.runIf(available)('refresh-token reuse raced over two instances', () => {
  let skew = 0;
  const clock = () => Date.now() + skew;
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    cluster = await startCluster({ refreshGraceWindow: '10s' }, { clock });
    [a, b] = cluster.instances as [TestServer, TestServer];
    await signUp(a, 'admin@example.com');
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('8 replays at once after the window: one refresh_token_reuse event, one sid entry', async () => {
    const tokens = await signUp(a, 'reuse-once@example.com');
    const rotated = await b.request('POST', '/api/token/refresh', {
      body: { refresh_token: tokens.refresh_token },
    });
    expect(rotated.status).toBe(200);
    const sid = (await cluster.store.listSessionsForUser(tokens.userId))[0]!.id;
    skew += 10_000;
    const results = await fireAtAll(cluster.instances, 8, (server) =>
      server.request('POST', '/api/token/refresh', { body: { refresh_token: tokens.refresh_token } }),
    );
    const outcomes = results.map(outcome);
    console.log(JSON.stringify(outcomes));
    expect(outcomes.every((o) => o.status === 401)).toBe(true);
    const sidEntries = (await cluster.store.listRevocationsSince(undefined, 1000)).entries.filter(
      (e) => e.kind === 'sid' && e.subject === sid,
    );
    expect(sidEntries).toHaveLength(1);
    expect(await eventCount(cluster.store, 'refresh_token_reuse', tokens.userId)).toBe(1);
  });
});
