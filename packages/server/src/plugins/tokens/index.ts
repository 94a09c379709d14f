/**
 * Token endpoints: refresh (rotation; the refresh token from the body, or from its cookie together with the
 * session's `X-Csrf-Token`), the CSRF bootstrap for reloaded pages, renew (single-token mode), logout and
 * logout-everywhere (which also clear the cookies). One file a route group.
 */
import type { FastifyInstance } from 'fastify';

import { registerLogoutRoutes } from './logout.js';
import { registerRefreshCsrfRoute, registerRefreshRoute } from './refresh.js';
import { registerRenewRoute } from './renew.js';

/** Registers the token routes. */
export async function tokensPlugin(app: FastifyInstance): Promise<void> {
  registerRefreshRoute(app);
  registerRefreshCsrfRoute(app);
  registerRenewRoute(app);
  registerLogoutRoutes(app);
}
