/**
 * A flood of refused attempts is not a flood of security-event rows: an attempt refused by the sign-in lock, or by a
 * signed-in user's own limit, records `rate_limited` once per (limit, address, account) and window on an instance,
 * not once per request (each one was a database write before the answer — cheap for the sender, not for us).
 */
import { randomInt } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from './support/jot-server.js';

const PASSWORD = 'correct horse battery';
let nextAddress = randomInt(1, 2 ** 24 - 10_000);
const freshAddress = (): string =>
  `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}`;

async function rateLimited(server: TestServer, limit: string): Promise<{ ip: string | null }[]> {
  const events = await server.app.jot.store.listSecurityEvents({ limit: 500, type: 'rate_limited' });
  return events.filter((e) => e.detail.limit === limit);
}

describe('rate_limited events under a flood of refused attempts', () => {
  let server: TestServer;
  let limited: TestServer;
  beforeAll(async () => {
    server = await startServer({ loginLockout: '2/5m', trustProxy: true });
    // The signed-in limits share JOT_RATE_LIMIT_AUTH's budget; each request below comes from a new address.
    limited = await startServer({ rateLimitAuth: '3/10m', trustProxy: true });
  });
  afterAll(async () => {
    await server?.close();
    await limited?.close();
  });

  it('a locked account hammered from one address: one event, and one more from another address', async () => {
    await signUp(server, 'locked@example.com', PASSWORD);
    const address = freshAddress();
    const login = (from: string) =>
      server.request('POST', '/api/login', {
        headers: { 'x-forwarded-for': from },
        body: { email: 'locked@example.com', password: 'wrong password' },
      });
    for (let i = 0; i < 2; i++) expect((await login(freshAddress())).status).toBe(401);
    for (let i = 0; i < 12; i++) {
      const res = await login(address);
      expect(res.status, res.text).toBe(429);
      expect(res.body.code).toBe('ERR_LOGIN_LOCKED');
    }
    expect((await rateLimited(server, 'login_account')).filter((e) => e.ip === address)).toHaveLength(1);
    const other = freshAddress();
    for (let i = 0; i < 3; i++) expect((await login(other)).status).toBe(429);
    expect((await rateLimited(server, 'login_account')).filter((e) => e.ip === other)).toHaveLength(1);
  });

  it('a signed-in user over their own limit: one event for the window, however many refused requests', async () => {
    const { access_token } = await signUp(limited, 'busy@example.com', PASSWORD);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await limited.request('POST', '/api/reauth', {
        token: access_token,
        headers: { 'x-forwarded-for': freshAddress() },
        body: { password: 'wrong password' },
      });
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(9);
    expect(await rateLimited(limited, 'password-check')).toHaveLength(1);
  });
});
