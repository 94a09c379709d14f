/**
 * Email verification (`JOT_EMAIL_VERIFICATION`): `POST /api/email/verify` takes the link token and marks the
 * address verified (only while it is still the account's address); `POST /api/email/verification` sends a new link
 * to an address — anonymous, because with `required` an unverified user cannot sign in — with the same answer and
 * timing whether or not an account has it, limited per client and per address like the password reset.
 */
import type { FastifyInstance } from 'fastify';

import { HttpError } from '../http/errors.js';
import { authRateLimit } from '../http/rate-limit.js';
import { publicUser, userSchema } from '../http/views.js';
import { linkUsed } from '../services/one-time-tokens.js';
import { mailRequestRoute } from './mail-request-route.js';

/** Registers the verification routes. */
export async function emailVerificationPlugin(app: FastifyInstance): Promise<void> {
  const { store, events, config, oneTimeTokens, accountMail } = app.jot;
  const limit = { rateLimit: authRateLimit(config) };

  app.post<{ Body: { token: string } }>(
    '/api/email/verify',
    {
      config: limit,
      schema: {
        tags: ['accounts'],
        summary: 'Verify an email address with the link token.',
        body: {
          type: 'object',
          required: ['token'],
          additionalProperties: false,
          properties: { token: { type: 'string', minLength: 1, maxLength: 4096 } },
        },
        response: { 200: userSchema, 400: { $ref: 'JotError#' } },
      },
    },
    async (request) => {
      const claims = oneTimeTokens.verify('email_verification', request.body.token);
      const user = await store.getUserById(claims.sub);
      if (user === undefined || user.email !== claims.email) throw linkUsed();
      await oneTimeTokens.consume('email_verification', claims);
      const updated = await store.markEmailVerified(user.id, claims.email);
      if (updated === undefined) throw linkUsed();
      await events.record('email_verified', { userId: user.id, ip: request.ip });
      return publicUser(updated);
    },
  );

  mailRequestRoute(app, {
    path: '/api/email/verification',
    summary: 'Send a new verification link. Same answer whether or not the account exists.',
    message: 'if an unverified account uses this address, a new verification link is on its way',
    precheck() {
      if (config.emailVerification === 'off') {
        throw new HttpError(404, 'ERR_NOT_FOUND', 'email verification is turned off on this server');
      }
    },
    async send(user) {
      if (user.emailVerifiedAt === null) await accountMail.sendVerification(user);
    },
  });
}
