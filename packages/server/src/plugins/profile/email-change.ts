/**
 * `POST /api/email/change`: a confirmation link goes to the new address and a notice to the current one; the email
 * changes only when the link is opened (`email-change-confirm.ts`). An address another account has gets a notice
 * instead of a link, with the same answer to the request (`202`, same body, same minimum time).
 */
import type { EmailChangeBody } from '@jot/contract';
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';

import { HttpError } from '../../http/errors.js';
import { authRateLimit, mailAddressLimit, verifiedLimit } from '../../http/rate-limit.js';
import { emailChangeBodySchema } from '../../http/account-schemas.js';
import { authErrors } from '../../http/schemas.js';
import { emailError } from '../../services/accounts.js';
import { displayEmail, emailKey, emailKeyOf } from '../../store/index.js';
import { authOf } from '../auth.js';
import { ANONYMOUS_MAIL_FLOOR_MS, withTimeFloor } from '../mail-request-route.js';
import { ownAccount } from './own-account.js';

/** Registers `POST /api/email/change` behind `stepUp` (a recent authentication). */
export function registerEmailChangeRoute(app: FastifyInstance, stepUp: preHandlerAsyncHookHandler): void {
  const { store, events, config, accountMail } = app.jot;
  // Email changes send mail: limited per client address, per signed-in user (not per header spelling) and, like
  // every endpoint that mails an address someone typed, per recipient (`JOT_RATE_LIMIT_MAIL`).
  const perRecipient = mailAddressLimit(app, config);
  const perUser = verifiedLimit(
    app,
    'email-change',
    config.rateLimitAuth,
    (request) => authOf(request).claims.sub,
  );
  app.post<{ Body: EmailChangeBody }>(
    '/api/email/change',
    {
      preHandler: [stepUp, perUser],
      config: { rateLimit: authRateLimit(config) },
      schema: {
        tags: ['accounts'],
        summary:
          'Change your email: a confirmation link goes to the new address, a notice to the current one.',
        body: emailChangeBodySchema,
        response: {
          202: { type: 'object', properties: { status: { type: 'string' }, message: { type: 'string' } } },
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      const user = await ownAccount(store, claims.sub);
      // The display form is what the account will show; the comparison key decides whether it is the same address.
      let newEmail: string;
      let newKey: string;
      try {
        newEmail = displayEmail(request.body.new_email);
        newKey = emailKey(newEmail);
      } catch (err) {
        throw emailError(err);
      }
      // The current address's key; undefined for one today's rules refuse (older data).
      if (newKey === emailKeyOf(user.email)) {
        throw new HttpError(400, 'ERR_VALIDATION', 'that is already the email of your account');
      }
      // Counted before the lookup, alike for an address another account has: a 429 says nothing about it.
      await perRecipient(request, newEmail);
      // An address another account has gets a notice instead of a link, and the answer is the same, after the same
      // floor: whoever holds this session cannot learn from it which addresses have accounts here.
      await withTimeFloor(app, ANONYMOUS_MAIL_FLOOR_MS, async () => {
        const taken = (await store.getUserByEmail(newEmail)) !== undefined;
        if (taken) await accountMail.sendEmailChangeTaken(user, newEmail);
        else await accountMail.sendEmailChange(user, newEmail);
        await events.record('email_change_requested', {
          userId: user.id,
          sessionId: claims.sid,
          ip: request.ip,
          detail: { taken },
        });
      });
      return reply.code(202).send({
        status: 'accepted',
        message: `open the link we sent to ${newEmail} to confirm it; your email stays ${user.email} until then`,
      });
    },
  );
}
