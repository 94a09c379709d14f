/**
 * Email verification (`JOT_EMAIL_VERIFICATION`): `POST /api/email/verify` takes the link token and marks the
 * address verified (only while it is still the account's address). The first verification of a never-verified address
 * also takes the account's password, unless the request carries an access token of that account
 * (services/registrant-proof.ts); its checks count on the account's sign-in throttle and are recorded as a sign-in's,
 * with `via: "email_verification"` (http/lock-refusal-events.ts). `POST /api/email/verification` sends a new link
 * to an address — anonymous, because with `required` an unverified user cannot sign in — with the same answer and
 * timing whether or not an account has it, limited per client and per address like the password reset.
 */
import type { EmailVerifyBody } from '@jot/contract';
import type { FastifyInstance } from 'fastify';

import { emailVerifyBodySchema } from '../http/account-schemas.js';
import { HttpError } from '../http/errors.js';
import { lockRefusalEvents } from '../http/lock-refusal-events.js';
import { publicUser, userSchema } from '../http/views.js';
import { confirmEmailVerification } from '../services/account-links.js';
import { linkFollowerProof } from './link-follower-proof.js';
import { linkConfirmRoute, mailRequestRoute } from './mail-request-route.js';

/** Registers the verification routes. */
export async function emailVerificationPlugin(app: FastifyInstance): Promise<void> {
  const { config, accountMail } = app.jot;
  const lockEvents = lockRefusalEvents(app.jot, config.rateLimitAuth.windowMs, 'email_verification');

  linkConfirmRoute<EmailVerifyBody>(app, {
    path: '/api/email/verify',
    summary:
      'Verify an email address with the link token; the first verification of an address also takes the ' +
      "account's password (or a session of the account).",
    body: emailVerifyBodySchema,
    response: {
      200: userSchema,
      400: { $ref: 'JotError#' },
      401: { $ref: 'JotError#' },
      403: { $ref: 'JotError#' },
      429: { $ref: 'JotError#' },
    },
    async confirm(request) {
      const { token, password } = request.body;
      const user = await confirmEmailVerification(
        app.jot,
        token,
        request.ip,
        linkFollowerProof(request, password, lockEvents),
      );
      return publicUser(user);
    },
  });

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
      // Whoever asks gets no answer about the account, but the mail goes to the address: an account never verified
      // may be a squatter's (one who registered the address first and asks for links so its owner confirms it), so
      // the link comes with the advice of the first one (take the account over with 'forgot password').
      if (user.emailVerifiedAt === null) await accountMail.sendVerification(user, 'verify-new-account');
    },
  });
}
