/** Request facts stored with a session for the user's device list. */
import type { FastifyRequest } from 'fastify';

import type { ClientInfo } from '../services/sessions.js';

/** Request facts kept with a session (bounded; never used for authentication). */
export function clientInfo(request: FastifyRequest): ClientInfo {
  return { ip: request.ip, userAgent: request.headers['user-agent'] ?? null };
}
