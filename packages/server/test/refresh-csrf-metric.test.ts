/**
 * `jot_refreshes_total{result="csrf"}` (documented in docs/deploy.md) counts a cookie refresh refused for a missing or
 * wrong `X-Csrf-Token`, read from `GET /metrics` of a real server after real requests. (Regression: the refusal is a
 * `VerifyError`, and the refresh route read codes only from `HttpError`/`DomainError`, so it was counted as
 * `result="error"` and the `csrf` series never appeared.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestResponse, type TestServer } from './support/jot-server.js';
import { metricSample } from './support/metrics.js';

const credentials = { email: 'csrf-metric@example.com', password: 'correct horse battery' };

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

/** The `name=value` of the refresh cookie `res` set. */
function refreshCookie(res: TestResponse): string {
  const line = res.headers.getSetCookie().find((l) => l.startsWith('jot_rt='));
  expect(line, 'the login sets the refresh cookie').toBeDefined();
  return line!.split(';')[0]!;
}

describe('a cookie refresh refused for its X-Csrf-Token', () => {
  let text: string;

  beforeAll(async () => {
    expect((await server.request('POST', '/api/register', { body: credentials })).status).toBe(201);
    const login = await server.request('POST', '/api/login', {
      body: { ...credentials, delivery: 'memory' },
    });
    expect(login.status, login.text).toBe(200);
    const cookie = refreshCookie(login);

    const missing = await server.request('POST', '/api/token/refresh', { headers: { cookie }, body: {} });
    const wrong = await server.request('POST', '/api/token/refresh', {
      headers: { cookie, 'x-csrf-token': 'not-the-token' },
      body: {},
    });
    expect([missing.status, wrong.status]).toEqual([403, 403]);
    expect([missing.body.code, wrong.body.code]).toEqual(['ERR_CSRF', 'ERR_CSRF']);

    // The right header still works: the refusals spent nothing.
    const right = await server.request('POST', '/api/token/refresh', {
      headers: { cookie, 'x-csrf-token': login.body.csrf_token as string },
      body: {},
    });
    expect(right.status, right.text).toBe(200);

    const res = await server.request('GET', '/metrics');
    expect(res.status).toBe(200);
    text = res.text;
  });

  it('is counted as result="csrf", not "error"', () => {
    expect(metricSample(text, 'jot_refreshes_total', { result: 'csrf' })).toBe(2);
    expect(metricSample(text, 'jot_refreshes_total', { result: 'error' })).toBeUndefined();
    expect(metricSample(text, 'jot_refreshes_total', { result: 'success' })).toBe(1);
  });
});
