/**
 * Admin: the signing keys. `GET /api/admin/keys` lists them with their state (never key material);
 * `POST /api/admin/keys/rotate` creates a key — pre-published by default, or `{ "immediate": true }` to sign with
 * it at once after a key compromise (verifiers that cached the JWKS then meet an unknown `kid` and must refetch).
 */
import type { FastifyInstance } from 'fastify';

import type { SigningKeyView } from '@jot/contract';

import { authErrors } from '../http/schemas.js';
import type { SigningKeyInfo } from '../keys/types.js';
import { authOf, requireRecentAuth, requireRole } from './auth.js';

/** The public view of a `SigningKeyInfo`: snake_case with ISO-8601 times, like the other admin routes. */
export function publicSigningKey(info: SigningKeyInfo): SigningKeyView {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
  return {
    kid: info.kid,
    alg: info.alg,
    state: info.state,
    created_at: iso(info.createdAt),
    activates_at: iso(info.activatesAt),
    retired_at: isoOrNull(info.retiredAt),
    expires_at: isoOrNull(info.expiresAt),
  };
}

const nullableTime = { type: ['string', 'null'] } as const;

/** JSON schema of {@link publicSigningKey}. */
export const signingKeySchema = {
  type: 'object',
  required: ['kid', 'alg', 'state', 'created_at', 'activates_at', 'retired_at', 'expires_at'],
  properties: {
    kid: { type: 'string' },
    alg: { type: 'string' },
    state: { type: 'string', enum: ['pending', 'active', 'retired'] },
    created_at: { type: 'string' },
    activates_at: { type: 'string' },
    retired_at: nullableTime,
    expires_at: nullableTime,
  },
} as const;

/** Registers the admin key routes. */
export async function adminKeysPlugin(app: FastifyInstance): Promise<void> {
  const { keys, events } = app.jot;
  const admin = requireRole('admin');

  app.get(
    '/api/admin/keys',
    {
      preHandler: admin,
      schema: {
        tags: ['admin'],
        summary: 'List the signing keys with their state, newest first.',
        security: [{ bearerAuth: [] }],
        response: {
          200: {
            type: 'object',
            required: ['keys'],
            properties: { keys: { type: 'array', items: signingKeySchema } },
          },
          ...authErrors,
        },
      },
    },
    async () => ({ keys: keys.list().map(publicSigningKey) }),
  );

  app.post<{ Body: { immediate?: boolean } | undefined }>(
    '/api/admin/keys/rotate',
    {
      // No body at all means `{}`: `curl -X POST …/rotate` is the ordinary scheduled-style rotation.
      preValidation: async (request) => {
        request.body ??= {};
      },
      preHandler: requireRecentAuth('admin'),
      schema: {
        tags: ['admin'],
        summary: 'Create a new signing key (pre-published unless immediate).',
        security: [{ bearerAuth: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { immediate: { type: 'boolean' } },
        },
        response: { 201: signingKeySchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const immediate = request.body?.immediate === true;
      const info = await keys.rotate({ immediate });
      await events.record('key_rotated', {
        userId: authOf(request).claims.sub,
        ip: request.ip,
        detail: { kid: info.kid, alg: info.alg, immediate, activatesAt: info.activatesAt },
      });
      return reply.code(201).send(publicSigningKey(info));
    },
  );
}
