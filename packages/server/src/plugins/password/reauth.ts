/** `POST /api/reauth`: step-up (RFC 9470) with the password — tokens with a fresh `auth_time`. */
import type { FastifyInstance } from 'fastify';

import type { ReauthBody } from '@jot/contract';

import { deviceTokens } from '../../http/device-credential.js';
import { tokenRouteResponses } from '../../http/schemas.js';
import { reauthBodySchema } from '../../http/session-body-schemas.js';
import { confirmPassword } from '../../services/password-change.js';
import { authenticate, authOf } from '../auth.js';
import { reissueResponse } from '../reissue-response.js';
import type { PasswordCheckLimits } from './limits.js';

/** Registers `POST /api/reauth`. */
export function registerReauthRoute(app: FastifyInstance, limits: PasswordCheckLimits): void {
  app.post<{ Body: ReauthBody }>(
    '/api/reauth',
    {
      preHandler: [authenticate, limits.perUser],
      config: limits.perAddress,
      schema: {
        tags: ['accounts'],
        summary: 'Step-up: confirm the password to get an access token with a fresh auth_time (RFC 9470).',
        body: reauthBodySchema,
        response: tokenRouteResponses(400, 401, 403, 409, 429),
      },
    },
    async (request, reply) => {
      const caller = {
        userId: authOf(request).claims.sub,
        ip: request.ip,
        deviceTokens: deviceTokens(request, undefined),
      };
      await confirmPassword(app.jot, caller, request.body.password);
      // A password-only confirmation: the session's authentication becomes one factor (`acr` aal1) again.
      return reissueResponse(request, reply, { authTime: app.jot.clock(), amr: ['pwd'], acr: 'aal1' });
    },
  );
}
