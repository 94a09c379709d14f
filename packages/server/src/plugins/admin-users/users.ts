/**
 * `POST /api/admin/users` (create an account with roles; with email verification on, its address gets the
 * verification link unless the admin marks it verified) and `GET /api/admin/users` (search and page).
 */
import type { AdminUserCreateBody } from '@jot/contract';
import type { FastifyInstance } from 'fastify';

import { authErrors } from '../../http/schemas.js';
import { publicUser, userSchema } from '../../http/views.js';
import { sendNewAccountVerification } from '../../services/new-account-verification.js';
import { authOf, requireRecentAuth } from '../auth.js';
import { adminListRoute } from './list-route.js';
import { adminUserBodySchema } from './schemas.js';

/** Registers `POST /api/admin/users`. */
export function registerUserCreateRoute(app: FastifyInstance): void {
  const { accounts, clock } = app.jot;
  app.post<{ Body: AdminUserCreateBody }>(
    '/api/admin/users',
    {
      preHandler: requireRecentAuth('admin'),
      schema: {
        tags: ['admin'],
        summary:
          'Create an account (with roles); works whatever JOT_REGISTRATION says. With email verification on, the ' +
          'address gets a verification link unless `email_verified: true` marks it verified.',
        body: adminUserBodySchema,
        response: { 201: userSchema, 409: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      const { email, password, name, roles = [], email_verified: verified = false } = request.body;
      const user = await accounts.create({
        email,
        password,
        name,
        roles,
        via: 'admin',
        by: claims.sub,
        ip: request.ip,
        // The admin vouches for the address; otherwise it is proven by the link below.
        emailVerifiedAt: verified ? clock() : null,
      });
      await sendNewAccountVerification(app.jot, user);
      return reply.code(201).send(publicUser(user));
    },
  );
}

/** Registers `GET /api/admin/users`. */
export function registerUserListRoute(app: FastifyInstance): void {
  const { store } = app.jot;
  app.get<{ Querystring: { limit?: number; offset?: number; q?: string } }>(
    '/api/admin/users',
    adminListRoute(
      'Search and page through users, oldest first; `total` counts every match.',
      { offset: { type: 'integer', minimum: 0 }, q: { type: 'string', maxLength: 254 } },
      {
        200: {
          type: 'object',
          properties: { users: { type: 'array', items: userSchema }, total: { type: 'integer' } },
        },
        ...authErrors,
      },
    ),
    async (request) => {
      const { users, total } = await store.searchUsers({
        q: request.query.q,
        limit: request.query.limit ?? 100,
        offset: request.query.offset ?? 0,
      });
      return { users: users.map(publicUser), total };
    },
  );
}
