/** `POST /api/mfa/step-up` (RFC 9470 with a second factor) and the WebAuthn options for a passkey step-up. */
import type { FastifyInstance } from 'fastify';

import { proofOf, proofProperties, type ProofBody } from '../../http/mfa-schemas.js';
import { tokenRouteResponses } from '../../http/schemas.js';
import { tokenResponse } from '../../http/token-response.js';
import { stepUpWithSecondFactor } from '../../services/mfa-enrolment.js';
import { authenticate, authOf } from '../auth.js';
import { callerOf } from '../caller.js';
import { passkeyOptions } from '../passkey-options.js';
import type { MfaGuards } from './guards.js';

/** Registers the step-up routes. */
export function registerStepUpRoutes(app: FastifyInstance, guards: MfaGuards): void {
  app.post<{ Body: ProofBody }>(
    '/api/mfa/step-up',
    {
      preHandler: [authenticate, guards.perUser],
      config: guards.credentialLimit,
      schema: {
        tags: ['mfa'],
        summary: 'Step-up (RFC 9470) with a second factor: tokens with a fresh auth_time and acr aal2.',
        body: { type: 'object', additionalProperties: false, properties: proofProperties },
        response: tokenRouteResponses(400, 401, 403, 409, 429),
      },
    },
    async (request, reply) => {
      const pair = await stepUpWithSecondFactor(app.jot, callerOf(request), proofOf(request.body));
      return tokenResponse(request, reply, pair);
    },
  );

  app.post(
    '/api/mfa/step-up/passkey-options',
    {
      preHandler: authenticate,
      schema: { tags: ['mfa'], summary: "WebAuthn options for a step-up with one of the user's passkeys." },
    },
    async (request, reply) => passkeyOptions(reply, authOf(request).claims.sub),
  );
}
