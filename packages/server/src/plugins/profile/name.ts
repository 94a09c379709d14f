/** `PATCH /api/account`: set or clear the display name (blank clears it). */
import type { ProfileBody } from '@jot/contract';
import type { FastifyInstance } from 'fastify';

import { profileBodySchema } from '../../http/account-schemas.js';
import { authErrors } from '../../http/schemas.js';
import { publicUser, userSchema } from '../../http/views.js';
import { authenticate, authOf } from '../auth.js';
import { ownAccount } from './own-account.js';

/** Registers `PATCH /api/account`. */
export function registerProfileNameRoute(app: FastifyInstance): void {
  const { store } = app.jot;
  app.patch<{ Body: ProfileBody }>(
    '/api/account',
    {
      preHandler: authenticate,
      schema: {
        tags: ['accounts'],
        summary: 'Update your profile (display name).',
        body: profileBodySchema,
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
