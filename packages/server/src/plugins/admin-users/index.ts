/**
 * Admin: users (list, create, disable, enable, set roles) and security events. A status or role change bumps the
 * user's token version in the same UPDATE and is published to the revocation feed, so old tokens stop working
 * everywhere. The last active admin can be neither demoted nor disabled (409 `ERR_LAST_ADMIN`).
 */
import type { FastifyInstance } from 'fastify';

import { registerSecurityEventsRoute } from './events.js';
import { registerUserChangeRoutes } from './changes.js';
import { registerUserCreateRoute, registerUserListRoute } from './users.js';

/** Registers the admin user routes. */
export async function adminUsersPlugin(app: FastifyInstance): Promise<void> {
  registerUserCreateRoute(app);
  registerUserListRoute(app);
  registerUserChangeRoutes(app);
  registerSecurityEventsRoute(app);
}
