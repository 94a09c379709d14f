/**
 * A new invitation to an address replaces its open one (regression: both stayed listed, with different roles, and
 * the leftover answered 409 once the other was accepted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { linkIn, startSmtp, tokenIn, type TestSmtp } from './support/smtp.js';

let smtp: TestSmtp;
let server: TestServer;
let admin: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  smtp = await startSmtp();
  server = await startServer({ smtpUrl: smtp.url, publicUrl: 'http://ui.test' });
  admin = await signUp(server, 'admin@example.com');
});
afterAll(async () => {
  await server.close();
  await smtp.stop();
});

const invite = (roles: string[]) =>
  server.request('POST', '/api/admin/invitations', {
    token: admin.access_token,
    body: { email: 'dup@example.com', roles },
  });

describe('inviting an address twice', () => {
  it('the new invitation replaces the open one: one listed, the old link dead, the new one accepted', async () => {
    expect((await invite(['admin'])).status).toBe(201);
    const first = tokenIn(linkIn(await smtp.waitFor((m) => m.to.includes('dup@example.com'))));
    const second = await invite([]);
    expect(second.status).toBe(201);
    const secondMail = await smtp.waitFor((m) => m.to.includes('dup@example.com') && !m.text.includes(first));
    const list = await server.request('GET', '/api/admin/invitations', { token: admin.access_token });
    const open = (list.body.invitations as { id: string; email: string; roles: string[] }[]).filter(
      (i) => i.email === 'dup@example.com',
    );
    expect(open).toEqual([expect.objectContaining({ id: second.body.id, roles: [] })]);
    const old = await server.request('POST', '/api/invitations/accept', {
      body: { token: first, password: 'invited password 1' },
    });
    expect(old.body.code).toBe('ERR_LINK_USED');
    const accepted = await server.request('POST', '/api/invitations/accept', {
      body: { token: tokenIn(linkIn(secondMail)), password: 'invited password 1' },
    });
    expect(accepted.status).toBe(201);
    expect(accepted.body.roles).toEqual([]);
  });
});
