/**
 * What resource servers read to honour revocations without calling us per request:
 * - `GET /api/revocations?since=<cursor>` — entries after a cursor, or a snapshot of every live entry.
 * - `GET /api/revocations/stream` — the same as Server-Sent Events, resuming from `Last-Event-ID` or `since`.
 * - `POST /api/introspect` — RFC 7662 introspection, for the `strict` strategy (the same answers as
 *   `POST /oauth/introspect`, which also takes OAuth client authentication).
 * All three take `Authorization: Bearer <JOT_REVOCATION_SECRET>` (compared in constant time), or an admin's access
 * token; failed credentials are limited per address (plugins/caller-limits.ts), an admin's introspection calls per
 * user; the secret's holders have no call budget (a `strict` verifier asks once per request it serves), only the
 * optional ceiling per address `JOT_RATE_LIMIT_RESOURCE_SERVER` (off by default).
 * Entries carry `expires_at`, after which they can be dropped.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { ENDPOINTS, FEED_PAGE_SIZE } from '@jot/contract';

import { HttpError } from '../http/errors.js';
import { CURSOR_MAX_LENGTH, parseCursor } from '../http/feed-wire.js';
import { addFormParser, refuseRepeatedParameter } from '../http/oauth-form.js';
import { pageToWire } from '../services/feed-wire.js';
import { admitFeedCaller, feedCredential } from './feed-credential.js';
import { accessTokenIntrospection, INTROSPECTION_RESPONSE_SCHEMA } from '../http/introspection.js';
import { registerRevocationStream } from './revocation-stream/index.js';

/** Registers the feed routes. */
export async function revocationFeedPlugin(app: FastifyInstance): Promise<void> {
  const { store, config } = app.jot;

  const feedAuth = { preHandler: feedCredential(config) };

  app.get<{ Querystring: { since?: string; limit?: number } }>(
    ENDPOINTS.revocationFeed,
    {
      ...feedAuth,
      schema: {
        tags: ['revocation'],
        summary:
          'Revocation entries after a cursor, or a snapshot of all live entries when no cursor is given.',
        querystring: {
          type: 'object',
          properties: {
            since: { type: 'string', maxLength: CURSOR_MAX_LENGTH },
            limit: { type: 'integer', minimum: 1, maximum: FEED_PAGE_SIZE },
          },
        },
      },
    },
    async (request, reply) => {
      const page = await store.listRevocationsSince(
        parseCursor(request.query.since),
        request.query.limit ?? FEED_PAGE_SIZE,
      );
      reply.header('cache-control', 'no-store');
      return pageToWire(page);
    },
  );

  registerRevocationStream(app, feedAuth.preHandler);

  registerIntrospection(app, feedAuth.preHandler);
}

/** The token (an access token: RFC 7662 §2.1's `token`), in both media types. */
const TOKEN = { type: 'string', minLength: 1, maxLength: 16_384 } as const;

/**
 * The JSON body: `token` and RFC 7662 §2.1's optional `token_type_hint`, nothing else — an unknown field is a 400
 * `ERR_VALIDATION` naming it, not ignored (a caller's mistake, or a parameter it believes is honoured).
 */
const INTROSPECT_JSON_BODY = {
  type: 'object',
  required: ['token'],
  additionalProperties: false,
  properties: {
    token: TOKEN,
    token_type_hint: { type: 'string', maxLength: 64, description: 'access_token (a hint only)' },
  },
} as const;

/**
 * The form RFC 7662 §2.1 defines: other parameters are ignored, as at `/oauth/introspect` (RFC 7662 §2.1 lets an
 * endpoint take more; stock clients send what their library adds), so both endpoints read one form alike.
 */
const INTROSPECT_FORM_BODY = {
  type: 'object',
  required: ['token'],
  properties: { token: TOKEN },
} as const;

/**
 * Without a body (no `Content-Type`), Fastify validates nothing — the schemas are per media type — so the missing
 * token is refused here, as the schema would: 400 `ERR_VALIDATION`.
 */
async function refuseMissingBody(request: FastifyRequest): Promise<void> {
  if (typeof request.body !== 'object' || request.body === null) {
    throw new HttpError(
      400,
      'ERR_VALIDATION',
      'body: missing field "token": send {"token": "…"} as application/json, or token=… as a form',
    );
  }
}

/** `POST /api/introspect` for the feed's clients (RFC 7662), behind the same credential as the feed. */
function registerIntrospection(app: FastifyInstance, preHandler: ReturnType<typeof feedCredential>): void {
  // RFC 7662 clients send application/x-www-form-urlencoded: read as on the OAuth endpoints (http/oauth-form.ts).
  addFormParser(app, app.jot.config.bodyLimitBytes);

  app.post<{ Body: { token: string } }>(
    ENDPOINTS.feedIntrospection,
    {
      preValidation: [refuseMissingBody, refuseRepeatedParameter],
      preHandler,
      schema: {
        tags: ['revocation'],
        summary:
          'RFC 7662 token introspection: is this access token active right now (signature, expiry, revocation)?',
        // Per media type (Fastify validates the body against its type's schema; plugins/openapi.ts documents both).
        body: {
          content: {
            'application/json': { schema: INTROSPECT_JSON_BODY },
            'application/x-www-form-urlencoded': { schema: INTROSPECT_FORM_BODY },
          },
        },
        response: {
          200: INTROSPECTION_RESPONSE_SCHEMA,
          400: { $ref: 'JotError#' },
          401: { $ref: 'JotError#' },
          429: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      await admitFeedCaller(request);
      reply.header('cache-control', 'no-store');
      return accessTokenIntrospection(await app.jot.tokenStatus.active(request.body.token));
    },
  );
}
