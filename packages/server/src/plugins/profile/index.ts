/**
 * The signed-in user's own account: display name, email change (confirmed by a link to the new address; the old one
 * is told) and deletion. Changing the email or deleting the account needs a recent password authentication
 * (step-up, `POST /api/reauth`), so a stolen access token alone can do neither. One file a route.
 */
import type { FastifyInstance } from 'fastify';

import { requireRecentAuth } from '../auth.js';
import { registerDeleteAccountRoute } from './delete-account.js';
import { registerEmailChangeConfirmRoute } from './email-change-confirm.js';
import { registerEmailChangeRoute } from './email-change.js';
import { registerProfileNameRoute } from './name.js';

/** Registers `PATCH /api/account`, `DELETE /api/account` and the email-change routes. */
export async function profilePlugin(app: FastifyInstance): Promise<void> {
  const stepUp = requireRecentAuth();
  registerProfileNameRoute(app);
  registerEmailChangeRoute(app, stepUp);
  registerEmailChangeConfirmRoute(app);
  registerDeleteAccountRoute(app, stepUp);
}
