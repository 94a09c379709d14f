/**
 * The adapters' app (support/adapters.ts) mounted on a real Jot server, behind the server's own auth pre-handlers —
 * the code its /api routes use: /me and /orders behind `authenticate`, /admin behind `requireRole('admin')`,
 * /sensitive behind `requireRecentAuth()` (the server's `JOT_STEP_UP_MAX_AGE` must be 60 s, as the adapters'
 * `maxAuthAge`). /scoped is left out: the server's routes require roles, not scopes.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { authenticate, authOf, requireRecentAuth, requireRole } from '../../../server/src/plugins/auth.js';
import { body } from './adapters.js';

/** Registers the routes (call before the server listens). */
export function jotServerRoutes(app: FastifyInstance): void {
  const reply = (path: string) => (request: FastifyRequest) => body(authOf(request), path);
  app.get('/me', { preHandler: authenticate }, reply('/me'));
  app.post('/orders', { preHandler: authenticate }, reply('/orders'));
  app.get('/admin', { preHandler: requireRole('admin') }, reply('/admin'));
  app.get('/sensitive', { preHandler: requireRecentAuth() }, reply('/sensitive'));
}
