/**
 * Publication for verifiers: `GET /.well-known/jwks.json` (RFC 7517 §5) with a `Cache-Control: max-age` derived
 * from the rotation schedule, and the issuer metadata at `/.well-known/oauth-authorization-server` (RFC 8414) and
 * `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4, for libraries that only look there).
 * The metadata lists only what is true of Jot: it issues no ID tokens and has no authorization endpoint, so the
 * OIDC members for those are absent. Jot's own members (`login_endpoint`, `revocation_feed_endpoint`, …) are
 * described in docs/keys.md.
 */
import type { FastifyInstance } from 'fastify';

/** Paths of the endpoints the metadata advertises (relative to the issuer). */
export interface JwksPluginOptions {
  endpoints?: Partial<
    Record<'token' | 'introspection' | 'login' | 'revocationFeed' | 'revocationStream', string>
  >;
}

const DEFAULT_ENDPOINTS = {
  token: '/api/token/refresh',
  introspection: '/api/introspect',
  login: '/api/login',
  revocationFeed: '/api/revocations',
  revocationStream: '/api/revocations/stream',
} as const;

const jwksSchema = {
  type: 'object',
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kty', 'kid', 'alg', 'use'],
        properties: {
          kty: { type: 'string' },
          kid: { type: 'string' },
          alg: { type: 'string' },
          use: { type: 'string' },
        },
        additionalProperties: { type: 'string' },
      },
    },
  },
} as const;

const uri = { type: 'string', format: 'uri' } as const;

const metadataSchema = {
  type: 'object',
  required: ['issuer', 'jwks_uri'],
  properties: {
    issuer: uri,
    jwks_uri: uri,
    token_endpoint: uri,
    introspection_endpoint: uri,
    access_token_signing_alg_values_supported: { type: 'array', items: { type: 'string' } },
    subject_types_supported: { type: 'array', items: { type: 'string' } },
    login_endpoint: uri,
    revocation_feed_endpoint: uri,
    revocation_stream_endpoint: uri,
  },
} as const;

/** Registers the JWKS and the two metadata documents. */
export async function jwksPlugin(app: FastifyInstance, options: JwksPluginOptions = {}): Promise<void> {
  const { config, keys } = app.jot;
  const endpoints = { ...DEFAULT_ENDPOINTS, ...options.endpoints };
  // Endpoint URLs are the issuer URL plus the path (the issuer is the server's public base URL, RFC 8414 §2).
  const base = config.issuer.replace(/\/+$/, '');
  const url = (path: string): string => `${base}${path}`;

  function cacheControl(): string {
    return `public, max-age=${keys.jwksMaxAgeSeconds()}`;
  }

  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['discovery'],
        summary: 'The public signing keys (pending, active, and retired until their tokens expire).',
        description: 'HMAC (HS*) keys are never published: verifying HS tokens needs the shared secret.',
        response: { 200: jwksSchema },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', cacheControl());
      return keys.jwks();
    },
  );

  function metadata(): Record<string, unknown> {
    const algs = [...new Set(keys.list().map((k) => k.alg))].sort();
    return {
      issuer: config.issuer,
      jwks_uri: url('/.well-known/jwks.json'),
      token_endpoint: url(endpoints.token),
      introspection_endpoint: url(endpoints.introspection),
      // Not registered in RFC 8414: the algorithms of the access tokens Jot signs (verifiers' allow-list).
      access_token_signing_alg_values_supported: algs,
      // Every client sees the same `sub` for a user (OIDC Core §8).
      subject_types_supported: ['public'],
      login_endpoint: url(endpoints.login),
      revocation_feed_endpoint: url(endpoints.revocationFeed),
      revocation_stream_endpoint: url(endpoints.revocationStream),
    };
  }

  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(
      path,
      {
        schema: {
          tags: ['discovery'],
          summary: 'Issuer metadata: issuer, jwks_uri, endpoints and the access-token signing algorithms.',
          response: { 200: metadataSchema },
        },
      },
      async (_request, reply) => {
        reply.header('cache-control', cacheControl());
        return metadata();
      },
    );
  }
}
