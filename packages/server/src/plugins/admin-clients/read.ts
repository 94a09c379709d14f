/** `GET /api/admin/clients` (every registered client) and `GET /api/admin/clients/:id` (one); admins only. */
import type { FastifyInstance } from 'fastify';

import { HttpError } from '../../http/errors.js';
import { authErrors } from '../../http/schemas.js';
import { clientView } from '../../services/client-view.js';
import { echoed } from '../../services/echoed.js';
import { requireRole } from '../auth.js';
import { clientSchema, idParams } from './schemas.js';

/** Registers the two read routes. */
export function registerClientReadRoutes(app: FastifyInstance): void {
  const { clients } = app.jot;
  const admin = requireRole('admin');

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
      if (client === undefined)
        throw new HttpError(404, 'ERR_NOT_FOUND', `no client "${echoed(request.params.id)}"`);
      return clientView(client);
    },
  );
}
