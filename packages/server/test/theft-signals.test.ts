/**
 * Theft signals beyond refresh-token reuse, each with each configured response: a session refreshed from another
 * network or another browser within the window, an impossible refresh rate, a burst of failures on one account — and
 * the new-device mail. Addresses come through X-Forwarded-For (the server trusts the proxy here) and the clock is
 * controlled.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TheftResponse } from '../src/config/index.js';
import { agentFamily, networkOf } from '../src/services/theft-signals.js';
import { hashSecret } from '../src/services/secrets.js';
import { startServer, type TestServer } from './support/jot-server.js';

const PASSWORD = 'correct horse battery';
const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Safari/537.36';
const CHROME_NEXT = CHROME.replace('120.0.6099.71', '121.0.6167.85');
const CURL = 'curl/8.5.0';

describe('networks and browser families', () => {
  it('groups addresses by /24 and /48, and ignores version numbers', () => {
    expect(networkOf('203.0.113.77')).toBe('203.0.113.0/24');
    expect(networkOf('::ffff:203.0.113.9')).toBe('203.0.113.0/24');
    expect(networkOf('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(networkOf(undefined)).toBe('unknown');
    expect(agentFamily(CHROME)).toBe(agentFamily(CHROME_NEXT));
    expect(agentFamily(CHROME)).not.toBe(agentFamily(CURL));
  });
});

type Responses = Record<'network' | 'agent' | 'anomaly' | 'burst', TheftResponse>;

describe.each<[string, Responses]>([
  ['first set of responses', { network: 'record', agent: 'revoke', anomaly: 'step_up', burst: 'step_up' }],
  ['second set of responses', { network: 'step_up', agent: 'record', anomaly: 'revoke', burst: 'revoke' }],
  ['third set of responses', { network: 'revoke', agent: 'step_up', anomaly: 'record', burst: 'record' }],
])('theft signals (%s)', (_name, responses) => {
  let now = Date.UTC(2033, 0, 10, 8, 0, 0);
  let server: TestServer;
  let users = 0;

  beforeAll(async () => {
    server = await startServer(
      {
        trustProxy: true,
        accessTokenTtl: '10m',
        theftWindow: '10m',
        refreshAnomalyLimit: 5,
        failureBurst: '3/10m',
        theftResponses: [
          `session_network_changed=${responses.network}`,
          `session_agent_changed=${responses.agent}`,
          `refresh_anomaly=${responses.anomaly}`,
          `failure_burst=${responses.burst}`,
        ].join(','),
      },
      { clock: () => now },
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  const from = (ip: string, ua: string) => ({ 'x-forwarded-for': ip, 'user-agent': ua });

  /** A new user signed in from `ip` with `ua`: their refresh token, session id and user id. */
  async function session(ip = '203.0.113.5', ua = CHROME) {
    const email = `u${++users}@example.com`;
    const reg = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
    const login = await server.request('POST', '/api/login', {
      body: { email, password: PASSWORD },
      headers: from(ip, ua),
    });
    expect(login.status).toBe(200);
    const sid = JSON.parse(Buffer.from(login.body.access_token.split('.')[1], 'base64url').toString()).sid;
    return {
      refresh: login.body.refresh_token as string,
      sid: sid as string,
      userId: reg.body.id as string,
      email,
    };
  }

  const refresh = (token: string, ip: string, ua: string) =>
    server.request('POST', '/api/token/refresh', { body: { refresh_token: token }, headers: from(ip, ua) });

  const events = async (type: string, userId: string) =>
    (await server.app.jot.store.listSecurityEvents({ limit: 50, type, userId: userId })).map((e) => e.detail);

  /** The response took effect on the session (and the refresh that raised it answered accordingly). */
  async function expectResponse(response: TheftResponse, sid: string, status: number) {
    const s = await server.app.jot.store.getSession(sid);
    if (response === 'revoke') {
      expect(status).toBe(401);
      expect(s!.revokedAt).not.toBeNull();
    } else {
      expect(status).toBe(200);
      expect(s!.revokedAt).toBeNull();
      expect(s!.authTime === 0).toBe(response === 'step_up');
      if (response === 'step_up') expect(s!.acr).toBe('aal1');
    }
  }

  it('session_network_changed: a refresh from another network within the window', async () => {
    const s = await session();
    const same = await refresh(s.refresh, '203.0.113.99', CHROME);
    expect(same.status).toBe(200);
    expect(await events('session_network_changed', s.userId)).toEqual([]);
    now += 60_000;
    const other = await refresh(same.body.refresh_token, '198.51.100.7', CHROME);
    expect(await events('session_network_changed', s.userId)).toEqual([
      { from: '203.0.113.0/24', to: '198.51.100.0/24', response: responses.network },
    ]);
    await expectResponse(responses.network, s.sid, other.status);
  });

  it('the first refresh is compared with where the sign-in came from (the session row; no sighting is written at sign-in)', async () => {
    const s = await session('203.0.113.5', CHROME);
    expect(await server.app.jot.store.getRefreshState(hashSecret(s.refresh), now)).toMatchObject({
      sighting: undefined,
    });
    now += 30_000;
    // The same network and browser family (an update): nothing.
    const same = await refresh(s.refresh, '203.0.113.77', CHROME_NEXT);
    expect(same.status).toBe(200);
    expect(await events('session_network_changed', s.userId)).toEqual([]);
    expect(await events('session_agent_changed', s.userId)).toEqual([]);
    const t = await session('203.0.113.5', CHROME);
    now += 30_000;
    const other = await refresh(t.refresh, '198.51.100.7', CHROME);
    expect(await events('session_network_changed', t.userId)).toEqual([
      { from: '203.0.113.0/24', to: '198.51.100.0/24', response: responses.network },
    ]);
    await expectResponse(responses.network, t.sid, other.status);
  });

  it('no signal for another network after the window, nor for a browser update', async () => {
    const s = await session();
    now += 11 * 60_000;
    const later = await refresh(s.refresh, '192.0.2.1', CHROME_NEXT);
    expect(later.status).toBe(200);
    const updated = await refresh(later.body.refresh_token, '192.0.2.1', CHROME);
    expect(updated.status).toBe(200);
    expect(await events('session_network_changed', s.userId)).toEqual([]);
    expect(await events('session_agent_changed', s.userId)).toEqual([]);
  });

  it('session_agent_changed: the same session from another browser', async () => {
    const s = await session();
    now += 30_000;
    const res = await refresh(s.refresh, '203.0.113.5', CURL);
    const [detail] = await events('session_agent_changed', s.userId);
    expect(detail).toMatchObject({ to: 'curl/', response: responses.agent });
    await expectResponse(responses.agent, s.sid, res.status);
  });

  it('refresh_anomaly: more rotations in one access-token lifetime than the limit', async () => {
    const s = await session();
    let token = s.refresh;
    let last = 0;
    for (let i = 1; i <= 6; i++) {
      now += 1000;
      const res = await refresh(token, '203.0.113.5', CHROME);
      last = res.status;
      if (i < 6) {
        expect(res.status).toBe(200);
        expect(await events('refresh_anomaly', s.userId)).toEqual([]);
      }
      token = res.body.refresh_token;
    }
    expect(await events('refresh_anomaly', s.userId)).toEqual([
      { rotations: 6, response: responses.anomaly },
    ]);
    await expectResponse(responses.anomaly, s.sid, last);
    if (responses.anomaly !== 'record') return;

    // Past the limit (the session lives on when the response only records): neither a further rotation nor a
    // repeat of the token it spent, within the grace window, raises the signal again — the count is read only up
    // to limit + 2, which still tells 7 from the 6 that fires.
    now += 1000;
    const seventh = await refresh(token, '203.0.113.5', CHROME);
    expect(seventh.status).toBe(200);
    now += 1000;
    const repeat = await refresh(token, '203.0.113.5', CHROME);
    expect(repeat.status).toBe(200);
    expect(repeat.body.refresh_token).toBe(seventh.body.refresh_token);
    expect(await events('refresh_anomaly', s.userId)).toHaveLength(1);
  });

  it('failure_burst: failed sign-ins on one account reach the limit', async () => {
    const s = await session();
    for (let i = 0; i < 3; i++) {
      const res = await server.request('POST', '/api/login', {
        body: { email: s.email, password: 'wrong horse battery' },
        headers: from(`198.51.100.${i + 1}`, CURL),
      });
      expect(res.status).toBe(401);
    }
    expect(await events('failure_burst', s.userId)).toEqual([{ failures: 3, response: responses.burst }]);
    const after = await server.app.jot.store.getSession(s.sid);
    expect(after!.revokedAt !== null).toBe(responses.burst === 'revoke');
    expect(after!.authTime === 0).toBe(responses.burst === 'step_up');
    // A fourth failure in the same window raises no second event.
    await server.request('POST', '/api/login', { body: { email: s.email, password: 'nope nope nope' } });
    expect(await events('failure_burst', s.userId)).toHaveLength(1);
  });

  it('a sign-in from a new device or network is recorded and mailed to the user; known ones are not', async () => {
    const s = await session('203.0.113.5', CHROME);
    const again = () =>
      server.request('POST', '/api/login', {
        body: { email: s.email, password: PASSWORD },
        headers: from('203.0.113.8', CHROME),
      });
    expect((await again()).status).toBe(200);
    expect(await events('new_device_sign_in', s.userId)).toEqual([]);
    const elsewhere = await server.request('POST', '/api/login', {
      body: { email: s.email, password: PASSWORD },
      headers: from('198.51.100.20', CURL),
    });
    expect(elsewhere.status).toBe(200);
    expect(await events('new_device_sign_in', s.userId)).toEqual([
      { network: '198.51.100.0/24', userAgent: CURL },
    ]);
    await server.app.jot.mailer.flush();
    const dir = join(server.dataDir, 'mail');
    const mails = existsSync(dir) ? readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')) : [];
    const notice = mails.filter((m) => m.includes('New sign-in to your account') && m.includes(s.email));
    expect(notice).toHaveLength(1);
    expect(notice[0]).toContain('curl/8.5.0');
  });

  it('a new device is still told of when counting the devices fails (it is remembered already)', async () => {
    const s = await session('203.0.113.5', CHROME);
    const { mfa } = server.app.jot.store;
    const real = mfa.countDevices.bind(mfa);
    mfa.countDevices = async () => {
      throw new Error('database unavailable');
    };
    try {
      const login = await server.request('POST', '/api/login', {
        body: { email: s.email, password: PASSWORD },
        headers: from('192.0.2.40', CURL),
      });
      expect(login.status).toBe(200);
    } finally {
      mfa.countDevices = real;
    }
    expect(await events('new_device_sign_in', s.userId)).toEqual([
      { network: '192.0.2.0/24', userAgent: CURL },
    ]);
  });
});
