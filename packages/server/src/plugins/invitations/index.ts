/**
 * Invitations: an admin invites an address with roles (step-up required: it grants roles); the mail's link lets
 * that person choose a password, once, before the invitation expires or is revoked. Acceptance creates the account
 * (email verified: the link proved the mailbox) in the same transaction that marks the invitation accepted.
 * One file a route; `view.ts` is the invitation's wire view.
 */
import type { FastifyInstance } from 'fastify';

import { registerInvitationAcceptRoute } from './accept.js';
import { registerInvitationCreateRoute } from './create.js';
import { registerInvitationListRoute } from './list.js';
import { registerInvitationRevokeRoute } from './revoke.js';

/** Registers the admin invitation routes and `POST /api/invitations/accept`. */
export async function invitationsPlugin(app: FastifyInstance): Promise<void> {
  registerInvitationCreateRoute(app);
  registerInvitationListRoute(app);
  registerInvitationRevokeRoute(app);
  registerInvitationAcceptRoute(app);
}
