/**
 * `POST /api/admin/clients/:id/secret`: replace a client's secret. The old one stops working at once; the new one
 * is answered once, with `Cache-Control: no-store`.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';

import type { ClientWithSecret } from '@jot/contract';

import { authErrors } from '../../http/schemas.js';
import { clientView } from '../../services/client-view.js';
import { authOf } from '../auth.js';
import { idParams, withSecret } from './schemas.js';

/** Registers `POST /api/admin/clients/:id/secret` behind `sensitive` (admin with a recent authentication). */
export function registerClientSecretRoute(app: FastifyInstance, sensitive: preHandlerAsyncHookHandler): void {
  const { clients, events } = app.jot;
  app.post<{ Params: { id: string } }>(
    '/api/admin/clients/:id/secret',
    {
      preHandler: sensitive,
      schema: {
        tags: ['admin'],
        summary:
          "Replace a client's secret (the old one stops working at once); the new one is answered once.",
        params: idParams,
        response: { 200: withSecret, 404: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { client, clientSecret } = await clients.rotateSecret(request.params.id);
      const { claims } = authOf(request);
      await events.record('client_secret_rotated', {
        userId: claims.sub,
        sessionId: claims.sid,
        ip: request.ip,
        detail: { client_id: client.clientId },
      });
      reply.header('cache-control', 'no-store');
      return { client: clientView(client), client_secret: clientSecret } satisfies ClientWithSecret;
    },
  );
}
