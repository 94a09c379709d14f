/** `DELETE /api/admin/invitations/:id`: revoke an open invitation, so its link stops working. */
import type { FastifyInstance } from 'fastify';

import { HttpError } from '../../http/errors.js';
import { authErrors } from '../../http/schemas.js';
import { authOf, requireRole } from '../auth.js';
import { idParams } from '../admin-users/schemas.js';
import { invitationSchema, invitationView } from './view.js';

/** Registers `DELETE /api/admin/invitations/:id`. */
export function registerInvitationRevokeRoute(app: FastifyInstance): void {
  const { store, events } = app.jot;
  app.delete<{ Params: { id: string } }>(
    '/api/admin/invitations/:id',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: ['admin'],
        summary: 'Revoke an invitation: its link stops working.',
        params: idParams,
        response: { 200: invitationSchema, 404: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request) => {
      const { claims } = authOf(request);
      const invitation = await store.revokeInvitation(request.params.id);
      if (invitation === undefined)
        throw new HttpError(404, 'ERR_NOT_FOUND', 'no open invitation with this id');
      await events.record('invitation_revoked', {
        userId: claims.sub,
        ip: request.ip,
        detail: { invitation: invitation.id },
      });
      return invitationView(invitation);
    },
  );
}
