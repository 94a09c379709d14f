/** A user's own sessions (devices): list them and end one. */
import type { FastifyInstance } from 'fastify';

import { HttpError } from '../http/errors.js';
import { authErrors } from '../http/schemas.js';
import type { Session } from '../store/index.js';
import { authenticate, authOf } from './auth.js';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The public view of a session. */
export function publicSession(session: Session, currentId?: string): Record<string, unknown> {
  return {
    id: session.id,
    current: session.id === currentId,
    created_at: iso(session.createdAt),
    last_used_at: iso(session.lastUsedAt),
    expires_at: iso(
      session.idleTimeoutMs === null
        ? session.absoluteExpiresAt
        : Math.min(session.absoluteExpiresAt, session.lastUsedAt + session.idleTimeoutMs),
    ),
    auth_time: iso(session.authTime),
    ip: session.ip,
    user_agent: session.userAgent,
  };
}

export const sessionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    current: { type: 'boolean' },
    created_at: { type: 'string' },
    last_used_at: { type: 'string' },
    expires_at: { type: 'string' },
    auth_time: { type: 'string' },
    ip: { type: ['string', 'null'] },
    user_agent: { type: ['string', 'null'] },
  },
} as const;

/** Registers the session routes. */
export async function sessionsPlugin(app: FastifyInstance): Promise<void> {
  const { store, revocations } = app.jot;

  app.get(
    '/api/sessions',
    {
      preHandler: authenticate,
      schema: {
        tags: ['sessions'],
        summary: "The signed-in user's live sessions, most recently used first.",
        response: {
          200: { type: 'object', properties: { sessions: { type: 'array', items: sessionSchema } } },
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { claims } = authOf(request);
      const sessions = await store.listSessionsForUser(claims.sub);
      return { sessions: sessions.map((s) => publicSession(s, claims.sid)) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/sessions/:id',
    {
      preHandler: authenticate,
      schema: {
        tags: ['sessions'],
        summary: 'End one of your sessions (sign a device out).',
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: { 204: { type: 'null' }, 404: { $ref: 'JotError#' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      const session = await store.getSession(request.params.id);
      // Another user's session id is answered exactly like an unknown one.
      if (session === undefined || session.userId !== claims.sub || session.revokedAt !== null) {
        throw new HttpError(404, 'ERR_NOT_FOUND', 'no such session');
      }
      await revocations.revokeSession(session.id, 'revoked_by_user');
      return reply.code(204).send();
    },
  );
}
