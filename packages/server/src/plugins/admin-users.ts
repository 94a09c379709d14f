/**
 * Admin: users (list, create, disable, enable, set roles) and security events. A status or role change bumps the
 * user's token version in the same UPDATE and is published to the revocation feed, so old tokens stop working
 * everywhere. The last active admin can be neither demoted nor disabled (409 `ERR_LAST_ADMIN`).
 */
import type { FastifyInstance } from 'fastify';

import type { SecurityEventView } from '@jot/contract';

import { HttpError } from '../http/errors.js';
import { authErrors, emailSchema, passwordSchema } from '../http/schemas.js';
import type { User } from '../store/index.js';
import { publicUser, userSchema } from '../http/views.js';
import { authOf, requireRecentAuth, requireRole } from './auth.js';

const rolesSchema = {
  type: 'array',
  maxItems: 32,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/** Registers the admin user routes. */
export async function adminUsersPlugin(app: FastifyInstance): Promise<void> {
  const { store, revocations, events, accounts } = app.jot;
  const admin = requireRole('admin');
  const sensitive = requireRecentAuth('admin');

  function found(user: User | undefined): User {
    if (user === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such user');
    return user;
  }

  /** The store's refusal to demote or disable the last active admin, as a 409 (thrown inside the transaction). */
  function unlessLastAdmin(user: User | undefined | 'last_admin'): User | undefined {
    if (user === 'last_admin') {
      throw new HttpError(
        409,
        'ERR_LAST_ADMIN',
        'this is the last active admin; make another account an admin first',
      );
    }
    return user;
  }

  app.post<{ Body: { email: string; password: string; name?: string; roles?: string[] } }>(
    '/api/admin/users',
    {
      preHandler: sensitive,
      schema: {
        tags: ['admin'],
        summary: 'Create an account (with roles); works whatever JOT_REGISTRATION says.',
        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          properties: {
            email: emailSchema,
            password: passwordSchema,
            name: { type: 'string', maxLength: 200 },
            roles: rolesSchema,
          },
        },
        response: { 201: userSchema, 409: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      const user = await accounts.create({
        email: request.body.email,
        password: request.body.password,
        name: request.body.name,
        roles: request.body.roles ?? [],
        via: 'admin',
        by: claims.sub,
        ip: request.ip,
      });
      return reply.code(201).send(publicUser(user));
    },
  );

  app.get<{ Querystring: { limit?: number; offset?: number; q?: string } }>(
    '/api/admin/users',
    {
      preHandler: admin,
      schema: {
        tags: ['admin'],
        summary: 'Search and page through users, oldest first; `total` counts every match.',
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500 },
            offset: { type: 'integer', minimum: 0 },
            q: { type: 'string', maxLength: 254 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { users: { type: 'array', items: userSchema }, total: { type: 'integer' } },
          },
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { users, total } = await store.searchUsers({
        q: request.query.q,
        limit: request.query.limit ?? 100,
        offset: request.query.offset ?? 0,
      });
      return { users: users.map(publicUser), total };
    },
  );

  for (const status of ['disabled', 'active'] as const) {
    const verb = status === 'disabled' ? 'disable' : 'enable';
    app.post<{ Params: { id: string } }>(
      `/api/admin/users/:id/${verb}`,
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
        const { claims } = authOf(request);
        if (status === 'disabled' && request.params.id === claims.sub) {
          throw new HttpError(400, 'ERR_VALIDATION', 'you cannot disable your own account');
        }
        // The new status and its feed entry commit together; ending the sessions follows.
        const user = found(
          await revocations.updateUser(async (tx) =>
            unlessLastAdmin(await tx.setStatus(request.params.id, status)),
          ),
        );
        if (status === 'disabled') await revocations.revokeAllForUser(user.id, 'user_disabled');
        await events.record(status === 'disabled' ? 'user_disabled' : 'user_enabled', {
          userId: user.id,
          ip: request.ip,
          detail: { by: claims.sub },
        });
        return publicUser(user);
      },
    );
  }

  app.put<{ Params: { id: string }; Body: { roles: string[] } }>(
    '/api/admin/users/:id/roles',
    {
      preHandler: sensitive,
      schema: {
        tags: ['admin'],
        summary: "Replace a user's roles; tokens carrying the old roles stop working.",
        params: idParams,
        body: {
          type: 'object',
          required: ['roles'],
          additionalProperties: false,
          properties: {
            roles: rolesSchema,
          },
        },
        response: { 200: userSchema, 404: { $ref: 'JotError#' }, 409: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request) => {
      const { claims } = authOf(request);
      const before = await store.getUserById(request.params.id);
      // The new roles and their feed entry commit together (or, for the last admin, nothing does).
      const user = found(
        await revocations.updateUser(async (tx) =>
          unlessLastAdmin(await tx.setRoles(request.params.id, request.body.roles)),
        ),
      );
      await events.record('roles_changed', {
        userId: user.id,
        ip: request.ip,
        detail: { by: claims.sub, roles: user.roles, before: before?.roles ?? [] },
      });
      if (user.roles.includes('admin') && !(before?.roles.includes('admin') ?? false)) {
        await events.record('admin_created', {
          userId: user.id,
          ip: request.ip,
          detail: { via: 'roles', by: claims.sub },
        });
      }
      return publicUser(user);
    },
  );

  app.get<{ Querystring: { limit?: number; before?: number; user_id?: string } }>(
    '/api/admin/events',
    {
      preHandler: admin,
      schema: {
        tags: ['admin'],
        summary: 'Security events, newest first.',
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500 },
            before: { type: 'integer', minimum: 1 },
            user_id: { type: 'string', maxLength: 64 },
          },
        },
      },
    },
    async (request) => {
      const list = await store.listSecurityEvents({
        limit: request.query.limit ?? 100,
        before: request.query.before,
        userId: request.query.user_id,
      });
      const emails = await store.emailsOf(list.flatMap((e) => (e.userId === null ? [] : [e.userId])));
      return {
        events: list.map((e): SecurityEventView => ({
          id: e.id,
          type: e.type,
          user_id: e.userId,
          user_email: e.userId === null ? null : (emails.get(e.userId) ?? null),
          session_id: e.sessionId,
          ip: e.ip,
          detail: e.detail,
          created_at: new Date(e.createdAt).toISOString(),
        })),
      };
    },
  );
}
