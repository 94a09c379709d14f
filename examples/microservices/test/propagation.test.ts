/**
 * Drives the microservices demo: sign up and log in, call both services, log out, and measure how long each
 * service keeps accepting the token. Both must reject it within the staleness bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startMicroservices, type Microservices } from '../start.js';

const MAX_STALENESS_MS = 10_000;
let demo: Microservices;

beforeAll(async () => {
  demo = await startMicroservices({ maxStaleness: `${MAX_STALENESS_MS}ms`, quiet: true });
});

afterAll(async () => {
  await demo?.close();
});

async function post(url: string, body: unknown, token?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
}

async function status(url: string, token: string): Promise<number> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

/** Milliseconds from `since` until `url` rejects the token (polling every 2 ms). */
async function rejectionDelay(url: string, token: string, since: number): Promise<number> {
  while (Date.now() - since < MAX_STALENESS_MS * 2) {
    if ((await status(url, token)) === 401) return Date.now() - since;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return Infinity;
}

describe('microservices example', () => {
  it('login, call both services, logout: both reject the token within the staleness bound', async () => {
    const credentials = { email: 'demo@example.com', password: 'correct horse battery staple' };
    expect((await post(`${demo.auth}/api/register`, credentials)).status).toBe(201);
    const login = await post(`${demo.auth}/api/login`, credentials);
    expect(login.status).toBe(200);
    const { access_token: token } = (await login.json()) as { access_token: string };

    expect(await status(`${demo.orders}/orders`, token)).toBe(200);
    expect(await status(`${demo.profile}/profile`, token)).toBe(200);

    const logout = await post(`${demo.auth}/api/logout`, {}, token);
    const loggedOutAt = Date.now();
    expect(logout.status).toBe(204);
    const [orders, profile] = await Promise.all([
      rejectionDelay(`${demo.orders}/orders`, token, loggedOutAt),
      rejectionDelay(`${demo.profile}/profile`, token, loggedOutAt),
    ]);
    console.log(
      `[microservices] logout propagation: orders (Express) ${orders} ms, profile (Hono) ${profile} ms ` +
        `(bound ${MAX_STALENESS_MS} ms)`,
    );
    expect(orders).toBeLessThan(MAX_STALENESS_MS);
    expect(profile).toBeLessThan(MAX_STALENESS_MS);
    expect(demo.verifiers.orders.stats().revocation.failClosed).toBe(0);
  });
});
