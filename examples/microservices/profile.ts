/** The "profile" service: Hono, protected by `honoAuth` over a replicated-revocation verifier. */
import { Hono } from 'hono';

import { honoAuth, type JotHonoEnv, type Verifier } from '@jot/verify';

/** Builds the profile app: `GET /profile` answers the caller's id and roles. */
export function createProfileApp(verifier: Verifier): Hono<JotHonoEnv> {
  const app = new Hono<JotHonoEnv>();
  app.use('/profile', honoAuth(verifier));
  app.get('/profile', (c) => {
    const { claims } = c.get('auth');
    return c.json({ service: 'profile', user: claims.sub, roles: claims.roles });
  });
  return app;
}
