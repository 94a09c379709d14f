/** Token endpoints: refresh (rotation), renew (single-token mode), logout and logout-everywhere. */
import type { FastifyInstance } from 'fastify';

import { HttpError } from '../http/errors.js';
import { authRateLimit } from '../http/rate-limit.js';
import { authErrors, tokenResponseSchema } from '../http/schemas.js';
import { tokenResponse } from '../http/token-response.js';
import { clientInfo } from './accounts.js';
import { authenticate, authOf } from './auth.js';

/** Registers the token routes. */
export async function tokensPlugin(app: FastifyInstance): Promise<void> {
  const { sessions, revocations, events, config } = app.jot;

  app.post<{ Body: { refresh_token: string } }>(
    '/api/token/refresh',
    {
      config: { rateLimit: authRateLimit(config) },
      schema: {
        tags: ['tokens'],
        summary:
          'Exchange a refresh token for a new access token and a new refresh token (the old one is spent).',
        body: {
          type: 'object',
          required: ['refresh_token'],
          additionalProperties: false,
          properties: { refresh_token: { type: 'string', minLength: 1, maxLength: 512 } },
        },
        response: { 200: tokenResponseSchema, 400: { $ref: 'JotError#' }, 401: { $ref: 'JotError#' } },
      },
    },
    async (request, reply) =>
      tokenResponse(reply, await sessions.refresh(request.body.refresh_token, clientInfo(request))),
  );

  app.post(
    '/api/token/renew',
    {
      preHandler: authenticate,
      schema: {
        tags: ['tokens'],
        summary:
          'Single-token mode: exchange a still-valid access token for a fresh one; the old one is revoked.',
        response: { 200: tokenResponseSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      if (config.tokenMode !== 'single') {
        throw new HttpError(
          400,
          'ERR_RENEW_NOT_ENABLED',
          'token renewal is only available in single-token mode (JOT_TOKEN_MODE=single)',
        );
      }
      return tokenResponse(reply, await sessions.renew(authOf(request).claims));
    },
  );

  app.post(
    '/api/logout',
    {
      preHandler: authenticate,
      schema: {
        tags: ['tokens'],
        summary: 'End this session: its refresh token and this access token stop working at once.',
        response: { 204: { type: 'null' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      await revocations.revokeSession(claims.sid, 'logout');
      await revocations.revokeToken(claims.jti, claims.exp);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/logout-all',
    {
      preHandler: authenticate,
      schema: {
        tags: ['tokens'],
        summary:
          'Sign out everywhere: every session of the user ends and every token issued so far is invalid.',
        response: { 204: { type: 'null' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      await revocations.revokeAllForUser(claims.sub, 'logout_all');
      await events.record('logout_all', { userId: claims.sub, sessionId: claims.sid, ip: request.ip });
      return reply.code(204).send();
    },
  );
}
