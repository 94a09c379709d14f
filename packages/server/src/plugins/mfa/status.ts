/** `GET /api/mfa`: the signed-in user's second factors and recovery codes left. */
import type { FastifyInstance } from 'fastify';

import type { MfaStatusView } from '@jot/contract';

import { factorSchema, publicFactor } from '../../http/mfa-schemas.js';
import { authErrors } from '../../http/schemas.js';
import { needsVerifiedEmail } from '../../services/enrolment-gate.js';
import { existingUser } from '../../services/mfa-enrolment.js';
import { authenticate, authOf } from '../auth.js';

/** Registers `GET /api/mfa`. */
export function registerMfaStatusRoute(app: FastifyInstance): void {
  const { config, mfa, store } = app.jot;
  app.get(
    '/api/mfa',
    {
      preHandler: authenticate,
      schema: {
        tags: ['mfa'],
        summary: "The signed-in user's second factors and recovery codes left.",
        response: {
          200: {
            type: 'object',
            properties: {
              enabled: { type: 'boolean' },
              required: { type: 'boolean' },
              factors: { type: 'array', items: factorSchema },
              recovery_codes_left: { type: 'integer' },
              needs_verified_email: {
                type: 'boolean',
                description:
                  'True while the address is unverified (and email verification is on): adding a factor is refused with ERR_EMAIL_NOT_VERIFIED until it is verified.',
              },
            },
          },
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      const user = await existingUser(store, claims.sub);
      const factors = await mfa.factors.factors(claims.sub);
      const required =
        config.mfaRequired === 'all' || (config.mfaRequired === 'admins' && claims.roles.includes('admin'));
      reply.header('cache-control', 'no-store');
      return {
        enabled: factors.length > 0,
        required,
        factors: factors.map(publicFactor),
        recovery_codes_left: await mfa.factors.recoveryCodesLeft(claims.sub),
        needs_verified_email: needsVerifiedEmail(config, user),
      } satisfies MfaStatusView;
    },
  );
}
