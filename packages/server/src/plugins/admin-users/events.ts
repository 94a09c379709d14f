/** `GET /api/admin/events`: security events, newest first. */
import type { FastifyInstance } from 'fastify';

import type { SecurityEventView } from '@jot/contract';

import { adminListRoute } from './list-route.js';

/** Registers `GET /api/admin/events`. */
export function registerSecurityEventsRoute(app: FastifyInstance): void {
  const { store } = app.jot;
  app.get<{ Querystring: { limit?: number; before?: number; user_id?: string } }>(
    '/api/admin/events',
    adminListRoute('Security events, newest first.', {
      before: { type: 'integer', minimum: 1 },
      user_id: { type: 'string', maxLength: 64 },
    }),
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
