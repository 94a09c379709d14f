/**
 * Token responses in the session's delivery form, with RFC 6749 §5.1's `Cache-Control: no-store`:
 * - `bearer`: every token in the JSON body — after a sign-in, the device credential too (`device_token`);
 * - `cookie`: access and refresh tokens only in HttpOnly cookies; the body has the CSRF token and the lifetime;
 * - `memory`: the access token in the body (the page keeps it in memory), the refresh token in its cookie.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { SessionTokenResponse } from '@jot/contract';

import type { TokenPair } from '../services/sessions.js';
import { cookiesSecure, setTokenCookies } from './cookies.js';

/**
 * Sends a token pair in the form its session's delivery asks for. `deviceToken`, the credential a sign-in gave
 * (http/device-credential.ts), goes into the body only with body delivery: the other deliveries have the cookie.
 */
export function tokenResponse(
  request: FastifyRequest,
  reply: FastifyReply,
  pair: TokenPair,
  deviceToken?: string,
): SessionTokenResponse {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  const delivery = pair.session.delivery;
  const body: SessionTokenResponse = {
    token_type: pair.claims.cnf === undefined ? 'Bearer' : 'DPoP',
    expires_in: pair.expiresIn,
  };
  if (delivery === 'bearer') {
    body.access_token = pair.accessToken;
    if (pair.refreshToken !== undefined) body.refresh_token = pair.refreshToken;
    if (deviceToken !== undefined) body.device_token = deviceToken;
    return body;
  }
  const { config } = request.server.jot;
  const refreshMaxAge = Math.floor(Math.min(config.refreshIdleTimeoutMs, config.sessionMaxLifetimeMs) / 1000);
  setTokenCookies(reply, cookiesSecure(config, request), {
    access: delivery === 'cookie' ? { value: pair.accessToken, maxAge: pair.expiresIn } : undefined,
    refresh:
      pair.refreshToken === undefined ? undefined : { value: pair.refreshToken, maxAge: refreshMaxAge },
  });
  if (delivery === 'memory') body.access_token = pair.accessToken;
  if (pair.csrfToken !== undefined) body.csrf_token = pair.csrfToken;
  return body;
}
