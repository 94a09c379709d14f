/** `GET /api/whoami`: the verified claims of the presented access token and the current profile. */
import type { FastifyInstance } from 'fastify';

import type { WhoAmIResponse } from '@jot/contract';

import { HttpError } from '../../http/errors.js';
import { authErrors } from '../../http/schemas.js';
import { publicUser, userSchema } from '../../http/views.js';
import { authenticate, authOf } from '../auth.js';

/** Registers `GET /api/whoami`. */
export function registerWhoamiRoute(app: FastifyInstance): void {
  const { store, csrf } = app.jot;
  app.get(
    '/api/whoami',
    {
      preHandler: authenticate,
      schema: {
        tags: ['accounts'],
        summary: 'The verified claims of the presented access token and the current profile.',
        response: {
          200: {
            type: 'object',
            properties: {
              claims: { type: 'object', additionalProperties: true },
              user: userSchema,
              csrf_token: { type: 'string' },
            },
          },
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      // The user as this request's revocation check read it: the same statement that proved the token unrevoked.
      const auth = authOf(request);
      const { claims } = auth;
      const user = auth.user ?? (await store.getUserById(claims.sub));
      if (user === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'the account no longer exists');
      reply.header('cache-control', 'no-store');
      // A page that reloaded bootstraps from here: the CSRF token of its cookie session comes with the claims.
      const csrfToken = claims.cth === undefined ? undefined : csrf.forSession(claims.sid);
      return { claims, user: publicUser(user), csrf_token: csrfToken } satisfies WhoAmIResponse;
    },
  );
}
