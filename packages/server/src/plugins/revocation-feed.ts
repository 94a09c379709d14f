/**
 * What resource servers read to honour revocations without calling us per request:
 * - `GET /api/revocations?since=<cursor>` — entries after a cursor, or a snapshot of every live entry.
 * - `GET /api/revocations/stream` — the same as Server-Sent Events, resuming from `Last-Event-ID` or `since`.
 * - `POST /api/introspect` — RFC 7662 introspection, for the `strict` strategy.
 * All three take `Authorization: Bearer <JOT_REVOCATION_SECRET>` (compared in constant time), or an admin's access
 * token. Entries carry `expires_at`, after which they can be dropped.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import { isJoseError } from '@jot/jose';

import { HttpError, unauthorized } from '../http/errors.js';
import type { Revocation, RevocationPage } from '../store/index.js';
import { authenticateToken, bearerToken } from './auth.js';

/** A feed entry on the wire. */
export interface FeedEntry {
  id: string;
  kind: Revocation['kind'];
  subject: string;
  data: Record<string, unknown>;
  /** Epoch seconds after which the entry no longer matters. */
  expires_at: number;
}

/** One page of the feed on the wire. */
export interface FeedPage {
  entries: FeedEntry[];
  cursor: string;
  has_more: boolean;
  snapshot: boolean;
}

const PAGE_SIZE = 1000;
const HEARTBEAT_MS = 15_000;
const POLL_MS = 2_000;
/** Streams one server holds open at most; each is a poll loop and a listener. */
const MAX_STREAMS = 256;

function toWire(entry: Revocation): FeedEntry {
  return {
    id: String(entry.id),
    kind: entry.kind,
    subject: entry.subject,
    data: entry.data,
    expires_at: Math.ceil(entry.expiresAt / 1000),
  };
}

function pageToWire(page: RevocationPage): FeedPage {
  return {
    entries: page.entries.map(toWire),
    cursor: String(page.cursor),
    has_more: page.hasMore,
    snapshot: page.snapshot,
  };
}

function parseCursor(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value))
    throw new HttpError(400, 'ERR_VALIDATION', 'the cursor must be a number from a previous response');
  return Number(value);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Registers the feed routes. */
export async function revocationFeedPlugin(app: FastifyInstance): Promise<void> {
  const { store, config, revocations, tokens, clock } = app.jot;
  let openStreams = 0;
  revocations.changes.setMaxListeners(MAX_STREAMS + 16);
  const secretDigest = config.revocationSecret === undefined ? undefined : digest(config.revocationSecret);

  async function requireFeedCredential(request: FastifyRequest): Promise<void> {
    const presented = bearerToken(request.headers.authorization);
    if (presented === undefined) {
      throw unauthorized('ERR_FEED_AUTH', 'the revocation feed requires the resource-server credential', {
        noCredentials: true,
      });
    }
    if (secretDigest !== undefined && timingSafeEqual(digest(presented), secretDigest)) return;
    if (presented.split('.').length === 3) {
      const auth = await authenticateToken(request, presented, 'bearer');
      if (auth.claims.roles.includes('admin')) {
        request.auth = auth; // a stream re-checks it as it goes
        return;
      }
    }
    throw unauthorized('ERR_FEED_AUTH', 'the credential is not valid for the revocation feed');
  }

  const feedAuth = { preHandler: requireFeedCredential };

  app.get<{ Querystring: { since?: string; limit?: number } }>(
    '/api/revocations',
    {
      ...feedAuth,
      schema: {
        tags: ['revocation'],
        summary:
          'Revocation entries after a cursor, or a snapshot of all live entries when no cursor is given.',
        querystring: {
          type: 'object',
          properties: {
            since: { type: 'string', maxLength: 20 },
            limit: { type: 'integer', minimum: 1, maximum: PAGE_SIZE },
          },
        },
      },
    },
    async (request, reply) => {
      const page = await store.listRevocationsSince(
        parseCursor(request.query.since),
        request.query.limit ?? PAGE_SIZE,
      );
      reply.header('cache-control', 'no-store');
      return pageToWire(page);
    },
  );

  app.get<{ Querystring: { since?: string } }>(
    '/api/revocations/stream',
    {
      ...feedAuth,
      schema: {
        tags: ['revocation'],
        summary:
          'Server-Sent Events: `revocation` events with the cursor as id; `reset` means replace local state.',
        querystring: { type: 'object', properties: { since: { type: 'string', maxLength: 20 } } },
      },
    },
    async (request, reply) => {
      const lastEventId = request.headers['last-event-id'];
      let cursor = parseCursor(typeof lastEventId === 'string' ? lastEventId : request.query.since);
      if (openStreams >= MAX_STREAMS) {
        throw new HttpError(
          503,
          'ERR_UNAVAILABLE',
          'too many revocation streams are open; poll /api/revocations',
          {
            headers: { 'retry-after': '30' },
          },
        );
      }
      openStreams += 1;
      reply.hijack();
      const res = reply.raw;
      const credential = request.auth?.claims;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: 2000\n\n`);
      let closed = false;
      let wake: (() => void) | undefined;
      // An entry added while the loop is reading the store must not wait for the next poll: remember it.
      let pending = false;
      const onAdded = (): void => {
        pending = true;
        wake?.();
      };
      revocations.changes.on('added', onAdded);
      // A reader that stops reading is cut off rather than buffered for without bound.
      const heartbeat = setInterval(() => {
        if (res.writableNeedDrain) res.destroy();
        else res.write(': ping\n\n');
      }, HEARTBEAT_MS);
      request.raw.on('close', () => {
        closed = true;
        clearInterval(heartbeat);
        revocations.changes.off('added', onAdded);
        wake?.();
      });
      try {
        while (!closed) {
          pending = false;
          if (credential !== undefined) {
            // An admin token opened this stream: it ends when that token expires or is revoked.
            if (clock() >= credential.exp * 1000) break;
            await revocations.check(credential);
          }
          const page = await store.listRevocationsSince(cursor, PAGE_SIZE);
          if (page.snapshot) res.write(`event: reset\ndata: {"cursor":"${page.cursor}"}\n\n`);
          for (const entry of page.entries)
            res.write(`event: revocation\nid: ${entry.id}\ndata: ${JSON.stringify(toWire(entry))}\n\n`);
          if (page.entries.length === 0 && page.snapshot) res.write(`id: ${page.cursor}\ndata: {}\n\n`);
          cursor = page.cursor;
          if (page.hasMore || pending) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, POLL_MS);
            wake = () => {
              wake = undefined;
              clearTimeout(timer);
              resolve();
            };
          });
        }
      } catch (err) {
        if (!(err instanceof HttpError)) request.log.error({ err }, 'revocation stream failed');
      } finally {
        openStreams -= 1;
        clearInterval(heartbeat);
        revocations.changes.off('added', onAdded);
        res.end();
      }
    },
  );

  // RFC 7662 clients send application/x-www-form-urlencoded; accepted on this route only.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 16_384 },
    (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  app.post<{ Body: { token: string } }>(
    '/api/introspect',
    {
      ...feedAuth,
      schema: {
        tags: ['revocation'],
        summary:
          'RFC 7662 token introspection: is this access token active right now (signature, expiry, revocation)?',
        body: {
          type: 'object',
          required: ['token'],
          properties: { token: { type: 'string', minLength: 1, maxLength: 16_384 } },
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      try {
        const claims = tokens.verify(request.body.token);
        await revocations.check(claims);
        return { ...claims, active: true, token_type: 'access_token' };
      } catch (err) {
        if (isJoseError(err) || err instanceof HttpError) return { active: false };
        throw err;
      }
    },
  );
}
