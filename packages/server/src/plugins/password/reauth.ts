/**
 * `POST /api/reauth`: step-up (RFC 9470) with the password — tokens with a fresh `auth_time`. Its wrong passwords and
 * lock refusals are recorded as a sign-in's, with `via: "reauth"` (http/lock-refusal-events.ts).
 */
import type { FastifyInstance } from 'fastify';

import type { ReauthBody } from '@jot/contract';

import { deviceTokens } from '../../http/device-credential.js';
import { lockRefusalEvents } from '../../http/lock-refusal-events.js';
import { tokenRouteResponses } from '../../http/schemas.js';
import { reauthBodySchema } from '../../http/session-body-schemas.js';
import { confirmPassword } from '../../services/password-change.js';
import { authenticate } from '../auth.js';
import { callerOf } from '../caller.js';
import { reissueResponse } from '../reissue-response.js';
import type { PasswordCheckLimits } from './limits.js';

/** Registers `POST /api/reauth`. */
export function registerReauthRoute(app: FastifyInstance, limits: PasswordCheckLimits): void {
  const { config } = app.jot;
  const lockEvents = lockRefusalEvents(app.jot, config.rateLimitAuth.windowMs, 'reauth');
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
      const caller = { ...callerOf(request), deviceTokens: deviceTokens(request, undefined) };
      await confirmPassword(app.jot, caller, request.body.password, lockEvents.reportFor(caller));
      // A password-only confirmation: the session's authentication becomes one factor (`acr` aal1) again.
      return reissueResponse(request, reply, { authTime: app.jot.clock(), amr: ['pwd'], acr: 'aal1' });
    },
  );
}
