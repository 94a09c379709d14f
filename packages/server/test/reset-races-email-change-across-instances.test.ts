/**
 * A password reset and an email change of one account, confirmed at once on two instances (one PostgreSQL database,
 * one Redis): each kills the other ([accounts.md](../../../docs/accounts.md#one-time-links) — a reset link dies when
 * the account's email changes, "the old mailbox no longer speaks for it"; an email-change link dies with a reset),
 * so at most one of the two may succeed, whichever order they run in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { clusterBackendsAvailable, outcome, startCluster, type Cluster } from './support/cluster.js';
import { signUp, type TestServer } from './support/jot-server.js';
import { linkIn, startSmtp, tokenIn, type TestSmtp } from './support/smtp.js';

const ROUNDS = 10;
const available = await clusterBackendsAvailable('password reset racing an email change across instances');

describe.runIf(available)('a reset link and an email-change link raced over two instances', () => {
  let smtp: TestSmtp;
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    smtp = await startSmtp();
    cluster = await startCluster({ smtpUrl: smtp.url, publicUrl: 'http://ui.test', mailRetryBase: '1s' });
    [a, b] = cluster.instances as [TestServer, TestServer];
    await signUp(a, 'admin@example.com');
  });
  afterAll(async () => {
    await cluster?.close();
    await smtp?.stop();
  });

  const tokenTo = async (to: string, subject: RegExp) =>
    tokenIn(linkIn(await smtp.waitFor((m) => m.to.includes(to) && subject.test(m.subject))));

  // The rounds run at once: each has an account of its own, and most of a round is waiting for its two mails.
  it(`never both (${ROUNDS} rounds)`, async () => {
    const rounds = await Promise.all(
      Array.from({ length: ROUNDS }, async (_, round) => {
        const email = `owner-${round}@example.com`;
        const next = `taker-${round}@example.com`;
        const user = await signUp(a, email);
        await b.request('POST', '/api/email/change', { token: user.access_token, body: { new_email: next } });
        const change = await tokenTo(next, /confirm your new email/i);
        await a.request('POST', '/api/password/forgot', { body: { email } });
        const reset = await tokenTo(email, /reset your password/i);
        const [resetRes, changeRes] = await Promise.all([
          a.request('POST', '/api/password/reset', {
            body: { token: reset, new_password: `reset password ${round}` },
          }),
          // With the account's session: the confirmation's proof of who asked (services/registrant-proof.ts).
          b.request('POST', '/api/email/change/confirm', {
            token: user.access_token,
            body: { token: change },
          }),
        ]);
        const after = (await cluster.store.getUserById(user.userId))!;
        return { round, reset: outcome(resetRes), change: outcome(changeRes), email: after.email };
      }),
    );
    console.log(JSON.stringify(rounds));
    for (const r of rounds) {
      expect(r.reset.status === 200 && r.change.status === 200, JSON.stringify(r)).toBe(false);
    }
  });
});
