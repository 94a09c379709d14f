/**
 * The password checks outside sign-in — re-authentication and password change — as the lockout tests drive them:
 * a server whose sign-in lockout frees `BUDGET` failures, and one check on either route.
 */
import { expect } from 'vitest';

import { startServer, type TestResponse, type TestServer } from './jot-server.js';

/** Free failures (`JOT_LOGIN_LOCKOUT` `2/30s`): the second failure locks for 30 s. */
export const BUDGET = 2;
/** The new password a check at `/api/password` asks for. */
export const NEW_PASSWORD = 'a brand new passphrase 9';

/** The routes that check the signed-in user's password. */
export type PasswordCheckPath = '/api/reauth' | '/api/password';

/** A server with the lockout of `BUDGET` free failures, trusting X-Forwarded-For, without a per-address limit. */
export function startLockoutServer(): Promise<TestServer> {
  return startServer({ loginLockout: `${BUDGET}/30s`, trustProxy: true, rateLimitAuth: '100000/min' });
}

let nextAccount = 0;
/** An address no other account of the run has. */
export const newEmail = (what: string): string => `${what}-${Date.now()}-${nextAccount++}@example.com`;

/** One password check on `path` with the access token (and a cookie, when given). */
export function passwordCheck(
  server: TestServer,
  path: PasswordCheckPath,
  token: string,
  password: string,
  cookie?: string,
): Promise<TestResponse> {
  const body =
    path === '/api/reauth' ? { password } : { current_password: password, new_password: NEW_PASSWORD };
  return server.request('POST', path, { token, body, headers: cookie === undefined ? {} : { cookie } });
}

/** A check refused for its wrong password. */
export function expectWrong(res: TestResponse): void {
  expect(res.status, res.text).toBe(403);
  expect(res.body.code).toBe('ERR_INVALID_CREDENTIALS');
}
