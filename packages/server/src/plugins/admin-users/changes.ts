/** `POST /api/admin/users/:id/disable|enable` and `PUT /api/admin/users/:id/roles`. */
import type { RolesChangeBody } from '@jot/contract';
import type { FastifyInstance } from 'fastify';

import { authErrors } from '../../http/schemas.js';
import { publicUser, userSchema } from '../../http/views.js';
import { setUserRoles, setUserStatus } from '../../services/user-admin.js';
import { authOf, requireRecentAuth } from '../auth.js';
import { idParams, rolesBodySchema } from './schemas.js';

/** Registers the status and role changes. */
export function registerUserChangeRoutes(app: FastifyInstance): void {
  const sensitive = requireRecentAuth('admin');
  for (const status of ['disabled', 'active'] as const) {
    app.post<{ Params: { id: string } }>(
      `/api/admin/users/:id/${status === 'disabled' ? 'disable' : 'enable'}`,
      {
        preHandler: sensitive,
        schema: {
          tags: ['admin'],
          summary:
            status === 'disabled'
              ? 'Disable a user: every token of theirs stops working.'
              : 'Enable a user again.',
          params: idParams,
          response: {
            200: userSchema,
            404: { $ref: 'JotError#' },
            409: { $ref: 'JotError#' },
            ...authErrors,
          },
        },
      },
      async (request) => {
        const actor = { by: authOf(request).claims.sub, ip: request.ip };
        return publicUser(await setUserStatus(app.jot, request.params.id, status, actor));
      },
    );
  }

  app.put<{ Params: { id: string }; Body: RolesChangeBody }>(
    '/api/admin/users/:id/roles',
    {
      preHandler: sensitive,
      schema: {
        tags: ['admin'],
        summary: "Replace a user's roles; tokens carrying the old roles stop working.",
        params: idParams,
        body: rolesBodySchema,
        response: { 200: userSchema, 404: { $ref: 'JotError#' }, 409: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request) => {
      const actor = { by: authOf(request).claims.sub, ip: request.ip };
      return publicUser(await setUserRoles(app.jot, request.params.id, request.body.roles, actor));
    },
  );
}
