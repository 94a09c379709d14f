/**
 * `POST /api/admin/clients`: register an OAuth client. A secret method (`client_secret_*`) answers the new
 * `client_secret` once, with `Cache-Control: no-store`: it is never shown again.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';

import type { ClientRegistration, ClientWithSecret } from '@jot/contract';

import { authErrors } from '../../http/schemas.js';
import { AUTH_METHODS, GRANT_TYPES } from '../../services/client-rules.js';
import { clientView } from '../../services/client-view.js';
import { authOf } from '../auth.js';
import { dpopFields, introspectionField, withSecret } from './schemas.js';

const stringList = (maxItems: number, maxLength: number) =>
  ({ type: 'array', maxItems, items: { type: 'string', minLength: 1, maxLength } }) as const;

const registrationBody = {
  type: 'object',
  required: ['name', 'token_endpoint_auth_method'],
  additionalProperties: false,
  properties: {
    client_id: { type: 'string', minLength: 1, maxLength: 64 },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    token_endpoint_auth_method: { type: 'string', enum: [...AUTH_METHODS] },
    jwks: { type: 'object', additionalProperties: true },
    jwks_uri: { type: 'string', minLength: 1, maxLength: 512 },
    grant_types: { type: 'array', maxItems: 3, items: { type: 'string', enum: [...GRANT_TYPES] } },
    scopes: stringList(100, 128),
    audiences: stringList(20, 512),
    access_token_ttl: { type: 'integer', minimum: 1, maximum: 86_400 },
    ...dpopFields,
    ...introspectionField,
  },
} as const;

/** Registers `POST /api/admin/clients` behind `sensitive` (admin with a recent authentication). */
export function registerClientRegisterRoute(
  app: FastifyInstance,
  sensitive: preHandlerAsyncHookHandler,
): void {
  const { clients, events } = app.jot;
  app.post<{ Body: ClientRegistration }>(
    '/api/admin/clients',
    {
      preHandler: sensitive,
      schema: {
        tags: ['admin'],
        summary: 'Register an OAuth client; a secret method answers its client_secret, once.',
        body: registrationBody,
        response: { 201: withSecret, 409: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { client, clientSecret } = await clients.register(request.body);
      const { claims } = authOf(request);
      await events.record('client_registered', {
        userId: claims.sub,
        sessionId: claims.sid,
        ip: request.ip,
        detail: { client_id: client.clientId, method: client.authMethod },
      });
      reply.code(201).header('cache-control', 'no-store');
      return {
        client: clientView(client),
        ...(clientSecret === undefined ? {} : { client_secret: clientSecret }),
      } satisfies ClientWithSecret;
    },
  );
}
