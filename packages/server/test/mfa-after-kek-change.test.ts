/**
 * A second factor after the KEK changed (docs/keys.md, "What else the KEK keys"): the operator lost `JOT_KEK`,
 * deleted the signing keys and started with a new one. The authenticator app's secret was sealed under the old KEK
 * and can no longer be opened: the sign-in's second step says so in a 409 the user can act on (use a passkey, or
 * ask an admin to reset the factors) — not a 500 — and an old recovery code is simply not a valid code.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { totpCode } from '../src/services/totp.js';
import { startServer, type TestServer, signUpVerified } from './support/jot-server.js';
import { enrolTotp } from './support/totp-enrolment.js';

const EMAIL = 'kek-change@example.com';
const PASSWORD = 'correct horse battery';

describe('an authenticator app sealed under the previous KEK', () => {
  let server: TestServer;
  let secret: Buffer;
  let recovery: string[];

  beforeAll(async () => {
    const before = await startServer({ kek: randomBytes(32).toString('base64url') });
    const { access_token } = await signUpVerified(before, EMAIL, PASSWORD);
    const enrolled = await enrolTotp(before, access_token);
    secret = enrolled.secret;
    recovery = enrolled.confirmed.body.recovery_codes as string[];
    await before.close({ keepData: true });
    // The documented way out of a lost KEK: delete the sealed signing keys, start with a new KEK.
    const db = new Database(join(before.dataDir, 'jot.db'));
    try {
      db.prepare('DELETE FROM signing_keys').run();
    } finally {
      db.close();
    }
    server = await startServer({ kek: randomBytes(32).toString('base64url') }, { dataDir: before.dataDir });
  });
  afterAll(() => server?.close());

  async function mfaToken(): Promise<string> {
    const res = await server.request('POST', '/api/login', { body: { email: EMAIL, password: PASSWORD } });
    expect(res.status, res.text).toBe(403);
    return res.body.mfa_token as string;
  }

  it('refuses the second step with ERR_MFA_FACTOR_UNREADABLE (409) and a way forward, not a 500', async () => {
    const res = await server.request('POST', '/api/login/mfa', {
      body: { mfa_token: await mfaToken(), code: totpCode(secret, Date.now()) },
    });
    expect(res.status, res.text).toBe(409);
    expect(res.body.code).toBe('ERR_MFA_FACTOR_UNREADABLE');
    expect(res.body.error_description).toMatch(/passkey.*administrator/);
    // The answer is documented where clients look for it.
    const api = await server.request('GET', '/openapi.json');
    expect(Object.keys(api.body.paths['/api/login/mfa'].post.responses)).toContain('409');
    expect(Object.keys(api.body.paths['/api/mfa/step-up'].post.responses)).toContain('409');
  });

  it('treats a recovery code issued before as not valid (401), not a 500', async () => {
    expect(recovery.length).toBeGreaterThan(0);
    const res = await server.request('POST', '/api/login/mfa', {
      body: { mfa_token: await mfaToken(), recovery_code: recovery[0] },
    });
    expect(res.status, res.text).toBe(401);
    expect(res.body.code).toBe('ERR_MFA_CODE_INVALID');
  });
});
