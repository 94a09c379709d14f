/**
 * `DELETE /api/admin/clients/:id`: remove a client. Every token issued to it stops working, here and, through the
 * revocation feed, on every verifier.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';

import { authErrors } from '../../http/schemas.js';
import { authOf } from '../auth.js';
import { idParams } from './schemas.js';

/** Registers `DELETE /api/admin/clients/:id` behind `sensitive` (admin with a recent authentication). */
export function registerClientRemoveRoute(app: FastifyInstance, sensitive: preHandlerAsyncHookHandler): void {
  const { clients, events } = app.jot;
  app.delete<{ Params: { id: string } }>(
    '/api/admin/clients/:id',
    {
      preHandler: sensitive,
      schema: {
        tags: ['admin'],
        summary:
          'Remove a client: every token issued to it stops working (here and, through the feed, everywhere).',
        params: idParams,
        response: {
          204: { type: 'null' },
          404: { $ref: 'JotError#' },
          409: { $ref: 'JotError#' },
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      await clients.remove(request.params.id);
      const { claims } = authOf(request);
      await events.record('client_removed', {
        userId: claims.sub,
        sessionId: claims.sid,
        ip: request.ip,
        detail: { client_id: request.params.id },
      });
      return reply.code(204).send();
    },
  );
}
