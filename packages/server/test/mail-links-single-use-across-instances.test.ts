/**
 * Every one-time mail link works once across a deployment: two instances over one PostgreSQL database and one Redis,
 * the same link fired at both at once (8 attempts, split between them). Exactly one attempt succeeds; the others
 * get `400 ERR_LINK_USED` (never a 500); and what the link does happens once — one password change (exactly one of
 * the raced passwords signs in), one verification, one change of address, one account from an invitation — with
 * one security event and one notice mail each ([accounts.md](../../../docs/accounts.md#one-time-links)). Also: two
 * links of one account (two resets, two address changes) used at once change the account once; an invitation
 * revoked on one instance while accepted on the other makes one account or none; and a new device signing in on
 * both instances at once is told of once ([mfa.md](../../../docs/mfa.md#theft-signals)).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  clusterBackendsAvailable,
  eventCount,
  expectOneWinner,
  fireAtAll,
  outboxDrained,
  outcome,
  startCluster,
  type Cluster,
} from './support/cluster.js';
import { signUp, type TestServer } from './support/jot-server.js';
import { linkIn, startSmtp, tokenIn, type TestSmtp } from './support/smtp.js';

const ATTEMPTS = 8;
const PASSWORD = 'correct horse battery';
const LINK_USED = { status: 400, codes: ['ERR_LINK_USED'] } as const;
const LINK_USED_OUTCOME = { status: 400, code: 'ERR_LINK_USED' };

const available = await clusterBackendsAvailable('single-use mail links across instances');

describe.runIf(available)('one-time mail links raced over two instances (PostgreSQL + Redis)', () => {
  let smtp: TestSmtp;
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;
  let admin: string;

  beforeAll(async () => {
    smtp = await startSmtp();
    cluster = await startCluster({ smtpUrl: smtp.url, publicUrl: 'http://ui.test', mailRetryBase: '1s' });
    [a, b] = cluster.instances as [TestServer, TestServer];
    admin = (await signUp(a, 'admin@example.com')).access_token;
  });
  afterAll(async () => {
    await cluster?.close();
    await smtp?.stop();
  });

  /** The token of the (only) message to `to` whose subject matches. */
  async function linkTokenTo(to: string, subject: RegExp): Promise<string> {
    return tokenIn(linkIn(await smtp.waitFor((m) => m.to.includes(to) && subject.test(m.subject))));
  }

  /** How many messages `to` received with a matching subject, once every queued message has been sent. */
  async function mailsTo(to: string, subject: RegExp): Promise<number> {
    await outboxDrained(cluster.store);
    return smtp.messages.filter((m) => m.to.includes(to) && subject.test(m.subject)).length;
  }

  it('a password-reset link resets once: one new password works, one event, one notice', async () => {
    const email = 'reset-race@example.com';
    const { userId } = await signUp(a, email);
    expect((await b.request('POST', '/api/password/forgot', { body: { email } })).status).toBe(202);
    const token = await linkTokenTo(email, /reset your password/i);

    const passwords = Array.from({ length: ATTEMPTS }, (_, i) => `raced new password ${i}`);
    const results = await fireAtAll(cluster.instances, ATTEMPTS, (server, i) =>
      server.request('POST', '/api/password/reset', { body: { token, new_password: passwords[i] } }),
    );
    const won = expectOneWinner(results, 200, LINK_USED);

    // Exactly the winner's password signs in — on either instance; the old one and the losers' do not.
    for (const [i, password] of passwords.entries()) {
      const login = await [a, b][i % 2]!.request('POST', '/api/login', { body: { email, password } });
      expect({ attempt: i, status: login.status }).toEqual({ attempt: i, status: i === won ? 200 : 401 });
    }
    expect((await a.request('POST', '/api/login', { body: { email, password: PASSWORD } })).status).toBe(401);
    expect(await eventCount(cluster.store, 'password_reset', userId)).toBe(1);
    expect(await mailsTo(email, /your password was reset/i)).toBe(1);
  });

  it('two reset links of one account used at once on both instances: one password change, once', async () => {
    const email = 'two-resets@example.com';
    const { userId } = await signUp(b, email);
    const tokens: string[] = [];
    for (const server of [a, b]) {
      const after = smtp.messages.length;
      expect((await server.request('POST', '/api/password/forgot', { body: { email } })).status).toBe(202);
      const mail = await smtp.waitFor(
        (m) =>
          m.to.includes(email) && /reset your password/i.test(m.subject) && smtp.messages.indexOf(m) >= after,
      );
      tokens.push(tokenIn(linkIn(mail)));
    }
    expect(tokens[0]).not.toBe(tokens[1]);

    // Each link four times, each link on both instances, each attempt with its own password.
    const passwords = Array.from({ length: ATTEMPTS }, (_, i) => `second raced password ${i}`);
    const results = await fireAtAll(cluster.instances, ATTEMPTS, (server, i) =>
      server.request('POST', '/api/password/reset', {
        body: { token: tokens[Math.floor(i / 2) % 2], new_password: passwords[i] },
      }),
    );
    const won = expectOneWinner(results, 200, LINK_USED);
    for (const [i, password] of passwords.entries()) {
      const login = await a.request('POST', '/api/login', { body: { email, password } });
      expect({ attempt: i, status: login.status }).toEqual({ attempt: i, status: i === won ? 200 : 401 });
    }
    expect(await eventCount(cluster.store, 'password_reset', userId)).toBe(1);
    expect(await mailsTo(email, /your password was reset/i)).toBe(1);
  });

  it('an email-verification link verifies once: one event', async () => {
    const email = 'verify-race@example.com';
    const { userId, access_token: accessToken } = await signUp(b, email);
    const token = await linkTokenTo(email, /confirm your email/i);

    // Sent signed in to the account (the first verification's proof of who registered it, with no password check:
    // a burst of password checks would meet the sign-in lock, which is not what this test is about).
    const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
      server.request('POST', '/api/email/verify', { token: accessToken, body: { token } }),
    );
    const won = expectOneWinner(results, 200, LINK_USED);
    expect(results[won]!.body).toMatchObject({ email, email_verified: true });
    expect((await cluster.store.getUserById(userId))!.emailVerifiedAt).not.toBeNull();
    expect(await eventCount(cluster.store, 'email_verified', userId)).toBe(1);
  });

  it('an email-change link changes the address once: one event, one notice to the old address', async () => {
    const email = 'change-race@example.com';
    const next = 'changed-race@example.com';
    const user = await signUp(a, email);
    const asked = await b.request('POST', '/api/email/change', {
      token: user.access_token,
      body: { new_email: next },
    });
    expect(asked.status).toBe(202);
    const token = await linkTokenTo(next, /confirm your new email/i);

    // Sent signed in to the account, which is the confirmation's proof of who asked (no password check: see above).
    const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
      server.request('POST', '/api/email/change/confirm', { token: user.access_token, body: { token } }),
    );
    const won = expectOneWinner(results, 200, LINK_USED);
    expect(results[won]!.body).toMatchObject({ email: next, email_verified: true });
    expect((await cluster.store.getUserById(user.userId))!.email).toBe(next);
    expect(await eventCount(cluster.store, 'email_changed', user.userId)).toBe(1);
    expect(await mailsTo(email, /your email address was changed/i)).toBe(1);
  });

  it('two email-change links of one account confirmed at once on both instances: one address wins, once', async () => {
    const email = 'two-links@example.com';
    const targets = ['first-target@example.com', 'second-target@example.com'];
    const user = await signUp(b, email);
    const tokens: string[] = [];
    for (const [i, target] of targets.entries()) {
      const asked = await [a, b][i]!.request('POST', '/api/email/change', {
        token: user.access_token,
        body: { new_email: target },
      });
      expect(asked.status).toBe(202);
      tokens.push(await linkTokenTo(target, /confirm your new email/i));
    }

    // Each link four times, each link on both instances.
    const results = await fireAtAll(cluster.instances, ATTEMPTS, (server, i) =>
      server.request('POST', '/api/email/change/confirm', {
        token: user.access_token,
        body: { token: tokens[Math.floor(i / 2) % 2]! },
      }),
    );
    const won = expectOneWinner(results, 200, LINK_USED);
    const address = targets[Math.floor(won / 2) % 2]!;
    expect(results[won]!.body.email).toBe(address);
    expect((await cluster.store.getUserById(user.userId))!.email).toBe(address);
    expect(await eventCount(cluster.store, 'email_changed', user.userId)).toBe(1);
    expect(await mailsTo(email, /your email address was changed/i)).toBe(1);
  });

  it('a new device signing in on both instances at once is told of once: one event, one mail', async () => {
    const email = 'new-device-race@example.com';
    const { userId } = await signUp(a, email); // the first device (the test client's agent) is known now
    const firefox = {
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
    };
    const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
      server.request('POST', '/api/login', { body: { email, password: PASSWORD }, headers: firefox }),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    expect(await eventCount(cluster.store, 'new_device_sign_in', userId)).toBe(1);
    expect(await mailsTo(email, /new sign-in/i)).toBe(1);
  });

  it('an invitation accepted with different passwords at once makes one account: one password works', async () => {
    const email = 'invited-race@example.com';
    const invite = await a.request('POST', '/api/admin/invitations', {
      token: admin,
      body: { email, roles: ['editor'] },
    });
    expect(invite.status).toBe(201);
    const token = await linkTokenTo(email, /you are invited/i);

    const passwords = Array.from({ length: ATTEMPTS }, (_, i) => `invited racer password ${i}`);
    const results = await fireAtAll(cluster.instances, ATTEMPTS, (server, i) =>
      server.request('POST', '/api/invitations/accept', {
        body: { token, password: passwords[i], name: `Racer ${i}` },
      }),
    );
    const won = expectOneWinner(results, 201, LINK_USED);
    expect(results[won]!.body).toMatchObject({ email, roles: ['editor'], email_verified: true });

    const found = await cluster.store.searchUsers({ q: 'invited-race', limit: 10 });
    expect(found.total).toBe(1);
    expect(found.users[0]!.name).toBe(`Racer ${won}`);
    for (const [i, password] of passwords.entries()) {
      const login = await [a, b][i % 2]!.request('POST', '/api/login', { body: { email, password } });
      expect({ attempt: i, status: login.status }).toEqual({ attempt: i, status: i === won ? 200 : 401 });
    }
    expect(await eventCount(cluster.store, 'invitation_accepted', found.users[0]!.id)).toBe(1);
    const open = await b.request('GET', '/api/admin/invitations', { token: admin });
    expect(open.body.invitations.map((i: { id: string }) => i.id)).not.toContain(invite.body.id);
  });

  it('an invitation revoked on one instance while it is accepted on the other: either one account or none', async () => {
    for (let round = 0; round < 4; round++) {
      const email = `revoke-race-${round}@example.com`;
      const invite = await a.request('POST', '/api/admin/invitations', { token: admin, body: { email } });
      expect(invite.status).toBe(201);
      const token = await linkTokenTo(email, /you are invited/i);
      const [revoked, ...accepts] = await Promise.all([
        a.request('DELETE', `/api/admin/invitations/${invite.body.id}`, { token: admin }),
        ...[b, a, b].map((server) =>
          server.request('POST', '/api/invitations/accept', { body: { token, password: PASSWORD } }),
        ),
      ]);
      const accepted = accepts.filter((r) => r.status === 201);
      expect({ round, revoked: revoked.status, accepted: accepted.length }).toEqual(
        revoked.status === 200
          ? { round, revoked: 200, accepted: 0 }
          : { round, revoked: revoked.status, accepted: 1 },
      );
      expect([200, 404]).toContain(revoked.status);
      for (const res of accepts) if (res.status !== 201) expect(outcome(res)).toEqual(LINK_USED_OUTCOME);
      const user = await cluster.store.getUserByEmail(email);
      expect(user === undefined).toBe(accepted.length === 0);
    }
  });
});
