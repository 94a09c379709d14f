/**
 * Everything security-relevant is an event (issue 9): every type in `SECURITY_EVENT_TYPES` is produced here by a real
 * request, is visible to admins through `GET /api/admin/events`, and is logged — and no log line carries a password
 * or a token. Three servers: the account-security core; the account lifecycle with mail, OAuth clients, second
 * factors and theft signals (SMTP, a controlled clock, addresses through a trusted proxy); single-token mode.
 */
import { Writable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SECURITY_EVENT_TYPES } from '../src/index.js';
import { totpCode } from '../src/services/totp.js';
import { startServer, verifyAddressOf, type TestServer } from './support/jot-server.js';
import { linkIn, startSmtp, tokenIn, type TestSmtp } from './support/smtp.js';
import { enrolTotp } from './support/totp-enrolment.js';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a different long password';
const lines: string[] = [];
/** Every secret a scenario handled, none of which may appear in the log. */
const secrets: string[] = [PASSWORD, NEW_PASSWORD];
/** Event types each scenario saw through the admin API. */
const seenByAdmins = new Set<string>();
let server: TestServer;

const stream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(chunk.toString());
    done();
  },
});

/** Every event type an admin sees through `GET /api/admin/events` (all pages). */
async function adminEventTypes(target: TestServer, adminToken: string): Promise<Set<string>> {
  const seen = new Set<string>();
  let before: number | undefined;
  for (;;) {
    const page = await target.request(
      'GET',
      `/api/admin/events?limit=100${before ? `&before=${before}` : ''}`,
      { token: adminToken },
    );
    expect(page.status).toBe(200);
    for (const e of page.body.events) seen.add(e.type);
    if (page.body.events.length < 100) break;
    before = page.body.events.at(-1).id;
  }
  return seen;
}

function jarOf(res: { headers: Headers }): string {
  return res.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
}

beforeAll(async () => {
  server = await startServer(
    { loginLockout: '2/1m', rateLimitAuth: '1000/min' },
    { logger: { level: 'info', stream } },
  );
});
afterAll(async () => {
  await server.close();
});

describe('security events', () => {
  it('the account-security core: sign-in, lockout, registration, admin actions, sessions, CSRF, limits, keys', async () => {
    const post = (path: string, body?: unknown, token?: string) =>
      server.request('POST', path, { body, token });
    const login = async (email: string, password = PASSWORD) =>
      (await post('/api/login', { email, password })).body;

    // registered + admin_created (first account, development) + login_succeeded
    expect((await post('/api/register', { email: 'admin@example.com', password: PASSWORD })).status).toBe(
      201,
    );
    let admin = await login('admin@example.com');
    secrets.push(admin.access_token, admin.refresh_token);
    // user_created (by an admin) + roles_changed
    const created = await post(
      '/api/admin/users',
      { email: 'eve@example.com', password: PASSWORD },
      admin.access_token,
    );
    expect(created.status).toBe(201);
    const eve = created.body.id as string;
    expect(
      (
        await server.request('PUT', `/api/admin/users/${eve}/roles`, {
          token: admin.access_token,
          body: { roles: ['x'] },
        })
      ).status,
    ).toBe(200);
    // login_failed, then account_locked (2 free failures)
    for (let i = 0; i < 2; i++)
      expect(
        (await post('/api/login', { email: 'eve@example.com', password: 'wrong password 1' })).status,
      ).toBe(401);
    const locked = await post('/api/login', { email: 'eve@example.com', password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('ERR_LOGIN_LOCKED');
    // rate_limited is recorded for the account lock too; csrf_rejected through a cookie session without the header
    const cookieLogin = await server.request('POST', '/api/login', {
      body: { email: 'admin@example.com', password: PASSWORD, delivery: 'cookie' },
    });
    const jar = jarOf(cookieLogin);
    expect((await server.request('POST', '/api/logout-all', { headers: { cookie: jar } })).body.code).toBe(
      'ERR_CSRF',
    );
    // session_revoked (by the user), refresh_token_reuse, logout
    const second = await login('admin@example.com');
    const sessions = await server.request('GET', '/api/sessions', { token: admin.access_token });
    const secondSid = JSON.parse(Buffer.from(second.access_token.split('.')[1], 'base64url').toString()).sid;
    const other = sessions.body.sessions.find(
      (s: { current: boolean; id: string }) => !s.current && s.id !== secondSid,
    ).id as string;
    expect(
      (await server.request('DELETE', `/api/sessions/${other}`, { token: admin.access_token })).status,
    ).toBe(204);
    const third = await login('admin@example.com');
    const rotated = await post('/api/token/refresh', { refresh_token: third.refresh_token });
    expect(rotated.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const replay = await post('/api/token/refresh', { refresh_token: rotated.body.refresh_token });
    expect(replay.status).toBe(200);
    const reuse = await post('/api/token/refresh', { refresh_token: third.refresh_token });
    expect(reuse.status).toBe(401);
    expect((await post('/api/logout', undefined, second.access_token)).status).toBe(204);
    // key_rotated, user_disabled, user_enabled
    expect((await post('/api/admin/keys/rotate', { immediate: true }, admin.access_token)).status).toBe(201);
    expect((await post(`/api/admin/users/${eve}/disable`, undefined, admin.access_token)).status).toBe(200);
    expect((await post(`/api/admin/users/${eve}/enable`, undefined, admin.access_token)).status).toBe(200);
    // password_changed, then logout_all
    const changed = await post(
      '/api/password',
      { current_password: PASSWORD, new_password: NEW_PASSWORD },
      admin.access_token,
    );
    expect(changed.status).toBe(200);
    admin = changed.body;
    secrets.push(admin.access_token);
    // key_withdrawn: the key the rotation above retired (the admin's new token is signed by the new one)
    const listed = await server.request('GET', '/api/admin/keys', { token: admin.access_token });
    const retired = (listed.body.keys as { kid: string; state: string }[]).find((k) => k.state === 'retired');
    expect(
      (await post(`/api/admin/keys/${retired?.kid}/withdraw`, undefined, admin.access_token)).status,
    ).toBe(200);
    expect((await post('/api/logout-all', undefined, admin.access_token)).status).toBe(204);

    const adminNow = await login('admin@example.com', NEW_PASSWORD);
    for (const type of await adminEventTypes(server, adminNow.access_token)) seenByAdmins.add(type);
    const revokedBy = await server.app.jot.store.listSecurityEvents({ limit: 10, type: 'session_revoked' });
    expect(revokedBy[0]?.detail).toMatchObject({ by: expect.any(String) });
  });

  it('the account lifecycle with mail, OAuth clients, second factors and theft signals', async () => {
    let now = Date.UTC(2032, 4, 1, 9, 0, 10);
    const smtp: TestSmtp = await startSmtp();
    const lifecycle = await startServer(
      {
        smtpUrl: smtp.url,
        publicUrl: 'http://ui.test',
        mailRetryBase: '1s',
        trustProxy: true,
        rateLimitAuth: '1000/min',
        mfaAccountLimit: '3/15m',
        failureBurst: '3/10m',
        refreshAnomalyLimit: 2,
        theftWindow: '10m',
        accessTokenTtl: '10m',
        theftResponses:
          'session_network_changed=record,session_agent_changed=record,refresh_anomaly=record,failure_burst=record',
      },
      { clock: () => now, logger: { level: 'info', stream } },
    );
    const CHROME =
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
    const from = (ip: string, ua = CHROME): Record<string, string> => ({
      'x-forwarded-for': ip,
      'user-agent': ua,
    });
    const home = from('203.0.113.5');
    const req = (method: string, path: string, body?: unknown, token?: string, headers = home) =>
      lifecycle.request(method, path, { body, token, headers });
    const signIn = async (email: string, password = PASSWORD, headers = home) => {
      // A second on: a sign-in never shares the second of a cut-off an earlier step set (iat must be after it).
      now += 1000;
      const res = await req('POST', '/api/login', { email, password }, undefined, headers);
      expect(res.status, res.text).toBe(200);
      secrets.push(res.body.access_token, res.body.refresh_token);
      return res.body as { access_token: string; refresh_token: string };
    };
    const mail = (to: string, subject: RegExp) =>
      smtp.waitFor((m) => m.to.includes(to) && subject.test(m.subject));
    try {
      // email_verified: the link sent at registration (the first account is the admin in development)
      expect(
        (await req('POST', '/api/register', { email: 'boss@example.com', password: PASSWORD })).status,
      ).toBe(201);
      const verifyToken = tokenIn(linkIn(await mail('boss@example.com', /confirm your email/i)));
      expect(
        (await req('POST', '/api/email/verify', { token: verifyToken, password: PASSWORD })).status,
      ).toBe(200);
      let boss = await signIn('boss@example.com');

      // password_reset_requested, password_reset
      expect(
        (await req('POST', '/api/register', { email: 'forgetful@example.com', password: PASSWORD })).status,
      ).toBe(201);
      expect((await req('POST', '/api/password/forgot', { email: 'forgetful@example.com' })).status).toBe(
        202,
      );
      const resetToken = tokenIn(linkIn(await mail('forgetful@example.com', /reset your password/i)));
      secrets.push(resetToken);
      expect(
        (await req('POST', '/api/password/reset', { token: resetToken, new_password: NEW_PASSWORD })).status,
      ).toBe(200);

      // email_change_requested, email_changed
      const mover = await signIn('forgetful@example.com', NEW_PASSWORD);
      expect(
        (await req('POST', '/api/email/change', { new_email: 'moved@example.com' }, mover.access_token))
          .status,
      ).toBe(202);
      const changeToken = tokenIn(linkIn(await mail('moved@example.com', /confirm your new email/i)));
      // Confirmed with the session of the account that asked (proof enough: services/registrant-proof.ts).
      expect(
        (await req('POST', '/api/email/change/confirm', { token: changeToken }, mover.access_token)).status,
      ).toBe(200);

      // invitation_created, invitation_revoked, invitation_accepted
      const invite = await req(
        'POST',
        '/api/admin/invitations',
        { email: 'invited@example.com' },
        boss.access_token,
      );
      expect(invite.status).toBe(201);
      const dropped = await req(
        'POST',
        '/api/admin/invitations',
        { email: 'dropped@example.com' },
        boss.access_token,
      );
      expect(
        (await req('DELETE', `/api/admin/invitations/${dropped.body.id}`, undefined, boss.access_token))
          .status,
      ).toBe(200);
      const inviteToken = tokenIn(linkIn(await mail('invited@example.com', /invited/i)));
      expect(
        (await req('POST', '/api/invitations/accept', { token: inviteToken, password: PASSWORD })).status,
      ).toBe(201);

      // client_registered, client_updated, client_secret_rotated, client_removed
      const client = await req(
        'POST',
        '/api/admin/clients',
        {
          name: 'Reporting',
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['client_credentials'],
          audiences: ['https://reports.example.com'],
        },
        boss.access_token,
      );
      expect(client.status, client.text).toBe(201);
      secrets.push(client.body.client_secret);
      const clientId = client.body.client.client_id as string;
      const updated = await req(
        'PATCH',
        `/api/admin/clients/${clientId}`,
        { dpop: 'required' },
        boss.access_token,
      );
      expect(updated.status, updated.text).toBe(200);
      const rotated = await req(
        'POST',
        `/api/admin/clients/${clientId}/secret`,
        undefined,
        boss.access_token,
      );
      expect(rotated.status).toBe(200);
      secrets.push(rotated.body.client_secret);
      expect(
        (await req('DELETE', `/api/admin/clients/${clientId}`, undefined, boss.access_token)).status,
      ).toBe(204);

      // account_deleted
      const leaver = await signIn('invited@example.com');
      expect((await req('DELETE', '/api/account', undefined, leaver.access_token)).status).toBe(204);

      // mfa_enrolled, mfa_failed, recovery_code_used, mfa_step_up, recovery_codes_regenerated, mfa_removed,
      // mfa_locked, mfa_reset
      expect(
        (await req('POST', '/api/register', { email: 'careful@example.com', password: PASSWORD })).status,
      ).toBe(201);
      const careful = await signIn('careful@example.com');
      await verifyAddressOf(lifecycle, { email: 'careful@example.com' });
      const { secret, factorId, confirmed } = await enrolTotp(lifecycle, careful.access_token, {
        at: now,
        headers: home,
      });
      const recovery = confirmed.body.recovery_codes as string[];
      secrets.push(...recovery);
      const mfaToken = async () => {
        const res = await req('POST', '/api/login', { email: 'careful@example.com', password: PASSWORD });
        expect(res.status).toBe(403);
        return res.body.mfa_token as string;
      };
      const wrongCode = totpCode(secret, now + 20 * 30_000);
      expect(
        (await req('POST', '/api/login/mfa', { mfa_token: await mfaToken(), code: wrongCode })).status,
      ).toBe(401);
      const viaRecovery = await req('POST', '/api/login/mfa', {
        mfa_token: await mfaToken(),
        recovery_code: recovery[0],
      });
      expect(viaRecovery.status).toBe(200);
      now += 30_000;
      const stepped = await req(
        'POST',
        '/api/mfa/step-up',
        { code: totpCode(secret, now) },
        viaRecovery.body.access_token,
      );
      expect(stepped.status, stepped.text).toBe(200);
      expect(
        (await req('POST', '/api/mfa/recovery-codes', undefined, stepped.body.access_token)).status,
      ).toBe(200);
      expect(
        (await req('DELETE', `/api/mfa/factors/${factorId}`, undefined, stepped.body.access_token)).status,
      ).toBe(204);
      now += 30_000;
      await enrolTotp(lifecycle, stepped.body.access_token as string, { at: now, headers: home });
      for (let i = 0; i < 3; i++)
        await req('POST', '/api/login/mfa', { mfa_token: await mfaToken(), code: wrongCode });
      const locked = await req('POST', '/api/login/mfa', { mfa_token: await mfaToken(), code: wrongCode });
      expect(locked.body.code).toBe('ERR_MFA_LOCKED');
      const carefulId = (await lifecycle.app.jot.store.getUserByEmail('careful@example.com'))!.id;
      boss = await signIn('boss@example.com');
      expect(
        (await req('DELETE', `/api/admin/users/${carefulId}/mfa`, undefined, boss.access_token)).status,
      ).toBe(200);

      // new_device_sign_in, session_network_changed, session_agent_changed, refresh_anomaly, failure_burst
      expect(
        (await req('POST', '/api/register', { email: 'watched@example.com', password: PASSWORD })).status,
      ).toBe(201);
      const watched = await signIn('watched@example.com');
      await signIn('watched@example.com', PASSWORD, from('198.51.100.20', 'curl/8.5.0'));
      const refresh = async (token: string, headers: Record<string, string>) => {
        const res = await req('POST', '/api/token/refresh', { refresh_token: token }, undefined, headers);
        expect(res.status, res.text).toBe(200);
        secrets.push(res.body.access_token, res.body.refresh_token);
        return res.body.refresh_token as string;
      };
      let token = await refresh(watched.refresh_token, from('192.0.2.44'));
      token = await refresh(token, from('192.0.2.44', 'curl/8.5.0'));
      token = await refresh(token, from('192.0.2.44', 'curl/8.5.0'));
      await refresh(token, from('192.0.2.44', 'curl/8.5.0'));
      for (let i = 0; i < 3; i++) {
        expect(
          (await req('POST', '/api/login', { email: 'watched@example.com', password: 'not it at all' }))
            .status,
        ).toBe(401);
      }

      boss = await signIn('boss@example.com');
      for (const type of await adminEventTypes(lifecycle, boss.access_token)) seenByAdmins.add(type);
    } finally {
      await lifecycle.close();
      await smtp.stop();
    }
  }, 120_000);

  it('single-token mode: a renewal of an already renewed token after the grace window', async () => {
    let now = Date.now();
    const single = await startServer(
      {
        tokenMode: 'single',
        revocationSecret: 'r'.repeat(40),
        rateLimitAuth: '1000/min',
        refreshGraceWindow: '2s',
      },
      { clock: () => now, logger: { level: 'info', stream } },
    );
    try {
      expect(
        (
          await single.request('POST', '/api/register', {
            body: { email: 'solo@example.com', password: PASSWORD },
          })
        ).status,
      ).toBe(201);
      const signIn = async () => {
        const res = await single.request('POST', '/api/login', {
          body: { email: 'solo@example.com', password: PASSWORD },
        });
        expect(res.status).toBe(200);
        secrets.push(res.body.access_token);
        return res.body.access_token as string;
      };
      const token = await signIn();
      const renew = () => single.request('POST', '/api/token/renew', { token });
      expect((await renew()).status).toBe(200);
      now += 3000;
      expect((await renew()).status).toBe(401);
      for (const type of await adminEventTypes(single, await signIn())) seenByAdmins.add(type);
    } finally {
      await single.close();
    }
  });

  it('every event type was recorded by a real request, seen by admins, and logged without secrets', () => {
    expect(SECURITY_EVENT_TYPES.filter((type) => !seenByAdmins.has(type))).toEqual([]);
    const log = lines.join('');
    expect(SECURITY_EVENT_TYPES.filter((type) => !log.includes(`"securityEvent":"${type}"`))).toEqual([]);
    for (const secret of secrets.filter((s) => typeof s === 'string' && s.length > 0)) {
      expect(log).not.toContain(secret);
    }
  });
});
