/**
 * Admin: the OAuth client registry — list, show, register, change the DPoP or introspection policy, rotate a secret,
 * remove. Changes need a recent password authentication (step-up), since a client can mint tokens. A secret is in
 * the response once, when it is made. One file a route group.
 */
import type { FastifyInstance } from 'fastify';

import { requireRecentAuth } from '../auth.js';
import { registerClientReadRoutes } from './read.js';
import { registerClientRegisterRoute } from './register.js';
import { registerClientRemoveRoute } from './remove.js';
import { registerClientSecretRoute } from './rotate-secret.js';
import { registerClientUpdateRoute } from './update.js';

/** Registers the admin client routes. */
export async function adminClientsPlugin(app: FastifyInstance): Promise<void> {
  const sensitive = requireRecentAuth('admin');
  registerClientReadRoutes(app);
  registerClientRegisterRoute(app, sensitive);
  registerClientUpdateRoute(app, sensitive);
  registerClientSecretRoute(app, sensitive);
  registerClientRemoveRoute(app, sensitive);
}
