/** `GET /api/admin/invitations`: the open invitations (not accepted, revoked or expired), newest first. */
import type { FastifyInstance } from 'fastify';

import { authErrors } from '../../http/schemas.js';
import { requireRole } from '../auth.js';
import { invitationSchema, invitationView } from './view.js';

/** Registers `GET /api/admin/invitations`. */
export function registerInvitationListRoute(app: FastifyInstance): void {
  const { store } = app.jot;
  app.get(
    '/api/admin/invitations',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: ['admin'],
        summary: 'Open invitations (not accepted, revoked or expired), newest first.',
        response: {
          200: { type: 'object', properties: { invitations: { type: 'array', items: invitationSchema } } },
          ...authErrors,
        },
      },
    },
    async () => ({ invitations: (await store.listOpenInvitations(500)).map(invitationView) }),
  );
}
