/**
 * One authenticator app per account ([mfa.md](../../../docs/mfa.md#enrolment)), across instances: enrolments started
 * on two instances at once (two tabs, a double click behind a load balancer) leave one pending factor — each start
 * replaces the pending one — so confirming every secret handed out yields one confirmed authenticator app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { base32Decode, totpCode } from '../src/services/totp.js';
import {
  clusterBackendsAvailable,
  fireAtAll,
  outcome,
  startCluster,
  type Cluster,
} from './support/cluster.js';
import { type TestServer, signUpVerified } from './support/jot-server.js';

const available = await clusterBackendsAvailable('one authenticator app across instances');

describe.runIf(available)('authenticator-app enrolment raced over two instances', () => {
  let now = Date.UTC(2034, 3, 1, 8, 0, 5);
  let cluster: Cluster;
  let a: TestServer;

  beforeAll(async () => {
    cluster = await startCluster({ accessTokenTtl: '1h', stepUpMaxAge: '1h' }, { clock: () => now });
    [a] = cluster.instances as [TestServer, TestServer];
    await signUpVerified(a, 'admin@example.com');
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('8 starts at once (both instances), then every secret handed out confirmed: one authenticator app (5 rounds)', async () => {
    const perRound: Array<{ round: number; pending: number; confirmed: number; confirmAnswers200: number }> =
      [];
    for (let round = 0; round < 5; round++) {
      now += 60_000;
      const user = await signUpVerified(a, `two-apps-${round}@example.com`);
      const starts = await fireAtAll(cluster.instances, 8, (server) =>
        server.request('POST', '/api/mfa/totp', { token: user.access_token }),
      );
      expect(starts.map((r) => r.status)).toEqual(starts.map(() => 200));
      const pending = (await cluster.store.mfa.listFactors(user.userId)).length;
      const confirms = [];
      for (const [i, start] of starts.entries()) {
        const res = await cluster.instances[i % 2]!.request('POST', '/api/mfa/totp/confirm', {
          token: user.access_token,
          body: {
            factor_id: start.body.factor_id,
            code: totpCode(base32Decode(start.body.secret as string), now),
          },
        });
        confirms.push(outcome(res));
      }
      const confirmed = (await cluster.store.mfa.listFactors(user.userId)).filter(
        (f) => f.kind === 'totp' && f.confirmedAt !== null,
      ).length;
      perRound.push({
        round,
        pending,
        confirmed,
        confirmAnswers200: confirms.filter((o) => o.status === 200).length,
      });
    }
    console.log(JSON.stringify(perRound));
    expect(perRound).toEqual(
      perRound.map(({ round }) => ({ round, pending: 1, confirmed: 1, confirmAnswers200: 1 })),
    );
  });
});
