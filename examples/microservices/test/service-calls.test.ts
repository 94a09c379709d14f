/**
 * Service-to-service calls in the microservices example: reports calls orders with its own client-credentials
 * token; profile calls orders on a signed-in user's behalf with token exchange; orders tells them apart by
 * `client_id` and `act`, and a user's logout ends the delegated calls too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startMicroservices, type Microservices } from '../start.js';

let demo: Microservices;

beforeAll(async () => {
  demo = await startMicroservices({ maxStaleness: '10s', quiet: true });
});
afterAll(async () => {
  await demo?.close();
});

async function login(email: string): Promise<string> {
  const credentials = { email, password: 'correct horse battery staple' };
  const post = (path: string) =>
    fetch(`${demo.auth}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(credentials),
    });
  expect((await post('/api/register')).status).toBe(201);
  const res = await post('/api/login');
  return ((await res.json()) as { access_token: string }).access_token;
}

describe('microservices example: service-to-service', () => {
  it('reports calls orders with a client-credentials token', async () => {
    const res = await fetch(`${demo.reports}/reports/daily`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ service: 'reports', upstream: 200, total: 42 });
  });

  it('orders refuses a user token, and other services, on its internal routes', async () => {
    const token = await login('internal@example.com');
    const res = await fetch(`${demo.orders}/internal/orders`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(401); // a user token is for the issuer's audience, not orders.internal
  });

  it("profile calls orders on the user's behalf with token exchange, until the user logs out", async () => {
    const token = await login('delegate@example.com');
    const me = (await (
      await fetch(`${demo.profile}/profile`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      user: string;
    };
    const res = await fetch(`${demo.profile}/profile/orders`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      service: 'profile',
      orders: { service: 'orders', user: me.user, actor: 'profile', orders: [] },
    });
    const logout = await fetch(`${demo.auth}/api/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(logout.status).toBe(204);
    const deadline = Date.now() + 20_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      status = (
        await fetch(`${demo.profile}/profile/orders`, { headers: { authorization: `Bearer ${token}` } })
      ).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(401);
  });
});
