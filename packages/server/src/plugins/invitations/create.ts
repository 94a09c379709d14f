/**
 * `POST /api/admin/invitations`: an admin invites an address with the roles its account will have. Step-up is
 * required, since the invitation grants roles; the link goes out by mail (the outbox, so it survives a restart).
 */
import type { InvitationCreateBody } from '@jot/contract';
import type { FastifyInstance } from 'fastify';

import { HttpError } from '../../http/errors.js';
import { authErrors } from '../../http/schemas.js';
import { emailError } from '../../services/accounts.js';
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
      const { claims } = authOf(request);
      if ((await store.getUserByEmail(request.body.email)) !== undefined) {
        throw new HttpError(409, 'ERR_EMAIL_TAKEN', 'an account with this email already exists');
      }
      // An address the schema lets through but no account can have (invisible characters, no valid domain) is the
      // admin's to fix: 400 ERR_EMAIL_INVALID, as everywhere else an address is taken.
      const invitation = await store
        .createInvitation({
          email: request.body.email,
          roles: request.body.roles ?? [],
          invitedBy: claims.sub,
          expiresAt: clock() + config.oneTimeTokenTtlMs.invitation,
        })
        .catch((err: unknown) => {
          throw emailError(err);
        });
      await accountMail.sendInvitation(invitation);
      await events.record('invitation_created', {
        userId: claims.sub,
        ip: request.ip,
        detail: { invitation: invitation.id, roles: invitation.roles },
      });
      return reply.code(201).send(invitationView(invitation));
    },
  );
}
