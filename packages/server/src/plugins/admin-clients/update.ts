/**
 * `PATCH /api/admin/clients/:id`: change a client's DPoP policy (its next token request follows the new one) and
 * which access tokens it may introspect (its next introspection follows it). The security event names the settings
 * the request changed, with their new values.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';

import type { ClientUpdate } from '@jot/contract';

import { authErrors } from '../../http/schemas.js';
import { clientView } from '../../services/client-view.js';
import type { OAuthClient } from '../../store/index.js';
import { authOf } from '../auth.js';
import { clientSchema, dpopFields, idParams, introspectionField } from './schemas.js';

/** The settings `changes` asked for, with the values the client has now. */
function changed(changes: ClientUpdate, client: OAuthClient): Record<string, string> {
  const dpopSent = changes.dpop !== undefined || changes.dpop_bound_access_tokens !== undefined;
  return {
    ...(dpopSent ? { dpop: client.dpop } : {}),
    ...(changes.introspection === undefined ? {} : { introspection: client.introspection }),
  };
}

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
          "Change a client's DPoP policy (optional or required; it applies to its next token request) or which " +
          'access tokens it may introspect (own or any).',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { ...dpopFields, ...introspectionField },
        },
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
        detail: { client_id: client.clientId, ...changed(request.body, client) },
      });
      return clientView(client);
    },
  );
}
