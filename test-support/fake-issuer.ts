/**
 * The fake Jot issuer the `@jot/verify` and `@jot/client` suites share, on `node:http`: discovery metadata
 * (RFC 8414 / OIDC Discovery), the JWKS, the revocation feed, and the first-party session endpoints — all speaking
 * `@jot/contract`'s wire shapes, with real tokens from one {@link TokenIssuer}, so a token a client signs in for
 * verifies against the JWKS a resource server fetches. It counts fetches, can go down, drops SSE connections and
 * signs with keys the test controls. Tests that run on fake timers use the session API in memory
 * (`fakeServer` in session-api.ts) instead of this server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { ENDPOINTS, WELL_KNOWN, type AuthorizationServerMetadata } from '@jot/contract';

import { createRevocationFeed, type RevocationFeed } from './revocation-feed.js';
import { fakeServer, type FakeServer } from './session-api.js';
import { createTokenIssuer, type TokenIssuer } from './token-issuer.js';

export { AUDIENCE, csrfHash } from './token-issuer.js';
export { SECRET } from './revocation-feed.js';

export interface FakeIssuer {
  /** Where the issuer listens: the `iss` of its tokens. */
  readonly url: string;
  /** Keys, token signing and the JWKS: `tokens.sign(…)`, `tokens.rotate(…)`, `tokens.keys`. */
  tokens: TokenIssuer;
  /** The revocation feed and its faults: `feed.revoke(…)`, `feed.feedDown`, `feed.counts.stream`, … */
  feed: Omit<RevocationFeed, 'page' | 'stream'>;
  /** Fetches of the JWKS and of the discovery metadata. */
  counts: { jwks: number; metadata: number };
  /** `Cache-Control` of the JWKS. */
  jwksCacheControl: string;
  /** The JWKS request's connection is destroyed. */
  jwksDown: boolean;
  /** The session endpoints (sign-in, refresh, whoami, …), signing with this issuer's keys. */
  session: FakeServer;
  close(): Promise<void>;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Hands a `node:http` request to a `fetch`-style handler and writes its answer back. */
async function forward(req: IncomingMessage, res: ServerResponse, url: URL, api: FakeServer): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const one of Array.isArray(value) ? value : [value ?? '']) headers.append(name, one);
  }
  const method = req.method ?? 'GET';
  const body = method === 'GET' || method === 'HEAD' ? undefined : Buffer.concat(chunks);
  const answer = await api.fetch(url, { method, headers, body });
  const out: Record<string, string> = {};
  answer.headers.forEach((value, name) => (out[name] = value));
  res.writeHead(answer.status, out);
  res.end(Buffer.from(await answer.arrayBuffer()));
}

/** The members of the server's metadata a resource server reads (the fake publishes only these). */
type ResourceServerMetadata = Pick<
  AuthorizationServerMetadata,
  'issuer' | 'jwks_uri' | 'introspection_endpoint' | 'revocation_feed_endpoint' | 'revocation_stream_endpoint'
>;

function metadata(url: string): ResourceServerMetadata {
  return {
    issuer: url,
    jwks_uri: `${url}${WELL_KNOWN.jwks}`,
    introspection_endpoint: `${url}${ENDPOINTS.introspection}`,
    revocation_feed_endpoint: `${url}${ENDPOINTS.revocationFeed}`,
    revocation_stream_endpoint: `${url}${ENDPOINTS.revocationStream}`,
  };
}

export async function startFakeIssuer(options: { ttlSeconds?: number } = {}): Promise<FakeIssuer> {
  const tokens = createTokenIssuer();
  const feed = createRevocationFeed();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer.url);
    switch (url.pathname) {
      case WELL_KNOWN.openidConfiguration:
        issuer.counts.metadata += 1;
        return json(res, 200, metadata(issuer.url));
      case WELL_KNOWN.jwks:
        issuer.counts.jwks += 1;
        if (issuer.jwksDown) return void res.socket?.destroy();
        return json(res, 200, tokens.jwks(), { 'cache-control': issuer.jwksCacheControl });
      case ENDPOINTS.revocationFeed:
        return feed.page(req, res, url);
      case ENDPOINTS.revocationStream:
        return feed.stream(req, res);
      default:
        return void forward(req, res, url, issuer.session).catch(() => res.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Tokens carry the listening URL as their `iss`, which is only known now.
  tokens.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer: FakeIssuer = {
    url: tokens.url,
    tokens,
    feed,
    counts: { jwks: 0, metadata: 0 },
    jwksCacheControl: 'public, max-age=600',
    jwksDown: false,
    session: fakeServer(options.ttlSeconds ?? 60, tokens),
    close() {
      feed.dropStreams();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return issuer;
}
