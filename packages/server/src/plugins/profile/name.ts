/** `PATCH /api/account`: set or clear the display name (blank clears it). */
import type { FastifyInstance } from 'fastify';

import { authErrors } from '../../http/schemas.js';
import { publicUser, userSchema } from '../../http/views.js';
import { authenticate, authOf } from '../auth.js';
import { ownAccount } from './own-account.js';

/** Registers `PATCH /api/account`. */
export function registerProfileNameRoute(app: FastifyInstance): void {
  const { store } = app.jot;
  app.patch<{ Body: { name: string | null } }>(
    '/api/account',
    {
      preHandler: authenticate,
      schema: {
        tags: ['accounts'],
        summary: 'Update your profile (display name).',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: ['string', 'null'], maxLength: 200 } },
        },
        response: { 200: userSchema, ...authErrors },
      },
    },
    async (request) => {
      const { claims } = authOf(request);
      const name = request.body.name?.trim() ?? '';
      const user = await store.setName(claims.sub, name === '' ? null : name);
      return publicUser(user ?? (await ownAccount(store, claims.sub)));
    },
  );
}
