/** `POST /api/password`: change the password; signs out every other session and invalidates earlier tokens. */
import type { FastifyInstance } from 'fastify';

import { authErrors, newPasswordSchema, passwordSchema, tokenResponseSchema } from '../../http/schemas.js';
import { tokenResponse } from '../../http/token-response.js';
import { changePassword } from '../../services/password-change.js';
import { authOf, requireStepUp } from '../auth.js';
import type { PasswordCheckLimits } from './limits.js';

/** Registers `POST /api/password`. */
export function registerPasswordChangeRoute(app: FastifyInstance, limits: PasswordCheckLimits): void {
  app.post<{ Body: { current_password: string; new_password: string } }>(
    '/api/password',
    {
      // With a second factor enrolled, the current password alone is not enough: a fresh MFA step-up is needed.
      preHandler: [requireStepUp({ always: false }), limits.perUser],
      config: limits.perAddress,
      schema: {
        tags: ['accounts'],
        summary: 'Change the password. Signs out every other session and invalidates every earlier token.',
        body: {
          type: 'object',
          required: ['current_password', 'new_password'],
          additionalProperties: false,
          properties: { current_password: passwordSchema, new_password: newPasswordSchema },
        },
        response: {
          200: tokenResponseSchema,
          ...authErrors,
          409: { $ref: 'JotError#' },
          429: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      const caller = { userId: claims.sub, sessionId: claims.sid, ip: request.ip };
      await changePassword(app.jot, caller, request.body.current_password, request.body.new_password);
      return tokenResponse(
        request,
        reply,
        await app.jot.sessions.reissue(claims.sid, { rotateRefreshToken: true }),
      );
    },
  );
}
