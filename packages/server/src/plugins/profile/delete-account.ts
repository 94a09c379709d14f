/** `DELETE /api/account`: delete your own account — every session and token ends, personal data is removed. */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';

import { clearTokenCookies } from '../../http/cookies.js';
import { authErrors } from '../../http/schemas.js';
import { deleteAccount } from '../../services/account-deletion.js';
import { authOf } from '../auth.js';
import { ownAccount } from './own-account.js';

/** Registers `DELETE /api/account` behind `stepUp` (a recent authentication). */
export function registerDeleteAccountRoute(app: FastifyInstance, stepUp: preHandlerAsyncHookHandler): void {
  app.delete(
    '/api/account',
    {
      preHandler: stepUp,
      schema: {
        tags: ['accounts'],
        summary: 'Delete your account: every session and token ends and your personal data is removed.',
        response: { 204: { type: 'null' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      await deleteAccount(app.jot, await ownAccount(app.jot.store, claims.sub), { by: 'self' });
      clearTokenCookies(reply);
      return reply.code(204).send();
    },
  );
}
