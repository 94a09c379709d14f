/**
 * Invitations: an admin invites an address with roles (step-up required: it grants roles); the mail's link lets
 * that person choose a password, once, before the invitation expires or is revoked. Acceptance creates the account
 * (email verified: the link proved the mailbox) in the same transaction that marks the invitation accepted.
 */
import type { FastifyInstance } from 'fastify';

import type { InvitationView } from '@jot/contract';

import { HttpError } from '../http/errors.js';
import { authRateLimit } from '../http/rate-limit.js';
import { authErrors, emailSchema, passwordSchema } from '../http/schemas.js';
import { publicUser, userSchema } from '../http/views.js';
import { checkPasswordStrength } from '../services/password-policy.js';
import { linkUsed } from '../services/one-time-tokens.js';
import { StoreError, type Invitation } from '../store/index.js';
import { authOf, requireRecentAuth, requireRole } from './auth.js';

const invitationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    created_at: { type: 'string' },
    expires_at: { type: 'string' },
  },
} as const;

/** Roles as the admin API accepts them. */
export const rolesSchema = {
  type: 'array',
  maxItems: 32,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' },
} as const;

function view(invitation: Invitation): InvitationView {
  return {
    id: invitation.id,
    email: invitation.email,
    roles: invitation.roles,
    created_at: new Date(invitation.createdAt).toISOString(),
    expires_at: new Date(invitation.expiresAt).toISOString(),
  };
}

/** Registers the admin invitation routes and `POST /api/invitations/accept`. */
export async function invitationsPlugin(app: FastifyInstance): Promise<void> {
  const { store, passwords, events, config, clock, oneTimeTokens, accountMail } = app.jot;

  app.post<{ Body: { email: string; roles?: string[] } }>(
    '/api/admin/invitations',
    {
      preHandler: requireRecentAuth('admin'),
      schema: {
        tags: ['admin'],
        summary: 'Invite an address, with the roles its account will have; the link goes out by mail.',
        body: {
          type: 'object',
          required: ['email'],
          additionalProperties: false,
          properties: { email: emailSchema, roles: rolesSchema },
        },
        response: { 201: invitationSchema, 409: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      if ((await store.getUserByEmail(request.body.email)) !== undefined) {
        throw new HttpError(409, 'ERR_EMAIL_TAKEN', 'an account with this email already exists');
      }
      const invitation = await store.createInvitation({
        email: request.body.email,
        roles: request.body.roles ?? [],
        invitedBy: claims.sub,
        expiresAt: clock() + config.oneTimeTokenTtlMs.invitation,
      });
      await accountMail.sendInvitation(invitation);
      await events.record('invitation_created', {
        userId: claims.sub,
        ip: request.ip,
        detail: { invitation: invitation.id, roles: invitation.roles },
      });
      return reply.code(201).send(view(invitation));
    },
  );

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
    async () => ({ invitations: (await store.listOpenInvitations(500)).map(view) }),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/admin/invitations/:id',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: ['admin'],
        summary: 'Revoke an invitation: its link stops working.',
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
        },
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
      return view(invitation);
    },
  );

  app.post<{ Body: { token: string; password: string; name?: string } }>(
    '/api/invitations/accept',
    {
      config: { rateLimit: authRateLimit(config) },
      schema: {
        tags: ['accounts'],
        summary: 'Accept an invitation: choose a password; the account is created with the invited roles.',
        body: {
          type: 'object',
          required: ['token', 'password'],
          additionalProperties: false,
          properties: {
            token: { type: 'string', minLength: 1, maxLength: 4096 },
            password: passwordSchema,
            name: { type: 'string', maxLength: 200 },
          },
        },
        response: { 201: userSchema, 400: { $ref: 'JotError#' }, 409: { $ref: 'JotError#' } },
      },
    },
    async (request, reply) => {
      const claims = oneTimeTokens.verify('invitation', request.body.token);
      const invitation = await store.getInvitation(claims.jti);
      if (invitation === undefined || invitation.id !== claims.sub || invitation.email !== claims.email) {
        throw linkUsed();
      }
      if (invitation.revokedAt !== null) {
        throw new HttpError(
          400,
          'ERR_LINK_USED',
          'this invitation was revoked; ask the administrator for a new one',
        );
      }
      checkPasswordStrength(request.body.password, invitation.email);
      const passwordHash = await passwords.hash(request.body.password);
      let accepted;
      try {
        accepted = await store.acceptInvitation(invitation.id, {
          passwordHash,
          name: request.body.name?.trim() || null,
        });
      } catch (err) {
        if (err instanceof StoreError && err.code === 'ERR_STORE_CONFLICT') {
          throw new HttpError(
            409,
            'ERR_EMAIL_TAKEN',
            'an account with this email already exists; sign in instead',
          );
        }
        throw err;
      }
      if (accepted === undefined) throw linkUsed();
      await events.record('invitation_accepted', {
        userId: accepted.user.id,
        ip: request.ip,
        detail: { invitation: invitation.id },
      });
      return reply.code(201).send(publicUser(accepted.user));
    },
  );
}
