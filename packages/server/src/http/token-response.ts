/** The JSON token response and its headers (RFC 6749 §5.1: `Cache-Control: no-store`). */
import type { FastifyReply } from 'fastify';

import type { TokenPair } from '../services/sessions.js';

/** The body of a token response. */
export interface TokenResponseBody {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  csrf_token?: string;
}

/** Sends a token pair as JSON with the no-store headers. */
export function tokenResponse(reply: FastifyReply, pair: TokenPair): TokenResponseBody {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  const body: TokenResponseBody = {
    access_token: pair.accessToken,
    token_type: 'Bearer',
    expires_in: pair.expiresIn,
  };
  if (pair.refreshToken !== undefined) body.refresh_token = pair.refreshToken;
  if (pair.csrfToken !== undefined) body.csrf_token = pair.csrfToken;
  return body;
}
