/**
 * The last step of a route that raises or renews the caller's own session (password change, password step-up): new
 * tokens for that session, answered in its delivery form.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { SessionTokenResponse } from '@jot/contract';

import { tokenResponse } from '../http/token-response.js';
import type { ReissueOptions } from '../services/sessions.js';
import { authOf } from './auth.js';

/** Reissues the tokens of the authenticated caller's session with `options` and answers with them. */
export async function reissueResponse(
  request: FastifyRequest,
  reply: FastifyReply,
  options: ReissueOptions,
): Promise<SessionTokenResponse> {
  const pair = await request.server.jot.sessions.reissue(authOf(request).claims.sid, options);
  return tokenResponse(request, reply, pair);
}
