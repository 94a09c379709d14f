/**
 * The signed-in user's own account: display name, email change (confirmed by a link to the new address; the old one
 * is told) and deletion. Changing the email or deleting the account needs a recent password authentication
 * (step-up, `POST /api/reauth`), so a stolen access token alone can do neither.
 */
import type { FastifyInstance } from 'fastify';

import { clearTokenCookies } from '../http/cookies.js';
import { HttpError } from '../http/errors.js';
import { authRateLimit, verifiedLimit } from '../http/rate-limit.js';
import { authErrors, emailSchema } from '../http/schemas.js';
import { publicUser, userSchema } from '../http/views.js';
import { deleteAccount } from '../services/account-deletion.js';
import { linkUsed } from '../services/one-time-tokens.js';
import { StoreError, type User } from '../store/index.js';
import { authenticate, authOf, requireRecentAuth } from './auth.js';

/** Registers `PATCH /api/account`, `DELETE /api/account` and the email-change routes. */
export async function profilePlugin(app: FastifyInstance): Promise<void> {
  const { store, events, config, oneTimeTokens, accountMail } = app.jot;
  const stepUp = requireRecentAuth();
  // Email changes send mail: limited per address and per signed-in user (not per header spelling).
  const perUser = verifiedLimit(
    app,
    'email-change',
    config.rateLimitAuth,
    (request) => authOf(request).claims.sub,
  );

  async function me(id: string): Promise<User> {
    const user = await store.getUserById(id);
    if (user === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'the account no longer exists');
    return user;
  }

  app.patch<{ Body: { name: string | null } }>(
    '/api/account',
    {
      preHandler: authenticate,
      schema: {
        tags: ['accounts'],
        summary: 'Update your profile (display name).',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: ['string', 'null'], maxLength: 200 } },
        },
        response: { 200: userSchema, ...authErrors },
      },
    },
    async (request) => {
      const { claims } = authOf(request);
      const name = request.body.name?.trim() ?? '';
      const user = await store.setName(claims.sub, name === '' ? null : name);
      return publicUser(user ?? (await me(claims.sub)));
    },
  );

  app.post<{ Body: { new_email: string } }>(
    '/api/email/change',
    {
      preHandler: [stepUp, perUser],
      config: { rateLimit: authRateLimit(config) },
      schema: {
        tags: ['accounts'],
        summary:
          'Change your email: a confirmation link goes to the new address, a notice to the current one.',
        body: {
          type: 'object',
          required: ['new_email'],
          additionalProperties: false,
          properties: { new_email: emailSchema },
        },
        response: {
          202: { type: 'object', properties: { status: { type: 'string' }, message: { type: 'string' } } },
          409: { $ref: 'JotError#' },
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      const user = await me(claims.sub);
      const newEmail = request.body.new_email.trim().toLowerCase();
      if (newEmail === user.email) {
        throw new HttpError(400, 'ERR_VALIDATION', 'that is already the email of your account');
      }
      if ((await store.getUserByEmail(newEmail)) !== undefined) {
        throw new HttpError(409, 'ERR_EMAIL_TAKEN', 'an account with this email already exists');
      }
      await accountMail.sendEmailChange(user, newEmail);
      await events.record('email_change_requested', {
        userId: user.id,
        sessionId: claims.sid,
        ip: request.ip,
      });
      return reply.code(202).send({
        status: 'accepted',
        message: `open the link we sent to ${newEmail} to confirm it; your email stays ${user.email} until then`,
      });
    },
  );

  app.post<{ Body: { token: string } }>(
    '/api/email/change/confirm',
    {
      config: { rateLimit: authRateLimit(config) },
      schema: {
        tags: ['accounts'],
        summary: 'Confirm a new email address with the link token.',
        body: {
          type: 'object',
          required: ['token'],
          additionalProperties: false,
          properties: { token: { type: 'string', minLength: 1, maxLength: 4096 } },
        },
        response: { 200: userSchema, 400: { $ref: 'JotError#' }, 409: { $ref: 'JotError#' } },
      },
    },
    async (request) => {
      const claims = oneTimeTokens.verify('email_change', request.body.token);
      const user = await store.getUserById(claims.sub);
      // The link is for a change from the address the account still has; any other change since kills it.
      if (user === undefined || user.email !== claims.email || typeof claims.new_email !== 'string') {
        throw linkUsed();
      }
      await oneTimeTokens.consume('email_change', claims);
      let updated: User | undefined;
      try {
        updated = await store.setVerifiedEmail(user.id, claims.new_email);
      } catch (err) {
        if (err instanceof StoreError && err.code === 'ERR_STORE_CONFLICT') {
          throw new HttpError(409, 'ERR_EMAIL_TAKEN', 'another account took this address meanwhile');
        }
        throw err;
      }
      if (updated === undefined) throw linkUsed();
      await events.record('email_changed', { userId: user.id, ip: request.ip });
      await accountMail.sendEmailChanged(user.email, updated);
      return publicUser(updated);
    },
  );

  app.delete(
    '/api/account',
    {
      preHandler: stepUp,
      schema: {
        tags: ['accounts'],
        summary: 'Delete your account: every session and token ends and your personal data is removed.',
        response: { 204: { type: 'null' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      await deleteAccount(app.jot, await me(claims.sub), { by: 'self' });
      clearTokenCookies(reply);
      return reply.code(204).send();
    },
  );
}
