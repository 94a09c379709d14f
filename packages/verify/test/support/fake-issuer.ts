/**
 * A fake Jot issuer on `node:http` for JWKS and revocation-feed edge cases: it counts fetches, can go down, can
 * drop SSE connections, and signs tokens with keys the test controls. Speaks the server's wire format.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createSigner, generateKeyPair, type Key } from '@jot/jose';

export const SECRET = 'feed-secret-0123456789-0123456789-abcdef';
export const AUDIENCE = 'https://api.test';

export interface FeedWireEntry {
  id: string;
  kind: 'jti' | 'sid' | 'user';
  subject: string;
  data: Record<string, unknown>;
  expires_at: number;
}

export interface FakeIssuer {
  url: string;
  /** Keys published in the JWKS (the first signs by default). */
  keys: Key[];
  counts: { jwks: number; metadata: number; snapshot: number; stream: number };
  /** Each stream connection's Last-Event-ID. */
  streamResumes: (string | undefined)[];
  /** `Cache-Control` of the JWKS. */
  jwksCacheControl: string;
  jwksDown: boolean;
  feedDown: boolean;
  /** Every stream connection is answered with `event: reset` (a feed stuck resetting). */
  resetOnConnect: boolean;
  /** Signs an access token; `claims` override the defaults. */
  sign(claims?: Record<string, unknown>, options?: { key?: Key; typ?: string }): string;
  /** Adds a feed entry and pushes it to connected streams. */
  revoke(kind: FeedWireEntry['kind'], subject: string, data?: Record<string, unknown>): FeedWireEntry;
  /** Destroys every open stream connection (a network blip). */
  dropStreams(): void;
  /** Sends `event: reset` on open streams (as after a database reset). */
  resetStreams(): void;
  /** Writes raw SSE text to open streams (malformed events). */
  sendRaw(text: string): void;
  /** A fresh key added to the JWKS; `activate` makes it the signing key. */
  rotate(options?: { activate?: boolean; removeOld?: boolean }): Key;
  close(): Promise<void>;
}

export function csrfHash(csrf: string): string {
  return createHash('sha256').update(csrf).digest('base64url');
}

export async function startFakeIssuer(): Promise<FakeIssuer> {
  const entries: FeedWireEntry[] = [];
  const streams = new Set<ServerResponse>();
  let nextId = 1;
  let keyCounter = 0;
  const newKey = (): Key =>
    generateKeyPair('ES256', { kid: `k${++keyCounter}-${randomBytes(3).toString('hex')}` });

  const issuer: FakeIssuer = {
    url: '',
    keys: [newKey()],
    counts: { jwks: 0, metadata: 0, snapshot: 0, stream: 0 },
    streamResumes: [],
    jwksCacheControl: 'public, max-age=600',
    jwksDown: false,
    feedDown: false,
    resetOnConnect: false,
    sign(claims = {}, options = {}) {
      const key = options.key ?? issuer.keys[0]!;
      const now = Math.floor(Date.now() / 1000);
      const signer = createSigner(key, {
        typ: options.typ ?? 'at+jwt',
        issuer: issuer.url,
        audience: AUDIENCE,
        issuedAt: false,
      });
      return signer({
        sub: 'user-1',
        iat: now,
        exp: now + 300,
        jti: randomBytes(12).toString('base64url'),
        sid: 'sess-1',
        ver: 1,
        auth_time: now,
        roles: ['user'],
        scope: 'orders:read',
        ...claims,
      });
    },
    revoke(kind, subject, data = {}) {
      const entry: FeedWireEntry = {
        id: String(nextId++),
        kind,
        subject,
        data,
        expires_at: Math.floor(Date.now() / 1000) + 600,
      };
      entries.push(entry);
      for (const res of streams)
        res.write(`event: revocation\nid: ${entry.id}\ndata: ${JSON.stringify(entry)}\n\n`);
      return entry;
    },
    dropStreams() {
      for (const res of streams) res.socket?.destroy();
      streams.clear();
    },
    resetStreams() {
      for (const res of streams) res.write(`event: reset\ndata: {"cursor":"0"}\n\n`);
    },
    sendRaw(text) {
      for (const res of streams) res.write(text);
    },
    rotate(options = {}) {
      const key = newKey();
      if (options.removeOld) issuer.keys = [];
      if (options.activate) issuer.keys.unshift(key);
      else issuer.keys.push(key);
      return key;
    },
    close() {
      issuer.dropStreams();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };

  function json(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  function authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${SECRET}`;
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer.url);
    switch (url.pathname) {
      case '/.well-known/openid-configuration':
        issuer.counts.metadata += 1;
        return json(res, 200, {
          issuer: issuer.url,
          jwks_uri: `${issuer.url}/.well-known/jwks.json`,
          introspection_endpoint: `${issuer.url}/api/introspect`,
          revocation_feed_endpoint: `${issuer.url}/api/revocations`,
          revocation_stream_endpoint: `${issuer.url}/api/revocations/stream`,
        });
      case '/.well-known/jwks.json':
        issuer.counts.jwks += 1;
        if (issuer.jwksDown) return void res.socket?.destroy();
        return json(
          res,
          200,
          { keys: issuer.keys.map((key) => key.publicKey().toJWK()) },
          { 'cache-control': issuer.jwksCacheControl },
        );
      case '/api/revocations': {
        issuer.counts.snapshot += 1;
        if (issuer.feedDown) return json(res, 503, { error: 'down' });
        if (!authorized(req)) return json(res, 401, { error: 'invalid_token' });
        const since = url.searchParams.get('since');
        const after = since === null ? 0 : Number(since);
        const page = entries.filter((e) => Number(e.id) > after);
        return json(res, 200, {
          entries: page,
          cursor: String(nextId - 1),
          has_more: false,
          snapshot: since === null,
        });
      }
      case '/api/revocations/stream': {
        issuer.counts.stream += 1;
        if (issuer.feedDown) return json(res, 503, { error: 'down' });
        if (!authorized(req)) return json(res, 401, { error: 'invalid_token' });
        const last = req.headers['last-event-id'];
        issuer.streamResumes.push(typeof last === 'string' ? last : undefined);
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
        });
        res.write('retry: 2000\n\n');
        if (issuer.resetOnConnect) res.write(`event: reset\ndata: {"cursor":"0"}\n\n`);
        const after = typeof last === 'string' ? Number(last) : 0;
        for (const entry of entries.filter((e) => Number(e.id) > after)) {
          res.write(`event: revocation\nid: ${entry.id}\ndata: ${JSON.stringify(entry)}\n\n`);
        }
        streams.add(res);
        req.on('close', () => streams.delete(res));
        return undefined;
      }
      default:
        return json(res, 404, { error: 'not_found' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return issuer;
}
