/** `POST /api/mfa/totp` (start an authenticator-app enrolment) and `POST /api/mfa/totp/confirm` (finish it). */
import type { FastifyInstance } from 'fastify';

import type { TotpEnrolmentView } from '@jot/contract';

import { proofProperties } from '../../http/mfa-schemas.js';
import { authErrors, tokenResponseSchema } from '../../http/schemas.js';
import { tokenResponse } from '../../http/token-response.js';
import { confirmTotpEnrolment, enrollingUser } from '../../services/mfa-enrolment.js';
import { authenticate, authOf } from '../auth.js';
import { callerOf } from '../caller.js';
import { recoveryCodesSchema, type MfaGuards } from './guards.js';
import { sensitiveMfaRoute } from './sensitive-route.js';

/** Registers `POST /api/mfa/totp`. */
function registerTotpStartRoute(app: FastifyInstance, guards: MfaGuards): void {
  const { mfa } = app.jot;
  app.post(
    '/api/mfa/totp',
    sensitiveMfaRoute(
      guards,
      'Start setting up an authenticator app: the secret as text and as an otpauth:// URI (QR code).',
      {
        200: {
          type: 'object',
          properties: {
            factor_id: { type: 'string' },
            secret: { type: 'string' },
            otpauth_uri: { type: 'string' },
          },
        },
        409: { $ref: 'JotError#' },
      },
    ),
    async (request, reply) => {
      const enrolment = await mfa.factors.startTotp(await enrollingUser(app.jot, authOf(request).claims.sub));
      reply.header('cache-control', 'no-store');
      return {
        factor_id: enrolment.factorId,
        secret: enrolment.secret,
        otpauth_uri: enrolment.uri,
      } satisfies TotpEnrolmentView;
    },
  );
}

/** Registers `POST /api/mfa/totp/confirm`. */
function registerTotpConfirmRoute(app: FastifyInstance, guards: MfaGuards): void {
  app.post<{ Body: { factor_id: string; code: string } }>(
    '/api/mfa/totp/confirm',
    {
      preHandler: [authenticate, guards.perUser],
      config: guards.credentialLimit,
      schema: {
        tags: ['mfa'],
        summary:
          'Finish setting up the authenticator app with its first code. Returns the recovery codes (once) and ' +
          'tokens of this session at the multi-factor level.',
        body: {
          type: 'object',
          required: ['factor_id', 'code'],
          additionalProperties: false,
          properties: { factor_id: { type: 'string', maxLength: 64 }, code: proofProperties.code },
        },
        response: {
          200: {
            type: 'object',
            properties: { ...tokenResponseSchema.properties, recovery_codes: recoveryCodesSchema },
          },
          ...authErrors,
          404: { $ref: 'JotError#' },
          409: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { factor_id: factorId, code } = request.body;
      const { codes, pair } = await confirmTotpEnrolment(app.jot, caller, factorId, code.trim());
      return { ...tokenResponse(request, reply, pair), recovery_codes: codes };
    },
  );
}

/** Registers the TOTP enrolment routes. */
export function registerTotpRoutes(app: FastifyInstance, guards: MfaGuards): void {
  registerTotpStartRoute(app, guards);
  registerTotpConfirmRoute(app, guards);
}
