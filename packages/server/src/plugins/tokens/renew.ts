/** `POST /api/token/renew`: single-token mode's renewal of a still-valid access token. */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';

import { HttpError } from '../../http/errors.js';
import { verifiedLimit } from '../../http/rate-limit.js';
import { tokenRouteResponses } from '../../http/schemas.js';
import { tokenResponse } from '../../http/token-response.js';
import { renewalRevokes } from '../../services/sessions.js';
import { clientInfo } from '../../http/client-info.js';
import { authOf, verifiedCredential } from '../auth.js';
import { callerLimits } from '../caller-limits.js';

/**
 * The refusals of a renewal's access token that spend the address's failure budget: a token the server never signed
 * (forged, malformed, garbage, a key it does not have) or a failed CSRF check. Not a token of its own that is no
 * longer usable (expired, not yet valid, another audience, revoked) nor a missing one: a gateway relaying many users'
 * stale tokens is no guesser.
 */
const RENEW_FAILURES: ReadonlySet<string> = new Set([
  'ERR_AUTH_MALFORMED',
  'ERR_CSRF',
  'ERR_VERIFY_NOT_ENCRYPTED',
  'ERR_JWS_INVALID',
  'ERR_JWS_TOO_LARGE',
  'ERR_JWS_UNSUPPORTED',
  'ERR_JWS_SIGNATURE_INVALID',
  'ERR_JWT_INVALID',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_KEY_MISMATCH',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_JWE_INVALID',
  'ERR_JWE_TOO_LARGE',
  'ERR_JWE_DECRYPTION_FAILED',
]);

function isRenewFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RENEW_FAILURES.has(code);
}

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

/**
 * Registers `POST /api/token/renew`. Besides the per-session and per-account limits, limited on who acts
 * (plugins/caller-limits.ts): renewals with a token the server never signed spend the address's failure budget
 * (`JOT_RATE_LIMIT_AUTH`; once used up, the address's renewals are refused, 429 `ERR_RATE_LIMITED`, before the token
 * is looked at); successes cost the address nothing — many users behind one NAT renew freely.
 */
export function registerRenewRoute(app: FastifyInstance): void {
  const { sessions, config } = app.jot;
  const limits = callerLimits(app);
  app.post(
    '/api/token/renew',
    {
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
          request.auth = await limits.renew(request, () => verifiedCredential(request), isRenewFailure);
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
