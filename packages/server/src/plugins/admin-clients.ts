/**
 * Admin: the OAuth client registry — list, show, register, change the DPoP policy, rotate a secret, remove. Changes
 * need a recent password authentication (step-up), since a client can mint tokens. A secret is in the response
 * once, when it is made.
 */
import type { FastifyInstance } from 'fastify';

import type { ClientRegistration, ClientUpdate, ClientWithSecret } from '@jot/contract';

import { HttpError } from '../http/errors.js';
import { authErrors } from '../http/schemas.js';
import { AUTH_METHODS, DPOP_POLICIES, GRANT_TYPES } from '../services/client-rules.js';
import { clientView } from '../services/client-view.js';
import { authOf, requireRecentAuth, requireRole } from './auth.js';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

const stringList = (maxItems: number, maxLength: number) =>
  ({ type: 'array', maxItems, items: { type: 'string', minLength: 1, maxLength } }) as const;

/** A client as the API shows it. */
export const clientSchema = {
  type: 'object',
  properties: {
    client_id: { type: 'string' },
    name: { type: 'string' },
    token_endpoint_auth_method: { type: 'string' },
    jwks: { type: 'object', additionalProperties: true },
    jwks_uri: { type: 'string' },
    grant_types: { type: 'array', items: { type: 'string' } },
    scopes: { type: 'array', items: { type: 'string' } },
    audiences: { type: 'array', items: { type: 'string' } },
    access_token_ttl: { type: ['integer', 'null'] },
    first_party: { type: 'boolean' },
    dpop: { type: 'string', enum: [...DPOP_POLICIES] },
    dpop_bound_access_tokens: { type: 'boolean' },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
    secret_rotated_at: { type: ['string', 'null'] },
  },
} as const;

/** The DPoP policy, as Jot names it and as RFC 9449 §5.2 client metadata. */
const dpopFields = {
  dpop: {
    type: 'string',
    enum: [...DPOP_POLICIES],
    description: 'required: token requests without a DPoP proof are refused (default optional)',
  },
  dpop_bound_access_tokens: { type: 'boolean', description: 'RFC 9449 §5.2: true is dpop "required"' },
} as const;

const withSecret = {
  type: 'object',
  properties: { client: clientSchema, client_secret: { type: 'string' } },
} as const;

/** Registers the admin client routes. */
export async function adminClientsPlugin(app: FastifyInstance): Promise<void> {
  const { clients, events } = app.jot;
  const admin = requireRole('admin');
  const sensitive = requireRecentAuth('admin');

  app.get(
    '/api/admin/clients',
    {
      preHandler: admin,
      schema: {
        tags: ['admin'],
        summary: 'List the registered OAuth clients (the first-party client `jot` included).',
        response: {
          200: { type: 'object', properties: { clients: { type: 'array', items: clientSchema } } },
          ...authErrors,
        },
      },
    },
    async () => ({ clients: (await clients.list()).map(clientView) }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/admin/clients/:id',
    {
      preHandler: admin,
      schema: {
        tags: ['admin'],
        summary: 'One OAuth client.',
        params: idParams,
        response: { 200: clientSchema, 404: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request) => {
      const client = await clients.get(request.params.id);
      if (client === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', `no client "${request.params.id}"`);
      return clientView(client);
    },
  );

  app.post<{ Body: ClientRegistration }>(
    '/api/admin/clients',
    {
      preHandler: sensitive,
      schema: {
        tags: ['admin'],
        summary: 'Register an OAuth client; a secret method answers its client_secret, once.',
        body: {
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
          },
        },
        response: { 201: withSecret, 409: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { client, clientSecret } = await clients.register(request.body);
      await events.record('client_registered', {
        userId: authOf(request).claims.sub,
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
      await events.record('client_updated', {
        userId: authOf(request).claims.sub,
        ip: request.ip,
        detail: { client_id: client.clientId, dpop: client.dpop },
      });
      return clientView(client);
    },
  );

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
      await events.record('client_secret_rotated', {
        userId: authOf(request).claims.sub,
        ip: request.ip,
        detail: { client_id: client.clientId },
      });
      reply.header('cache-control', 'no-store');
      return { client: clientView(client), client_secret: clientSecret } satisfies ClientWithSecret;
    },
  );

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
      await events.record('client_removed', {
        userId: authOf(request).claims.sub,
        ip: request.ip,
        detail: { client_id: request.params.id },
      });
      return reply.code(204).send();
    },
  );
}
