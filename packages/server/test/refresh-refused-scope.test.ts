/**
 * RFC 6749 §6: a refresh asking for a scope the session was not granted is refused (`invalid_scope`) without
 * spending the refresh token, so the client's next refresh — after the grace window — works instead of ending the
 * session as reuse.
 */
/**
 * Review finding: a refresh_token grant whose `scope` is refused (invalid_scope) must not spend the refresh token.
 * RFC 6749 §5.2 / §6: an error response leaves the grant as it was; the client may retry later with it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { postForm } from './support/oauth.js';

let server: TestServer;
let now = Date.now();

beforeAll(async () => {
  server = await startServer({ refreshGraceWindow: '10s' }, { clock: () => now });
  await signUp(server, 'admin-scope@example.com'); // the first user is the admin
});
afterAll(async () => {
  await server?.close();
});

it('a refused scope leaves the refresh token unspent: a retry a minute later refreshes, the session lives', async () => {
  const user = await signUp(server, 'user-scope@example.com'); // roles: user → scope "profile" only
  const widened = await postForm(server, '/oauth/token', {
    grant_type: 'refresh_token',
    refresh_token: user.refresh_token,
    client_id: 'jot',
    scope: 'admin',
  });
  expect(widened.status).toBe(400);
  expect(widened.body.error).toBe('invalid_scope');

  now += 60_000; // a minute later (past the 10 s grace window) the client retries without the bad scope
  const retry = await postForm(server, '/oauth/token', {
    grant_type: 'refresh_token',
    refresh_token: user.refresh_token,
    client_id: 'jot',
  });
  expect({ status: retry.status, body: retry.body }).toEqual({
    status: 200,
    body: expect.objectContaining({ token_type: 'Bearer' }),
  });
  // …and the session must still be alive
  const whoami = await server.request('GET', '/api/whoami', { token: user.access_token });
  expect(whoami.status).toBe(200);
});
