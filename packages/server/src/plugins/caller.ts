/** Who is asking, as the services and security events name them: the signed-in user, their session, their address. */
import type { FastifyRequest } from 'fastify';

import { authOf } from './auth.js';

/** The authenticated caller of a request. */
export interface RequestCaller {
  userId: string;
  sessionId: string;
  ip: string;
}

/** The caller of an authenticated request (after `authenticate` or another guard set `request.auth`). */
export function callerOf(request: FastifyRequest): RequestCaller {
  const { claims } = authOf(request);
  return { userId: claims.sub, sessionId: claims.sid, ip: request.ip };
}
