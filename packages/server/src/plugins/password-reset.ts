/**
 * Forgotten passwords. `POST /api/password/forgot` answers 202 with the same body, after the same minimum time,
 * whether or not an account has the address (the work for a real account runs behind that floor); it is limited per
 * client address (`JOT_RATE_LIMIT_AUTH`) and per email address (`JOT_RATE_LIMIT_MAIL`). `POST /api/password/reset`
 * takes the one-time link token: it works once, only while the password it was issued for is still the current one
 * (compare-and-set), and a completed reset ends every session and every token of the account.
 */
import type { FastifyInstance } from 'fastify';

import { HttpError } from '../http/errors.js';
import { authRateLimit } from '../http/rate-limit.js';
import { passwordSchema } from '../http/schemas.js';
import { checkPasswordStrength } from '../services/password-policy.js';
import { linkUsed } from '../services/one-time-tokens.js';
import { mailRequestRoute } from './mail-request-route.js';

/** Registers `POST /api/password/forgot` and `POST /api/password/reset`. */
export async function passwordResetPlugin(app: FastifyInstance): Promise<void> {
  const { store, passwords, revocations, events, config, oneTimeTokens, accountMail } = app.jot;

  mailRequestRoute(app, {
    path: '/api/password/forgot',
    summary: 'Ask for a password-reset link by mail. Same answer whether or not the account exists.',
    message: 'if an account uses this address, a link to reset its password is on its way',
    async send(user, request) {
      await accountMail.sendPasswordReset(user);
      await events.record('password_reset_requested', { userId: user.id, ip: request.ip });
    },
  });

  app.post<{ Body: { token: string; new_password: string } }>(
    '/api/password/reset',
    {
      config: { rateLimit: authRateLimit(config) },
      schema: {
        tags: ['accounts'],
        summary: 'Set a new password with the link token. Ends every session of the account.',
        body: {
          type: 'object',
          required: ['token', 'new_password'],
          additionalProperties: false,
          properties: {
            token: { type: 'string', minLength: 1, maxLength: 4096 },
            new_password: passwordSchema,
          },
        },
        response: {
          200: { type: 'object', properties: { status: { type: 'string' }, email: { type: 'string' } } },
          400: { $ref: 'JotError#' },
          403: { $ref: 'JotError#' },
        },
      },
    },
    async (request) => {
      const claims = oneTimeTokens.verify('password_reset', request.body.token);
      const user = await store.getUserById(claims.sub);
      // A password changed since the link was sent (by a reset or otherwise) kills the link.
      if (user === undefined || !oneTimeTokens.matchesCredential(claims, user.passwordHash)) throw linkUsed();
      if (user.status !== 'active') {
        throw new HttpError(403, 'ERR_USER_DISABLED', 'this account is disabled; contact an administrator');
      }
      checkPasswordStrength(request.body.new_password, user.email);
      const hash = await passwords.hash(request.body.new_password);
      await oneTimeTokens.consume('password_reset', claims);
      const updated = await store.replacePasswordHash(user.id, user.passwordHash, hash);
      if (updated === undefined) throw linkUsed();
      // Following the link proved the mailbox, as a verification link would.
      if (updated.emailVerifiedAt === null) await store.markEmailVerified(user.id, user.email);
      await revocations.revokeAllForUser(user.id, 'password_reset');
      await events.record('password_reset', { userId: user.id, ip: request.ip });
      await accountMail.sendPasswordResetDone(updated);
      return { status: 'reset', email: updated.email };
    },
  );
}
