/**
 * Accounts: registration, sign-in and `whoami`, one file a route.
 * Unknown email and wrong password are indistinguishable: same status, same body, a dummy argon2 verification and
 * a failure padded to the slowest recent verification, so they take the same time whatever the stored hash.
 */
import type { FastifyInstance } from 'fastify';

import { registerLoginRoute } from './login.js';
import { registerRegisterRoute } from './register.js';
import { registerWhoamiRoute } from './whoami.js';

/** Registers the account routes. */
export async function accountsPlugin(app: FastifyInstance): Promise<void> {
  registerRegisterRoute(app);
  registerLoginRoute(app);
  registerWhoamiRoute(app);
}
