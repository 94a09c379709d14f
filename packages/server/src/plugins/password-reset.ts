/**
 * Forgotten passwords. `POST /api/password/forgot` answers 202 with the same body, after the same minimum time,
 * whether or not an account has the address (the work for a real account runs behind that floor); it is limited per
 * client address (`JOT_RATE_LIMIT_AUTH`) and per email address (`JOT_RATE_LIMIT_MAIL`). `POST /api/password/reset`
 * takes the one-time link token: it works once, only while the password it was issued for is still the current one
 * (compare-and-set), and a completed reset ends every session and every token of the account.
 */
import type { PasswordResetBody } from '@jot/contract';
import type { FastifyInstance } from 'fastify';

import { passwordResetBodySchema } from '../http/account-schemas.js';
import { resetPasswordWithLink } from '../services/account-links.js';
import { linkConfirmRoute, mailRequestRoute } from './mail-request-route.js';

/** Registers `POST /api/password/forgot` and `POST /api/password/reset`. */
export async function passwordResetPlugin(app: FastifyInstance): Promise<void> {
  const { events, accountMail } = app.jot;

  mailRequestRoute(app, {
    path: '/api/password/forgot',
    summary: 'Ask for a password-reset link by mail. Same answer whether or not the account exists.',
    message: 'if an account uses this address, a link to reset its password is on its way',
    async send(user, request) {
      await accountMail.sendPasswordReset(user);
      await events.record('password_reset_requested', { userId: user.id, ip: request.ip });
    },
  });

  linkConfirmRoute<PasswordResetBody>(app, {
    path: '/api/password/reset',
    summary: 'Set a new password with the link token. Ends every session of the account.',
    body: passwordResetBodySchema,
    response: {
      200: { type: 'object', properties: { status: { type: 'string' }, email: { type: 'string' } } },
      400: { $ref: 'JotError#' },
      403: { $ref: 'JotError#' },
    },
    async confirm(request) {
      const { token, new_password: password } = request.body;
      const updated = await resetPasswordWithLink(app.jot, token, password, request.ip);
      return { status: 'reset', email: updated.email };
    },
  });
}
