/**
 * `POST /api/invitations/accept`: the invited person chooses a password, once, before the invitation expires or is
 * revoked. The account is created with the invited roles and its email verified (the link proved the mailbox), in
 * the same transaction that marks the invitation accepted, so a link creates one account across every instance.
 */
import type { InvitationAcceptBody } from '@jot/contract';
import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../../context.js';
import { HttpError } from '../../http/errors.js';
import { authRateLimit } from '../../http/rate-limit.js';
import { invitationAcceptBodySchema } from '../../http/account-schemas.js';
import { publicUser, userSchema } from '../../http/views.js';
import { checkPasswordStrength } from '../../services/password-policy.js';
import { linkUsed } from '../../services/one-time-tokens.js';
import { emailKeyOf, StoreError, type Invitation, type User } from '../../store/index.js';

/** Registers `POST /api/invitations/accept`. */
export function registerInvitationAcceptRoute(app: FastifyInstance): void {
  app.post<{ Body: InvitationAcceptBody }>(
    '/api/invitations/accept',
    {
      config: { rateLimit: authRateLimit(app.jot.config) },
      schema: {
        tags: ['accounts'],
        summary: 'Accept an invitation: choose a password; the account is created with the invited roles.',
        body: invitationAcceptBodySchema,
        response: { 201: userSchema, 400: { $ref: 'JotError#' }, 409: { $ref: 'JotError#' } },
      },
    },
    async (request, reply) => {
      const invitation = await invitationOfLink(app.jot, request.body.token);
      const user = await createInvitedAccount(app.jot, invitation, request.body);
      await app.jot.events.record('invitation_accepted', {
        userId: user.id,
        ip: request.ip,
        detail: { invitation: invitation.id },
      });
      return reply.code(201).send(publicUser(user));
    },
  );
}

/** The invitation a link names, if the link is still good for it: not used, not for another invitation, not revoked. */
async function invitationOfLink(jot: ServerContext, token: string): Promise<Invitation> {
  const claims = jot.oneTimeTokens.verify('invitation', token);
  const invitation = await jot.store.getInvitation(claims.jti);
  // Compared by key: since migration 0016 the invitation holds its address's key, while a link mailed before it
  // carries the address as typed (an IDN domain, a trailing dot, a compatibility form).
  const linkKey = emailKeyOf(claims.email);
  if (
    invitation === undefined ||
    invitation.id !== claims.sub ||
    linkKey === undefined ||
    emailKeyOf(invitation.email) !== linkKey
  ) {
    throw linkUsed();
  }
  if (invitation.revokedAt !== null) {
    throw new HttpError(
      400,
      'ERR_LINK_USED',
      'this invitation was revoked; ask the administrator for a new one',
    );
  }
  return invitation;
}

/**
 * Creates the invited account and marks the invitation accepted (one transaction). An account created meanwhile
 * with the same email is a 409; an invitation accepted meanwhile (another request, another instance) is a used link.
 */
async function createInvitedAccount(
  jot: ServerContext,
  invitation: Invitation,
  body: InvitationAcceptBody,
): Promise<User> {
  checkPasswordStrength(body.password, invitation.email);
  const passwordHash = await jot.passwords.hash(body.password);
  let accepted;
  try {
    accepted = await jot.store.acceptInvitation(invitation.id, {
      passwordHash,
      name: body.name?.trim() || null,
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
  return accepted.user;
}
