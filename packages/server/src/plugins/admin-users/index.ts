/**
 * Admin: users (list, create, disable, enable, set roles, end every session) and security events. A status or role
 * change bumps the user's token version in the same UPDATE and is published to the revocation feed, so old tokens
 * stop working everywhere; ending the sessions moves the user's cut-off, as their own "sign out everywhere" does.
 * The last active admin can be neither demoted nor disabled (409 `ERR_LAST_ADMIN`).
 */
import type { FastifyInstance } from 'fastify';

import { answerTargetGoneAsNotFound } from '../../http/target-gone.js';

import { registerSecurityEventsRoute } from './events.js';
import { registerUserChangeRoutes } from './changes.js';
import { registerUserSessionsRoute } from './sessions.js';
import { registerUserCreateRoute, registerUserListRoute } from './users.js';

/** Registers the admin user routes. */
export async function adminUsersPlugin(app: FastifyInstance): Promise<void> {
  answerTargetGoneAsNotFound(app);
  registerUserCreateRoute(app);
  registerUserListRoute(app);
  registerUserChangeRoutes(app);
  registerUserSessionsRoute(app);
  registerSecurityEventsRoute(app);
}
