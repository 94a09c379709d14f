/** A user's own sessions (devices): list them and end one. */
import type { FastifyInstance } from 'fastify';

import { HttpError } from '../http/errors.js';
import { authErrors, idParams } from '../http/schemas.js';
import { publicSession, sessionSchema } from '../http/views.js';
import { authenticate, authOf } from './auth.js';

/** Registers the session routes. */
export async function sessionsPlugin(app: FastifyInstance): Promise<void> {
  const { store, revocations, events } = app.jot;

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
        params: idParams,
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
      await events.record('session_revoked', {
        userId: claims.sub,
        sessionId: session.id,
        ip: request.ip,
        detail: { by: claims.sub, from_session: claims.sid },
      });
      return reply.code(204).send();
    },
  );
}
