/**
 * The "profile" service: Hono, protected by `honoAuth` over a replicated-revocation verifier. `GET /profile/orders`
 * calls the orders service on the caller's behalf: `@jot/service` exchanges the user's token (RFC 8693) for a
 * short-lived one for the orders audience that names this service as the actor, and sends it.
 */
import { Hono } from 'hono';

import { isServiceError, type ServiceClient } from '@jot/service';
import { honoAuth, type JotHonoEnv, type Verifier } from '@jot/verify';

import { ORDERS_AUDIENCE } from './orders.js';

/** Builds the profile app: `GET /profile` answers the caller's id and roles. */
export function createProfileApp(
  verifier: Verifier,
  calls?: { service: ServiceClient; ordersUrl: () => string },
): Hono<JotHonoEnv> {
  const app = new Hono<JotHonoEnv>();
  app.use('/profile', honoAuth(verifier));
  app.use('/profile/*', honoAuth(verifier));
  app.get('/profile', (c) => {
    const { claims } = c.get('auth');
    return c.json({ service: 'profile', user: claims.sub, roles: claims.roles });
  });
  app.get('/profile/orders', async (c) => {
    if (calls === undefined) return c.json({ error: 'not configured' }, 501);
    const { token } = c.get('auth');
    try {
      const res = await calls.service.fetchAs(token, `${calls.ordersUrl()}/internal/user-orders`, {
        audience: ORDERS_AUDIENCE,
        scope: 'orders:read',
      });
      return c.json({ service: 'profile', orders: await res.json() }, res.status === 200 ? 200 : 502);
    } catch (err) {
      // The user's token could not be exchanged: ended session (invalid_grant) → 401, anything else → 502.
      const refused = isServiceError(err) && err.error === 'invalid_grant';
      return c.json(
        { service: 'profile', error: refused ? 'session ended' : 'orders unavailable' },
        refused ? 401 : 502,
      );
    }
  });
  return app;
}
