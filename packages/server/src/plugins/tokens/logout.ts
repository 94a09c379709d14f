/** `POST /api/logout` (this session) and `POST /api/logout-all` (every session); both clear the cookies. */
import type { FastifyInstance } from 'fastify';

import { clearTokenCookies } from '../../http/cookies.js';
import { authErrors } from '../../http/schemas.js';
import { authenticate, authOf } from '../auth.js';
import { callerOf } from '../caller.js';

/** Registers the two logout routes. */
export function registerLogoutRoutes(app: FastifyInstance): void {
  const { revocations, events } = app.jot;

  app.post(
    '/api/logout',
    {
      preHandler: authenticate,
      schema: {
        tags: ['tokens'],
        summary: 'End this session: its refresh token and this access token stop working at once.',
        response: { 204: { type: 'null' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      await revocations.revokeSession(claims.sid, 'logout');
      await revocations.revokeToken(claims.jti, claims.exp);
      await events.record('logout', callerOf(request));
      clearTokenCookies(reply);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/logout-all',
    {
      preHandler: authenticate,
      schema: {
        tags: ['tokens'],
        summary:
          'Sign out everywhere: every session of the user ends and every token issued so far is invalid.',
        response: { 204: { type: 'null' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      await revocations.revokeAllForUser(claims.sub, 'logout_all');
      await events.record('logout_all', callerOf(request));
      clearTokenCookies(reply);
      return reply.code(204).send();
    },
  );
}
