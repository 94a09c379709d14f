/**
 * `POST /api/admin/invitations` with an address the JSON schema lets through but no account can have (zero-width
 * characters, an empty domain label): the store's `InvalidEmailError` is the admin's mistake, answered 400
 * `ERR_EMAIL_INVALID` as on every other path that takes an address (services/accounts.ts `emailError`, the CLI's
 * `jot invite`), not 500 `ERR_INTERNAL`; and no invitation is stored. (Found by review.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from './support/jot-server.js';

let server: TestServer;
let admin: Awaited<ReturnType<typeof signUp>>;
beforeAll(async () => {
  server = await startServer();
  admin = await signUp(server, 'admin@example.com');
});
afterAll(async () => {
  await server.close();
});

describe('POST /api/admin/invitations with an address no account can have', () => {
  it.each(['zero\u200bwidth@example.com', 'ada@example..com'])('answers 400, not 500 (%j)', async (email) => {
    const res = await server.request('POST', '/api/admin/invitations', {
      token: admin.access_token,
      body: { email, roles: [] },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_EMAIL_INVALID');
    const open = await server.request('GET', '/api/admin/invitations', { token: admin.access_token });
    expect(open.status).toBe(200);
    expect(JSON.stringify(open.body)).not.toContain('width@');
    expect(JSON.stringify(open.body)).not.toContain('example..com');
  });
});
