/** `PATCH /api/admin/clients/:id`: change a client's DPoP policy; its next token request follows the new one. */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';

import type { ClientUpdate } from '@jot/contract';

import { authErrors } from '../../http/schemas.js';
import { clientView } from '../../services/client-view.js';
import { authOf } from '../auth.js';
import { clientSchema, dpopFields, idParams } from './schemas.js';

/** Registers `PATCH /api/admin/clients/:id` behind `sensitive` (admin with a recent authentication). */
export function registerClientUpdateRoute(app: FastifyInstance, sensitive: preHandlerAsyncHookHandler): void {
  const { clients, events } = app.jot;
  app.patch<{ Params: { id: string }; Body: ClientUpdate }>(
    '/api/admin/clients/:id',
    {
      preHandler: sensitive,
      schema: {
        tags: ['admin'],
        summary:
          "Change a client's DPoP policy (optional or required); it applies to its next token request.",
        params: idParams,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: dpopFields },
        response: { 200: clientSchema, 404: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request) => {
      const client = await clients.update(request.params.id, request.body);
      const { claims } = authOf(request);
      await events.record('client_updated', {
        userId: claims.sub,
        sessionId: claims.sid,
        ip: request.ip,
        detail: { client_id: client.clientId, dpop: client.dpop },
      });
      return clientView(client);
    },
  );
}
