/**
 * `POST /api/password`: change the password; signs out every other session and invalidates earlier tokens (device
 * credentials too: the answer carries a fresh one, as a sign-in's does). A wrong current password and a lock refusal
 * are recorded as a sign-in's, with `via: "password_change"` (http/lock-refusal-events.ts).
 */
import type { FastifyInstance } from 'fastify';

import type { PasswordChangeBody } from '@jot/contract';

import { deviceTokens } from '../../http/device-credential.js';
import { lockRefusalEvents } from '../../http/lock-refusal-events.js';
import { tokenRouteResponses } from '../../http/schemas.js';
import { passwordChangeBodySchema } from '../../http/session-body-schemas.js';
import { changePassword } from '../../services/password-change.js';
import { requireStepUp } from '../auth.js';
import { callerOf } from '../caller.js';
import { reissueResponse } from '../reissue-response.js';
import type { PasswordCheckLimits } from './limits.js';

/** Registers `POST /api/password`. */
export function registerPasswordChangeRoute(app: FastifyInstance, limits: PasswordCheckLimits): void {
  const { config } = app.jot;
  const lockEvents = lockRefusalEvents(app.jot, config.rateLimitAuth.windowMs, 'password_change');
  app.post<{ Body: PasswordChangeBody }>(
    '/api/password',
    {
      // With a second factor enrolled, the current password alone is not enough: a fresh MFA step-up is needed.
      preHandler: [requireStepUp({ always: false }), limits.perUser],
      config: limits.perAddress,
      schema: {
        tags: ['accounts'],
        summary: 'Change the password. Signs out every other session and invalidates every earlier token.',
        body: passwordChangeBodySchema,
        response: tokenRouteResponses(400, 401, 403, 409, 429),
      },
    },
    async (request, reply) => {
      const caller = { ...callerOf(request), deviceTokens: deviceTokens(request, undefined) };
      // The cut-off the change makes is no earlier than this: every device credential the client presents was
      // issued before it and is dead, so the answer gives a fresh one — the owner's browser or app stays a known
      // device; a thief's copy of the old one does not.
      const cutOff = { id: caller.userId, devicesValidAfter: app.jot.clock() };
      const { current_password: current, new_password: next } = request.body;
      await changePassword(app.jot, caller, current, next, lockEvents.reportFor(caller));
      return reissueResponse(request, reply, { rotateRefreshToken: true }, cutOff);
    },
  );
}
