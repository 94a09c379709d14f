/** `POST /api/register`: self-registration (`JOT_REGISTRATION=open`). */
import type { FastifyInstance } from 'fastify';

import type { RegisterBody } from '@jot/contract';

import { authRateLimit, mailAddressLimit } from '../../http/rate-limit.js';
import { registerBodySchema } from '../../http/session-body-schemas.js';
import { publicUser, userSchema } from '../../http/views.js';
import { checkRegistration, registerAccount } from '../../services/registration.js';

/** Registers `POST /api/register`. */
export function registerRegisterRoute(app: FastifyInstance): void {
  // The verification link of a new account is mail like the others: it spends the recipient's budget, so new
  // accounts at `ada+1@`, `ada+2@`, … cannot fill ada's inbox (http/mailbox-key.ts).
  const perRecipient = mailAddressLimit(app, app.jot.config);
  app.post<{ Body: RegisterBody }>(
    '/api/register',
    {
      config: { rateLimit: authRateLimit(app.jot.config) },
      schema: {
        tags: ['accounts'],
        summary:
          'Create an account, when JOT_REGISTRATION=open. Outside production the first account becomes an admin.',
        body: registerBodySchema,
        response: {
          201: userSchema,
          400: { $ref: 'JotError#' },
          403: { $ref: 'JotError#' },
          409: { $ref: 'JotError#' },
          429: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const { email, password, name } = request.body;
      if (app.jot.config.emailVerification !== 'off') {
        // Only a registration that will mail spends the budget: one refused below mails nothing.
        await checkRegistration(app.jot, { email, password });
        await perRecipient(request, email);
      }
      const user = await registerAccount(app.jot, { email, password, name, ip: request.ip });
      return reply.code(201).send(publicUser(user));
    },
  );
}
