/** Admin: delete a user (step-up required), the same deletion as the user's own (services/account-deletion.ts). */
import type { FastifyInstance } from 'fastify';

import { HttpError } from '../http/errors.js';
import { authErrors, idParams } from '../http/schemas.js';
import { deleteAccount } from '../services/account-deletion.js';
import { authOf, requireRecentAuth } from './auth.js';

/** Registers `DELETE /api/admin/users/:id`. */
export async function adminDeleteUserPlugin(app: FastifyInstance): Promise<void> {
  app.delete<{ Params: { id: string } }>(
    '/api/admin/users/:id',
    {
      preHandler: requireRecentAuth('admin'),
      schema: {
        tags: ['admin'],
        summary: 'Delete a user: their sessions and tokens end and their personal data is removed.',
        params: idParams,
        response: { 204: { type: 'null' }, 404: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      if (request.params.id === claims.sub) {
        throw new HttpError(400, 'ERR_VALIDATION', 'delete your own account from your account page instead');
      }
      const user = await app.jot.store.getUserById(request.params.id);
      if (user === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such user');
      await deleteAccount(app.jot, user, { by: 'admin', adminId: claims.sub });
      return reply.code(204).send();
    },
  );
}
