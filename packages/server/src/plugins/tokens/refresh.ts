/**
 * `POST /api/token/refresh`: rotation — the refresh token from the body, or from its cookie together with the
 * session's `X-Csrf-Token`; and `GET /api/token/refresh/csrf`, the CSRF bootstrap for a page that reloaded.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { HEADERS } from '@jot/contract';
import { isVerifyError } from '@jot/verify';

import { refreshCookie, REFRESH_PATH } from '../../http/cookies.js';
import { HttpError } from '../../http/errors.js';
import { DomainError } from '../../services/errors.js';
import { tokenRouteResponses } from '../../http/schemas.js';
import { tokenResponse } from '../../http/token-response.js';
import { tokenEndpointProof } from '../../http/dpop-proof.js';
import { refreshResultOf } from '../../services/metrics.js';
import { isUnknownRefreshToken } from '../../services/sessions.js';
import { clientInfo } from '../../http/client-info.js';
import { callerLimits } from '../caller-limits.js';

/**
 * The code of a refusal, for the `jot_refreshes_total` result: the service throws `DomainError`s and `HttpError`s,
 * and the cookie's CSRF check a `VerifyError` (`ERR_CSRF`, see services/csrf.ts).
 */
function refusalCode(err: unknown): string | undefined {
  return err instanceof HttpError || err instanceof DomainError || isVerifyError(err) ? err.code : undefined;
}

/**
 * Whether a refusal spends the address's failure budget: a refresh token the server does not know at all (no such
 * token hash — a guess or garbage) or a failed CSRF check of its cookie (403). A token the server issued that is no
 * longer usable (expired, its session ended or idle, its account disabled or deleted, reused) is refused just the
 * same but costs the address nothing: an office behind one NAT on a Monday morning is no guesser. Nor does a
 * malformed request or a DPoP proof to redo (400). Telling them apart takes no extra lookup: every refusal comes
 * from the same one read of the token's hash, and the codes already differ.
 */
function isRefreshFailure(err: unknown): boolean {
  if (isUnknownRefreshToken(err)) return true;
  return (err instanceof HttpError || isVerifyError(err)) && err.code === 'ERR_CSRF';
}

function csrfHeader(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The refresh token presented: from the body, else from its cookie (which then needs the CSRF header). */
function presentedRefreshToken(request: FastifyRequest<{ Body: { refresh_token?: string } | undefined }>): {
  token: string;
  fromCookie: boolean;
} {
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
  return { token, fromCookie: fromCookie !== undefined };
}

const refreshSchema = {
  tags: ['tokens'],
  summary:
    'Exchange a refresh token (in the body, or in its cookie with X-Csrf-Token) for new tokens; the old one is spent.',
  body: {
    type: 'object',
    additionalProperties: false,
    properties: { refresh_token: { type: 'string', minLength: 1, maxLength: 512 } },
  },
  response: tokenRouteResponses(400, 401, 403, 429),
};

/**
 * Registers `POST /api/token/refresh`. Limited on who acts (plugins/caller-limits.ts): failed refreshes per address
 * (`JOT_RATE_LIMIT_AUTH`: unknown tokens and failed CSRF checks, see `isRefreshFailure`; once used up, the address is
 * refused until its window ends), not known-but-stale tokens, not successes per address —
 * an office behind one NAT refreshing its users' sessions is not refused; a session can only refresh with its
 * current refresh token, once.
 */
export function registerRefreshRoute(app: FastifyInstance): void {
  const { sessions, config, metrics } = app.jot;
  const limits = callerLimits(app);
  app.post<{ Body: { refresh_token?: string } | undefined }>(
    REFRESH_PATH,
    { schema: refreshSchema },
    async (request, reply) => {
      const { token, fromCookie } = presentedRefreshToken(request);
      const pair = await limits.refresh(
        request,
        () =>
          sessions
            .refresh(
              token,
              clientInfo(request),
              fromCookie ? { csrfHeader: csrfHeader(request.headers[HEADERS.csrf]) } : undefined,
              {
                dpopProof: (boundJkt) =>
                  tokenEndpointProof(request, reply, { boundJkt, required: config.dpop === 'required' }),
              },
            )
            .catch((err: unknown) => {
              metrics.refreshes.inc({ result: refreshResultOf(refusalCode(err)) });
              throw err;
            }),
        isRefreshFailure,
      );
      metrics.refreshes.inc({ result: 'success' });
      return tokenResponse(request, reply, pair);
    },
  );
}

/**
 * Registers `GET /api/token/refresh/csrf`. The refresh cookie is judged exactly as `POST /api/token/refresh` would
 * judge it (`SessionService.sessionOfRefreshToken`): the same refusals and codes, reuse detection for a rotated
 * token, and the same failure budget per address for a token the server never issued (`isRefreshFailure`).
 */
export function registerRefreshCsrfRoute(app: FastifyInstance): void {
  const { sessions, csrf } = app.jot;
  const limits = callerLimits(app);
  app.get(
    `${REFRESH_PATH}/csrf`,
    {
      schema: {
        tags: ['tokens'],
        summary: "The CSRF token of the refresh cookie's session, for a page that reloaded and lost it.",
        response: {
          200: { type: 'object', properties: { csrf_token: { type: 'string' } } },
          401: { $ref: 'JotError#' },
          429: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const token = refreshCookie(request);
      const session =
        token === undefined
          ? undefined
          : await limits.refresh(
              request,
              () => sessions.sessionOfRefreshToken(token, clientInfo(request)),
              isRefreshFailure,
            );
      if (session === undefined || session.delivery === 'bearer') {
        throw new HttpError(401, 'ERR_SESSION_ENDED', 'no live browser session; sign in again', {
          error: 'invalid_grant',
        });
      }
      reply.header('cache-control', 'no-store');
      return { csrf_token: csrf.forSession(session.id) };
    },
  );
}
