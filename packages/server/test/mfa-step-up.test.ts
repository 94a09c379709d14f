/**
 * Step-up that demands a second factor, end to end through `@jot/client` (bearer mode, Node's fetch) against a real
 * server with a controlled clock: the MFA policy for admins, `acr_values="aal2"` challenges that a password cannot
 * answer, `client.stepUp` with a TOTP code, the two-step `login` → `completeMfa`, and the sensitive actions (admin
 * changes, password change, removing a factor, an admin's MFA reset) that need it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeUnverified } from '@jot/jose';
import { createClient, isMfaRequired, isStepUpError, type JotClient } from '@jot/client';

import { base32Decode, totpCode } from '../src/services/totp.js';
import { startServer, type TestServer, signUpVerified, verifyAddressOf } from './support/jot-server.js';
import { enrolTotp } from './support/totp-enrolment.js';

const PASSWORD = 'correct horse battery';
let now = Date.UTC(2032, 2, 1, 9, 0, 5);
let server: TestServer;
let client: JotClient;
let secret: Buffer;
let userId: string;
const challenges: { maxAge: number | undefined; acrValues: string | undefined }[] = [];

/** A code of a time step not used before (each test moves the clock on by at least one step). */
function freshCode(): string {
  now += 30_000;
  return totpCode(secret, now);
}

async function stepUpError(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (err) {
    return err;
  }
  throw new Error('expected the action to be refused');
}

beforeAll(async () => {
  server = await startServer(
    { stepUpMaxAge: '15m', accessTokenTtl: '1h', mfaRequired: 'admins' },
    { clock: () => now },
  );
  client = createClient({ baseUrl: server.url, mode: 'bearer', locks: null, broadcast: false });
  client.on('session:step-up-required', (c) => challenges.push(c));
  const reg = await server.request('POST', '/api/register', {
    body: { email: 'admin@example.com', password: PASSWORD },
  });
  expect(reg.body.roles).toEqual(['admin']);
  await verifyAddressOf(server, reg.body.id as string);
  userId = (await signUpVerified(server, 'user@example.com')).userId;
  await client.login('admin@example.com', PASSWORD);
});
afterAll(async () => {
  client?.close();
  await server?.close();
});

describe('MFA policy and step-up through @jot/client', () => {
  it('admin actions refuse an admin without a second factor (JOT_MFA_REQUIRED=admins)', async () => {
    const err = await stepUpError(() => client.json('/api/admin/users'));
    expect(err).toMatchObject({ code: 'ERR_MFA_ENROLLMENT_REQUIRED', status: 403 });
    // The account page stays usable, enough to enrol.
    expect((await client.json<{ enabled: boolean; required: boolean }>('/api/mfa')).required).toBe(true);
  });

  it('after enrolling, a one-factor token is challenged for acr aal2, answered by client.stepUp', async () => {
    const start = await client.json<{ factor_id: string; secret: string }>('/api/mfa/totp', {
      method: 'POST',
    });
    secret = base32Decode(start.secret);
    const confirmed = await client.json<{ recovery_codes: string[] }>('/api/mfa/totp/confirm', {
      method: 'POST',
      body: { factor_id: start.factor_id, code: totpCode(secret, now) },
    });
    expect(confirmed.recovery_codes).toHaveLength(10);

    // The client still holds its password-only access token.
    const err = await stepUpError(() => client.json('/api/admin/users'));
    expect(isStepUpError(err)).toBe(true);
    expect(challenges.at(-1)).toEqual({ maxAge: 900, acrValues: 'aal2' });

    await client.stepUp({ code: freshCode() });
    const who = await client.whoami();
    expect(who.claims).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    expect(await client.json('/api/admin/users')).toMatchObject({ users: expect.any(Array) });
  });

  it('a stale authentication is challenged again; the password alone does not answer it', async () => {
    now += 16 * 60_000;
    const change = () =>
      client.json(`/api/admin/users/${userId}/roles`, { method: 'PUT', body: { roles: ['editor'] } });
    const res = await client.fetch(`/api/admin/users/${userId}/roles`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ roles: ['editor'] }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      /error="insufficient_user_authentication", error_description="[^"]+", acr_values="aal2", max_age="900"$/,
    );

    await client.reauthenticate(PASSWORD);
    expect((await client.whoami()).claims.acr).toBe('aal1');
    expect(isStepUpError(await stepUpError(change))).toBe(true);

    const wrong = await stepUpError(() => client.stepUp({ code: '000000' }));
    expect(wrong).toMatchObject({ code: 'ERR_MFA_CODE_INVALID', status: 403 });
    await client.stepUp({ code: freshCode() });
    expect(await change()).toMatchObject({ roles: ['editor'] });
  });

  it('signing in again takes two steps: login throws mfa_required, completeMfa finishes it', async () => {
    await client.logout();
    const err = await stepUpError(() => client.login('admin@example.com', PASSWORD));
    expect(isMfaRequired(err)).toBe(true);
    if (!isMfaRequired(err)) return;
    expect(err.methods).toEqual(['totp', 'recovery_code']);
    expect(client.signedIn).toBe(false);
    await client.completeMfa(err.mfaToken, { code: freshCode() });
    expect(client.signedIn).toBe(true);
    expect((await client.whoami()).claims).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
  });

  it('password change and removing a factor need a fresh second factor', async () => {
    now += 16 * 60_000;
    const change = () =>
      client.json('/api/password', {
        method: 'POST',
        body: { current_password: PASSWORD, new_password: 'another horse battery' },
      });
    expect(isStepUpError(await stepUpError(change))).toBe(true);
    const { factors } = await client.json<{ factors: { id: string }[] }>('/api/mfa');
    const remove = () => client.json(`/api/mfa/factors/${factors[0]!.id}`, { method: 'DELETE' });
    expect(isStepUpError(await stepUpError(remove))).toBe(true);

    await client.stepUp({ code: freshCode() });
    await change();
    // A password change signs out every other token, this one included (its tokens come back in the answer, which
    // the plain json() call does not adopt): sign in again, in two steps.
    const again = await stepUpError(() => client.login('admin@example.com', 'another horse battery'));
    if (!isMfaRequired(again)) throw again;
    await client.completeMfa(again.mfaToken, { code: freshCode() });
    await remove();
    expect(await client.json('/api/mfa')).toMatchObject({ enabled: false, recovery_codes_left: 0 });
    const events = await server.app.jot.store.listSecurityEvents({ limit: 20, type: 'mfa_removed' });
    expect(events).toHaveLength(1);
  });

  it("an admin's MFA reset of another user needs step-up and is recorded", async () => {
    // The user enrols (as themself, through the HTTP API).
    const login = await server.request('POST', '/api/login', {
      body: { email: 'user@example.com', password: PASSWORD },
    });
    await enrolTotp(server, login.body.access_token as string, { at: now });
    expect(
      (
        await server.request('POST', '/api/login', {
          body: { email: 'user@example.com', password: PASSWORD },
        })
      ).status,
    ).toBe(403);

    // The admin sets up an authenticator app again (they removed theirs above); later, a reset needs step-up.
    const start2 = await client.json<{ factor_id: string; secret: string }>('/api/mfa/totp', {
      method: 'POST',
    });
    secret = base32Decode(start2.secret);
    await client.json('/api/mfa/totp/confirm', {
      method: 'POST',
      body: { factor_id: start2.factor_id, code: freshCode() },
    });
    now += 16 * 60_000;
    const reset = () => client.json(`/api/admin/users/${userId}/mfa`, { method: 'DELETE' });
    expect(isStepUpError(await stepUpError(reset))).toBe(true);
    await client.stepUp({ code: freshCode() });
    expect(await client.json<{ users: { user_id: string; totp: number }[] }>('/api/admin/mfa')).toEqual({
      users: expect.arrayContaining([{ user_id: userId, totp: 1, webauthn: 0 }]),
    });
    expect(await reset()).toEqual({ removed: 1 });
    const [event] = await server.app.jot.store.listSecurityEvents({ limit: 5, type: 'mfa_reset' });
    expect(event).toMatchObject({ userId, detail: { removed: 1 } });
    expect(
      (
        await server.request('POST', '/api/login', {
          body: { email: 'user@example.com', password: PASSWORD },
        })
      ).status,
    ).toBe(200);
  });
});

describe('JOT_MFA_REQUIRED=all', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startServer({ mfaRequired: 'all' });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it('lets an account without a factor reach only what it needs to enrol one', async () => {
    const { access_token: token } = await signUpVerified(strict, 'new@example.com');
    expect((await strict.request('GET', '/api/whoami', { token })).status).toBe(200);
    const account = await strict.request('PATCH', '/api/account', { token, body: { name: 'N' } });
    expect(account.status).toBe(403);
    expect(account.body.code).toBe('ERR_MFA_ENROLLMENT_REQUIRED');
    const { confirmed } = await enrolTotp(strict, token);
    const after = await strict.request('PATCH', '/api/account', {
      token: confirmed.body.access_token,
      body: { name: 'N' },
    });
    expect(after.status).toBe(200);
  });

  /** A new account with an authenticator app: its id and the aal2 access token the confirmation answered. */
  async function enrolled(email: string): Promise<{ userId: string; token: string; sid: string }> {
    const { access_token: first, userId } = await signUpVerified(strict, email);
    const { confirmed } = await enrolTotp(strict, first);
    const token: string = confirmed.body.access_token;
    const claims = decodeUnverified(token).payload as { acr: string; sid: string };
    expect(claims.acr).toBe('aal2');
    return { userId, token, sid: claims.sid };
  }

  it("the session row's acr, not the token's, decides: a theft signal's step-up holds at once", async () => {
    const { token, sid } = await enrolled('lowered@example.com');
    const patch = () => strict.request('PATCH', '/api/account', { token, body: { name: 'L' } });
    expect((await patch()).status).toBe(200);
    // What a theft signal that demands step-up does to the session row.
    await strict.app.jot.store.setSessionAuthentication(sid, { authTime: 0, amr: ['pwd'], acr: 'aal1' });
    const refused = await patch();
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('acr_values="aal2"');
  });

  it('a multi-factor token minted before the last factor was reset no longer passes the policy', async () => {
    const { userId, token } = await enrolled('reset@example.com');
    const patch = () => strict.request('PATCH', '/api/account', { token, body: { name: 'R' } });
    expect((await patch()).status).toBe(200);
    await strict.app.jot.mfa.factors.reset(userId);
    const refused = await patch();
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('ERR_MFA_ENROLLMENT_REQUIRED');
  });
});
