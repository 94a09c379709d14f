/**
 * Every metric docs/deploy.md documents, read from `GET /metrics` of a real server after real requests — the
 * counters are never incremented by the test itself, so a code path that stops counting fails here.
 * (Regression: after three access tokens and a logout, `jot_tokens_issued_total` read 0 and
 * `jot_revocations_total` had no samples, while the test incremented the counters itself.)
 */
import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer } from './support/jot-server.js';
import { metricSample } from './support/metrics.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

async function metrics(): Promise<string> {
  const res = await server.request('GET', '/metrics');
  expect(res.status).toBe(200);
  return res.text;
}

const credentials = { email: 'metrics@example.com', password: 'correct horse battery' };

describe('GET /metrics after real requests', () => {
  let text: string;

  beforeAll(async () => {
    expect((await server.request('POST', '/api/register', { body: credentials })).status).toBe(201);
    const first = await server.request('POST', '/api/login', { body: credentials });
    const second = await server.request('POST', '/api/login', { body: credentials });
    const wrong = await server.request('POST', '/api/login', {
      body: { ...credentials, password: 'not the password' },
    });
    expect([first.status, second.status, wrong.status]).toEqual([200, 200, 401]);
    // A wrong password at step-up re-authentication: not a sign-in, but a password check the throttle guards.
    const wrongReauth = await server.request('POST', '/api/reauth', {
      token: first.body.access_token,
      body: { password: 'not the password' },
    });
    expect([wrongReauth.status, wrongReauth.body.code]).toEqual([403, 'ERR_INVALID_CREDENTIALS']);

    // first.refresh_token → r2 → r3; then first.refresh_token again, two generations back, is reuse.
    const r2 = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: first.body.refresh_token },
    });
    const r3 = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: r2.body.refresh_token },
    });
    const reused = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: first.body.refresh_token },
    });
    const unknown = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: 'never-issued' },
    });
    expect([r2.status, r3.status, reused.status, unknown.status]).toEqual([200, 200, 401, 401]);
    expect(reused.body.code).toBe('ERR_REFRESH_TOKEN_REUSED');

    const logout = await server.request('POST', '/api/logout', { token: second.body.access_token });
    expect(logout.status).toBe(204);
    text = await metrics();
  });

  it('counts every access token signed', () => {
    // two logins and two refreshes
    expect(metricSample(text, 'jot_tokens_issued_total')).toBe(4);
  });

  it('counts logins by the documented result labels', () => {
    expect(metricSample(text, 'jot_logins_total', { result: 'success' })).toBe(2);
    expect(metricSample(text, 'jot_logins_total', { result: 'failure' })).toBe(1);
  });

  it('counts failed password checks by route, sign-in and re-authentication apart', () => {
    const wrongAt = (via: string) =>
      metricSample(text, 'jot_password_check_failures_total', { via, reason: 'wrong' });
    expect(wrongAt('login')).toBe(1);
    expect(wrongAt('reauth')).toBe(1);
  });

  it('counts refreshes by the documented result labels', () => {
    expect(metricSample(text, 'jot_refreshes_total', { result: 'success' })).toBe(2);
    expect(metricSample(text, 'jot_refreshes_total', { result: 'reused' })).toBe(1);
    expect(metricSample(text, 'jot_refreshes_total', { result: 'invalid' })).toBe(1);
  });

  it('counts the revocation entries published, by kind', () => {
    // the reuse ended one session, the logout another and revoked its access token
    expect(metricSample(text, 'jot_revocations_total', { kind: 'sid' })).toBe(2);
    expect(metricSample(text, 'jot_revocations_total', { kind: 'jti' })).toBe(1);
  });

  it('counts HTTP requests by route pattern and status', () => {
    const labels = { method: 'POST', route: '/api/token/refresh', status: '401' };
    expect(metricSample(text, 'jot_http_requests_total', labels)).toBe(2);
    expect(metricSample(text, 'jot_http_request_duration_seconds_count', labels)).toBe(2);
  });

  it('serves Node process metrics under the jot_ prefix', () => {
    expect(text).toMatch(/^jot_process_cpu_user_seconds_total /m);
  });

  it('emits exactly the metrics and label values docs/deploy.md lists', () => {
    const doc = readFileSync(new URL('../../../docs/deploy.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `(jot_[a-z_]+)` +\| (.*?) +\|/gm)];
    expect(rows.map((r) => r[1])).toEqual([
      'jot_http_requests_total',
      'jot_http_request_duration_seconds',
      'jot_logins_total',
      'jot_refreshes_total',
      'jot_tokens_issued_total',
      'jot_revocations_total',
      'jot_password_check_failures_total',
    ]);
    for (const [, name, labels] of rows) {
      expect(text).toContain(`# TYPE ${name!} `);
      // every label value this run produced is documented
      const values = [...text.matchAll(new RegExp(`^${name!}\\{(?:result|kind)="([a-z]+)"`, 'gm'))];
      for (const [, value] of values) expect(labels).toContain(`\`${value!}\``);
    }
  });
});
