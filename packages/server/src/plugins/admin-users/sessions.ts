/**
 * `DELETE /api/admin/users/:id/sessions`: ends every session of a user, as their own "sign out everywhere" does
 * (every token issued so far stops working, resource servers told through the revocation feed). A step-up action,
 * recorded as `logout_all` by the admin.
 */
import type { SessionsRevokedView } from '@jot/contract';
import type { FastifyInstance } from 'fastify';

import { authErrors } from '../../http/schemas.js';
import { endUserSessions } from '../../services/user-admin.js';
import { authOf, requireRecentAuth } from '../auth.js';
import { idParams } from './schemas.js';

/** The answer: how many live sessions ended (`@jot/contract`'s `SessionsRevokedView`). */
export const sessionsRevokedSchema = {
  type: 'object',
  properties: { revoked: { type: 'integer' } },
} as const;

/** Registers `DELETE /api/admin/users/:id/sessions`. */
export function registerUserSessionsRoute(app: FastifyInstance): void {
  app.delete<{ Params: { id: string } }>(
    '/api/admin/users/:id/sessions',
    {
      preHandler: requireRecentAuth('admin'),
      schema: {
        tags: ['admin'],
        summary:
          'Sign a user out everywhere: every session of theirs ends, every token issued so far stops working.',
        params: idParams,
        response: { 200: sessionsRevokedSchema, 404: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request): Promise<SessionsRevokedView> => {
      const actor = { by: authOf(request).claims.sub, ip: request.ip };
      return { revoked: await endUserSessions(app.jot, request.params.id, actor) };
    },
  );
}
