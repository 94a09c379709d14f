/**
 * Without Redis (no `JOT_REDIS_URL`, the single-instance default) the rate limits count in this instance's memory,
 * and they hold as they do with Redis (found by review; @fastify/rate-limit's own in-memory store was used before):
 * - a flood of new keys never reopens a spent budget: spending one address's mail budget and then asking for links
 *   to thousands of made-up addresses (which pushed the victim out of a 5,000-key LRU) leaves it spent;
 * - the routes that mail an address someone typed (forgotten password, new verification link, email change) share
 *   one budget per recipient, as through Redis, rather than one each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from './support/jot-server.js';

const PASSWORD = 'correct horse battery';
/** A window no test outlives, so a budget found open again was forgotten, not ended. */
const MAIL_RATE = '5/15min';

async function post(
  server: TestServer,
  url: string,
  body: object,
  token?: string,
): Promise<{ status: number; code?: string }> {
  const res = await server.app.inject({
    method: 'POST',
    url,
    payload: body,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.statusCode, code: res.json<{ code?: string }>().code };
}

describe('rate limits without Redis', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ rateLimitMail: MAIL_RATE, rateLimitAuth: '1000000/min' });
    expect(server.config.redisUrl).toBeUndefined();
  });
  afterAll(async () => {
    await server.close();
  });

  it('a flood of requests for 5,001 made-up addresses does not reopen the spent mail budget of one address', async () => {
    const victim = 'flood-victim@example.com';
    // At once: every answer of a mail route waits out the route's floor, so one after another they add up.
    const spent = await Promise.all(
      Array.from({ length: 5 }, () => post(server, '/api/password/forgot', { email: victim })),
    );
    expect(spent.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect(await post(server, '/api/password/forgot', { email: victim })).toMatchObject({
      status: 429,
      code: 'ERR_RATE_LIMITED',
    });

    // More made-up recipients than @fastify/rate-limit's in-memory store keeps (5,000), a batch at a time (each batch
    // waits out the floor once).
    const FLOOD = 5_001;
    const BATCH = 2_500;
    for (let start = 0; start < FLOOD; start += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, FLOOD - start) }, (_, i) =>
        post(server, '/api/password/forgot', { email: `made-up-${start + i}@example.com` }),
      );
      for (const answer of await Promise.all(batch)) expect(answer.status).toBe(202);
    }

    // Still within the victim's 15-minute window: the budget is still spent.
    expect(await post(server, '/api/password/forgot', { email: victim })).toMatchObject({
      status: 429,
      code: 'ERR_RATE_LIMITED',
    });
  }, 120_000);

  it('the forgotten-password, verification and email-change routes share one budget per recipient', async () => {
    const recipient = 'shared-recipient@example.com';
    const user = await signUp(server, 'changes-email@example.com', PASSWORD);
    // The five of the budget at once (each answer waits out the mail floor), over all three routes.
    const spent = await Promise.all([
      post(server, '/api/password/forgot', { email: recipient }),
      post(server, '/api/password/forgot', { email: recipient }),
      post(server, '/api/email/verification', { email: recipient }),
      post(server, '/api/email/verification', { email: recipient }),
      post(server, '/api/email/change', { new_email: recipient }, user.access_token),
    ]);
    expect(spent.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    // The sixth message to the recipient, whichever route asks for it, is refused.
    const sixth = await Promise.all([
      post(server, '/api/password/forgot', { email: recipient }),
      post(server, '/api/email/verification', { email: recipient }),
      post(server, '/api/email/change', { new_email: recipient }, user.access_token),
    ]);
    const refused = { status: 429, code: 'ERR_RATE_LIMITED' };
    expect(sixth).toMatchObject([refused, refused, refused]);
  });
});
