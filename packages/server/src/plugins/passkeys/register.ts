/** Passkey registration by the signed-in user (after a recent sign-in, like every new factor). */
import type { FastifyInstance } from 'fastify';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';

import { factorNameSchema, factorSchema, publicFactor } from '../../http/mfa-schemas.js';
import { authErrors } from '../../http/schemas.js';
import { enrollingUser, registerPasskey } from '../../services/mfa-enrolment.js';
import { authOf, requireStepUp } from '../auth.js';
import { callerOf } from '../caller.js';
import { credentialSchema } from './schemas.js';

/** Registers `POST /api/passkeys/register/options` and `POST /api/passkeys/register`. */
export function registerPasskeyRegistrationRoutes(app: FastifyInstance): void {
  const { mfa } = app.jot;
  const fresh = requireStepUp({ always: true });

  app.post(
    '/api/passkeys/register/options',
    {
      preHandler: fresh,
      schema: { tags: ['mfa'], summary: 'WebAuthn options to create a passkey for the signed-in user.' },
    },
    async (request, reply) => {
      const user = await enrollingUser(app.jot, authOf(request).claims.sub);
      reply.header('cache-control', 'no-store');
      return mfa.passkeys.registrationOptions(user);
    },
  );

  app.post<{ Body: { credential: Record<string, unknown>; name?: string } }>(
    '/api/passkeys/register',
    {
      preHandler: fresh,
      schema: {
        tags: ['mfa'],
        summary:
          'Store a new passkey. The first factor of an account also gets 10 recovery codes (shown once).',
        body: {
          type: 'object',
          required: ['credential'],
          additionalProperties: false,
          properties: { credential: credentialSchema, name: factorNameSchema },
        },
        response: {
          201: {
            type: 'object',
            properties: {
              factor: factorSchema,
              recovery_codes: { type: 'array', items: { type: 'string' } },
            },
          },
          ...authErrors,
          409: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const credential = request.body.credential as unknown as RegistrationResponseJSON;
      // The name is optional here, so a blank one is none: refusing it would waste the ceremony just completed.
      const name = request.body.name?.trim() || 'Passkey';
      const { factor, codes } = await registerPasskey(app.jot, caller, credential, name);
      return reply.code(201).send({ factor: publicFactor(factor), recovery_codes: codes });
    },
  );
}
