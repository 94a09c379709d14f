/**
 * `POST /api/admin/invitations`: an admin invites an address with the roles its account will have. Step-up is
 * required, since the invitation grants roles; the link goes out by mail (the outbox, so it survives a restart).
 */
import type { InvitationCreateBody } from '@jot/contract';
import type { FastifyInstance } from 'fastify';

import { authErrors } from '../../http/schemas.js';
import { inviteAddress } from '../../services/invitations.js';
import { authOf, requireRecentAuth } from '../auth.js';
import { invitationCreateBodySchema } from '../admin-users/schemas.js';
import { invitationSchema, invitationView } from './view.js';

/** Registers `POST /api/admin/invitations`. */
export function registerInvitationCreateRoute(app: FastifyInstance): void {
  const { store, events, config, clock, accountMail } = app.jot;
  app.post<{ Body: InvitationCreateBody }>(
    '/api/admin/invitations',
    {
      preHandler: requireRecentAuth('admin'),
      schema: {
        tags: ['admin'],
        summary: 'Invite an address, with the roles its account will have; the link goes out by mail.',
        body: invitationCreateBodySchema,
        response: { 201: invitationSchema, 409: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const invitation = await inviteAddress(
        { store, clock, config, accountMail, events },
        { email: request.body.email, roles: request.body.roles ?? [] },
        { userId: authOf(request).claims.sub, ip: request.ip },
      );
      return reply.code(201).send(invitationView(invitation));
    },
  );
}
