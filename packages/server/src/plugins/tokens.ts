/**
 * Token endpoints: refresh (rotation; the refresh token from the body, or from its cookie together with the
 * session's `X-Csrf-Token`), the CSRF bootstrap for reloaded pages, renew (single-token mode), logout and
 * logout-everywhere (which also clear the cookies).
 */
import type { FastifyInstance } from 'fastify';

import { HEADERS } from '@jot/contract';

import { clearTokenCookies, refreshCookie, REFRESH_PATH } from '../http/cookies.js';
import { HttpError } from '../http/errors.js';
import { DomainError } from '../services/errors.js';
import { authRateLimit, verifiedLimit } from '../http/rate-limit.js';
import { authErrors, tokenResponseSchema } from '../http/schemas.js';
import { tokenResponse } from '../http/token-response.js';
import { tokenEndpointProof } from '../http/dpop-proof.js';
import { refreshResultOf } from '../services/metrics.js';
import { hashSecret } from '../services/secrets.js';
import { isSessionLive, renewalRevokes } from '../services/sessions.js';
import { clientInfo } from '../http/client-info.js';
import { authenticate, authOf, verifiedCredential } from './auth.js';

function csrfHeader(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Registers the token routes. */
export async function tokensPlugin(app: FastifyInstance): Promise<void> {
  const { sessions, revocations, events, config, store, csrf, clock, metrics } = app.jot;
  // Renewal is limited per session (the sid of the verified token). A renewal that revokes the renewed token (one
  // early in its life, see `renewalRevokes`) also spends from a per-user budget of the same size: that bounds how
  // fast one account, over all its sessions, can add entries to the revocation feed.
  const renewLimit = verifiedLimit(
    app,
    'renew',
    config.rateLimitRenew,
    (request) => authOf(request).claims.sid,
  );
  const feedEntryLimit = verifiedLimit(
    app,
    'renew-revoking',
    config.rateLimitRenew,
    (request) => authOf(request).claims.sub,
  );

  app.post<{ Body: { refresh_token?: string } | undefined }>(
    REFRESH_PATH,
    {
      config: { rateLimit: authRateLimit(config) },
      schema: {
        tags: ['tokens'],
        summary:
          'Exchange a refresh token (in the body, or in its cookie with X-Csrf-Token) for new tokens; the old one is spent.',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { refresh_token: { type: 'string', minLength: 1, maxLength: 512 } },
        },
        response: {
          200: tokenResponseSchema,
          400: { $ref: 'JotError#' },
          401: { $ref: 'JotError#' },
          403: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const fromBody = request.body?.refresh_token;
      const fromCookie = fromBody === undefined ? refreshCookie(request) : undefined;
      const token = fromBody ?? fromCookie;
      if (token === undefined) {
        throw new HttpError(
          400,
          'ERR_VALIDATION',
          'send {"refresh_token": "…"} or the refresh cookie with X-Csrf-Token',
          {
            error: 'invalid_request',
          },
        );
      }
      const pair = await sessions
        .refresh(
          token,
          clientInfo(request),
          fromCookie === undefined ? undefined : { csrfHeader: csrfHeader(request.headers[HEADERS.csrf]) },
          {
            dpopProof: (boundJkt) =>
              tokenEndpointProof(request, reply, { boundJkt, required: config.dpop === 'required' }),
          },
        )
        .catch((err: unknown) => {
          metrics.refreshes.inc({
            result: refreshResultOf(
              err instanceof HttpError || err instanceof DomainError ? err.code : undefined,
            ),
          });
          throw err;
        });
      metrics.refreshes.inc({ result: 'success' });
      return tokenResponse(request, reply, pair);
    },
  );

  app.get(
    `${REFRESH_PATH}/csrf`,
    {
      schema: {
        tags: ['tokens'],
        summary: "The CSRF token of the refresh cookie's session, for a page that reloaded and lost it.",
        response: {
          200: { type: 'object', properties: { csrf_token: { type: 'string' } } },
          401: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const token = refreshCookie(request);
      const record = token === undefined ? undefined : await store.getRefreshToken(hashSecret(token));
      const session = record === undefined ? undefined : await store.getSession(record.sessionId);
      if (session === undefined || !isSessionLive(session, clock()) || session.delivery === 'bearer') {
        throw new HttpError(401, 'ERR_SESSION_ENDED', 'no live browser session; sign in again', {
          error: 'invalid_grant',
        });
      }
      reply.header('cache-control', 'no-store');
      return { csrf_token: csrf.forSession(session.id) };
    },
  );

  app.post(
    '/api/token/renew',
    {
      config: { rateLimit: authRateLimit(config) },
      preHandler: [
        async (request) => {
          if (config.tokenMode !== 'single') {
            throw new HttpError(
              400,
              'ERR_RENEW_NOT_ENABLED',
              'token renewal is only available in single-token mode (JOT_TOKEN_MODE=single)',
            );
          }
          // Verified here without the revocation check: the renewal looks up the token's earlier renewal first, so a
          // repeat within the grace window gets its successor even if the token was revoked by that renewal, and a
          // later repeat is recognised as reuse instead of a plain "revoked".
          request.auth = await verifiedCredential(request);
        },
        renewLimit,
        async function renewFeedLimit(request, reply) {
          const { claims } = authOf(request);
          if (!renewalRevokes(claims, clock())) return;
          // Only a live token's renewal can add a feed entry: a revoked one (its session ended, or renewed already)
          // spends nothing, so a dead copy of a token cannot exhaust the account's budget.
          const live = await revocations.check(claims).then(
            () => true,
            (err: unknown) => {
              if ((err as { code?: unknown } | null)?.code === 'ERR_TOKEN_REVOKED') return false;
              throw err;
            },
          );
          if (live) await feedEntryLimit.call(this, request, reply);
        },
      ],
      schema: {
        tags: ['tokens'],
        summary:
          'Single-token mode: exchange a still-valid access token for a fresh one (the same one again for a repeat within the grace window).',
        response: { 200: tokenResponseSchema, ...authErrors, 429: { $ref: 'JotError#' } },
      },
    },
    async (request, reply) =>
      tokenResponse(request, reply, await sessions.renew(authOf(request), clientInfo(request))),
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
      await events.record('logout', { userId: claims.sub, sessionId: claims.sid, ip: request.ip });
      clearTokenCookies(reply);
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
      clearTokenCookies(reply);
      return reply.code(204).send();
    },
  );
}
