/** `POST /api/token/renew`: single-token mode's renewal of a still-valid access token. */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';

import { HttpError } from '../../http/errors.js';
import { authRateLimit, verifiedLimit } from '../../http/rate-limit.js';
import { tokenRouteResponses } from '../../http/schemas.js';
import { tokenResponse } from '../../http/token-response.js';
import { renewalRevokes } from '../../services/sessions.js';
import { clientInfo } from '../../http/client-info.js';
import { authOf, verifiedCredential } from '../auth.js';

/**
 * The renewal's rate limits. Renewal is limited per session (the sid of the verified token). A renewal that revokes
 * the renewed token (one early in its life, see `renewalRevokes`) also spends from a per-user budget of the same
 * size: that bounds how fast one account, over all its sessions, can add entries to the revocation feed.
 */
function renewLimits(app: FastifyInstance): preHandlerAsyncHookHandler[] {
  const { revocations, config, clock } = app.jot;
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
  return [
    renewLimit,
    async function renewFeedLimit(request: FastifyRequest, reply: FastifyReply) {
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
  ];
}

/** Registers `POST /api/token/renew`. */
export function registerRenewRoute(app: FastifyInstance): void {
  const { sessions, config } = app.jot;
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
        ...renewLimits(app),
      ],
      schema: {
        tags: ['tokens'],
        summary:
          'Single-token mode: exchange a still-valid access token for a fresh one (the same one again for a repeat within the grace window).',
        response: tokenRouteResponses(400, 401, 403, 429),
      },
    },
    async (request, reply) =>
      tokenResponse(request, reply, await sessions.renew(authOf(request), clientInfo(request))),
  );
}
