/**
 * Admin: the signing keys. `GET /api/admin/keys` lists them with their state (never key material);
 * `POST /api/admin/keys/rotate` creates a key — pre-published by default, or `{ "immediate": true }` to sign with
 * it at once after a key compromise (verifiers that cached the JWKS then meet an unknown `kid` and must refetch),
 * adding `"withdraw": true` to take every older key out of the JWKS in the same step;
 * `POST /api/admin/keys/:kid/withdraw` takes one key that does not sign now out of the JWKS at once (409
 * `ERR_KEY_ACTIVE` for the active key). Withdrawals reach the other instances by the key-ring NOTIFY.
 */
import type { FastifyInstance } from 'fastify';

import type { RotatedKeyView, SigningKeyView, WithdrawnKeyView } from '@jot/contract';

import { HttpError } from '../http/errors.js';
import { authErrors } from '../http/schemas.js';
import type { SigningKeyInfo, WithdrawnKeyInfo } from '../keys/types.js';
import { rotateWithdrawingRing, withdrawSigningKey } from '../services/key-withdrawal.js';
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

/** The public view of a withdrawn key. */
export function publicWithdrawnKey(info: WithdrawnKeyInfo): WithdrawnKeyView {
  return { kid: info.kid, alg: info.alg, withdrawn_at: new Date(info.withdrawnAt).toISOString() };
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

/** JSON schema of the rotate answer: the new key, and with `withdraw` the kids withdrawn. */
const rotatedKeySchema = {
  ...signingKeySchema,
  properties: { ...signingKeySchema.properties, withdrawn: { type: 'array', items: { type: 'string' } } },
} as const;

/** JSON schema of {@link publicWithdrawnKey}. */
const withdrawnKeySchema = {
  type: 'object',
  required: ['kid', 'alg', 'withdrawn_at'],
  properties: { kid: { type: 'string' }, alg: { type: 'string' }, withdrawn_at: { type: 'string' } },
} as const;

/** Registers the admin key routes. */
export async function adminKeysPlugin(app: FastifyInstance): Promise<void> {
  const { keys } = app.jot;
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

  registerRotateRoute(app);
  registerWithdrawRoute(app);
}

/** `POST /api/admin/keys/rotate`, with `withdraw` the ring replaced. */
function registerRotateRoute(app: FastifyInstance): void {
  const { keys, events } = app.jot;
  app.post<{ Body: { immediate?: boolean; withdraw?: boolean } | undefined }>(
    '/api/admin/keys/rotate',
    {
      // No body at all means `{}`: `curl -X POST …/rotate` is the ordinary scheduled-style rotation.
      preValidation: async (request) => {
        request.body ??= {};
      },
      preHandler: requireRecentAuth('admin'),
      schema: {
        tags: ['admin'],
        summary:
          'Create a new signing key (pre-published unless immediate; withdraw also takes every older key out of the JWKS).',
        security: [{ bearerAuth: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { immediate: { type: 'boolean' }, withdraw: { type: 'boolean' } },
        },
        response: { 201: rotatedKeySchema, ...authErrors },
      },
    },
    async (request, reply) => {
      if (request.body?.withdraw === true) {
        // Withdrawing the ring leaves the new key as the only one: it has to sign at once.
        if (request.body.immediate !== true)
          throw new HttpError(
            400,
            'ERR_VALIDATION',
            'withdraw needs "immediate": true (nothing else would sign)',
          );
        const actor = { by: authOf(request).claims.sub, ip: request.ip };
        const { key, withdrawn } = await rotateWithdrawingRing(app.jot, actor);
        const view: RotatedKeyView = { ...publicSigningKey(key), withdrawn: withdrawn.map((k) => k.kid) };
        return reply.code(201).send(view);
      }
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

/** `POST /api/admin/keys/:kid/withdraw`. */
function registerWithdrawRoute(app: FastifyInstance): void {
  app.post<{ Params: { kid: string } }>(
    '/api/admin/keys/:kid/withdraw',
    {
      preHandler: requireRecentAuth('admin'),
      schema: {
        tags: ['admin'],
        summary:
          'Take a signing key that does not sign now out of the JWKS at once, for good (key compromise).',
        security: [{ bearerAuth: [] }],
        params: {
          type: 'object',
          required: ['kid'],
          properties: { kid: { type: 'string', minLength: 1, maxLength: 128 } },
        },
        response: {
          200: withdrawnKeySchema,
          404: { $ref: 'JotError#' },
          409: { $ref: 'JotError#' },
          ...authErrors,
        },
      },
    },
    async (request) => {
      const actor = { by: authOf(request).claims.sub, ip: request.ip };
      return publicWithdrawnKey(await withdrawSigningKey(app.jot, request.params.kid, actor));
    },
  );
}
