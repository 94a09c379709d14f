/**
 * Publication for verifiers and OAuth clients: `GET /.well-known/jwks.json` (RFC 7517 §5) with a
 * `Cache-Control: max-age` derived from the rotation schedule, and the authorization-server metadata at
 * `/.well-known/oauth-authorization-server` (RFC 8414). It lists only what is true of Jot: the token, revocation and
 * introspection endpoints with their client authentication methods and assertion algorithms, the grants Jot
 * supports, and — as RFC 8414 §2 requires `response_types_supported` — an empty list of response types, since Jot
 * has no authorization endpoint. `/.well-known/openid-configuration` is not served: Jot is not an OpenID Provider
 * (no authorization endpoint, no ID tokens), and a document claiming otherwise would mislead OIDC clients.
 * Jot's own members (`login_endpoint`, `revocation_feed_endpoint`, …) are described in docs/keys.md.
 */
import type { FastifyInstance } from 'fastify';

import { ENDPOINTS, WELL_KNOWN, type AuthorizationServerMetadata } from '@jot/contract';
import { importSecret, SUPPORTED_ALGORITHMS } from '@jot/jose';

import { AUTH_METHODS, GRANT_TYPES } from '../services/client-rules.js';
import { SECRET_CHARS } from '../services/secrets.js';

/** Paths of the endpoints the metadata advertises (relative to the issuer). */
export interface JwksPluginOptions {
  endpoints?: Partial<
    Record<'token' | 'revocation' | 'introspection' | 'login' | 'revocationFeed' | 'revocationStream', string>
  >;
}

const DEFAULT_ENDPOINTS = {
  token: ENDPOINTS.token,
  revocation: ENDPOINTS.revocation,
  introspection: ENDPOINTS.introspection,
  login: ENDPOINTS.login,
  revocationFeed: ENDPOINTS.revocationFeed,
  revocationStream: ENDPOINTS.revocationStream,
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

const strings = { type: 'array', items: { type: 'string' } } as const;

/** JSON schema of the RFC 8414 metadata document (the contract's `AuthorizationServerMetadata`). */
export const metadataSchema = {
  type: 'object',
  required: ['issuer', 'jwks_uri', 'response_types_supported'],
  properties: {
    issuer: uri,
    jwks_uri: uri,
    token_endpoint: uri,
    token_endpoint_auth_methods_supported: strings,
    token_endpoint_auth_signing_alg_values_supported: strings,
    grant_types_supported: strings,
    response_types_supported: strings,
    scopes_supported: strings,
    revocation_endpoint: uri,
    revocation_endpoint_auth_methods_supported: strings,
    revocation_endpoint_auth_signing_alg_values_supported: strings,
    introspection_endpoint: uri,
    introspection_endpoint_auth_methods_supported: strings,
    introspection_endpoint_auth_signing_alg_values_supported: strings,
    access_token_signing_alg_values_supported: strings,
    dpop_signing_alg_values_supported: strings,
    login_endpoint: uri,
    revocation_feed_endpoint: uri,
    revocation_stream_endpoint: uri,
  },
} as const;

/**
 * Client assertion algorithms (RFC 7523): every asymmetric one and, for `client_secret_jwt`, the HMAC ones a client
 * secret as this server issues it is long enough for (RFC 7518 §3.2: a key at least as long as the hash; a
 * 43-character secret allows HS256 only); never `none`. What the metadata lists, a client can use.
 */
const ASSERTION_ALGS: readonly string[] = [
  ...SUPPORTED_ALGORITHMS.filter((alg) => !alg.startsWith('HS')),
  ...importSecret(Buffer.alloc(SECRET_CHARS, 'x')).algorithms,
].sort();

/** Registers the JWKS and the metadata document. */
export async function jwksPlugin(app: FastifyInstance, options: JwksPluginOptions = {}): Promise<void> {
  const { keys } = app.jot;
  const endpoints = { ...DEFAULT_ENDPOINTS, ...options.endpoints };

  function cacheControl(): string {
    return `public, max-age=${keys.jwksMaxAgeSeconds()}`;
  }

  app.get(
    WELL_KNOWN.jwks,
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

  app.get(
    WELL_KNOWN.authorizationServer,
    {
      schema: {
        tags: ['discovery'],
        summary:
          'RFC 8414 authorization-server metadata: endpoints, grants, client authentication, algorithms.',
        response: { 200: metadataSchema },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', cacheControl());
      return metadata(app, endpoints);
    },
  );
}

/** The RFC 8414 metadata document of this server, its endpoint paths from `endpoints`. */
async function metadata(
  app: FastifyInstance,
  endpoints: Record<keyof typeof DEFAULT_ENDPOINTS, string>,
): Promise<AuthorizationServerMetadata> {
  const { config, keys, scopes } = app.jot;
  // Endpoint URLs are the issuer URL plus the path (the issuer is the server's public base URL, RFC 8414 §2).
  const base = config.issuer.replace(/\/+$/, '');
  const url = (path: string): string => `${base}${path}`;
  const algs = [...new Set(keys.list().map((k) => k.alg))].sort();
  const methods = [...AUTH_METHODS];
  return {
    issuer: config.issuer,
    jwks_uri: url(WELL_KNOWN.jwks),
    token_endpoint: url(endpoints.token),
    token_endpoint_auth_methods_supported: methods,
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    grant_types_supported: [...GRANT_TYPES],
    response_types_supported: [],
    scopes_supported: await scopes.supported(),
    revocation_endpoint: url(endpoints.revocation),
    revocation_endpoint_auth_methods_supported: methods,
    revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    introspection_endpoint: url(endpoints.introspection),
    introspection_endpoint_auth_methods_supported: methods,
    introspection_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    // RFC 9449 §5.1: the proof algorithms the token endpoint accepts.
    dpop_signing_alg_values_supported: [...config.dpopAlgorithms],
    // Not registered in RFC 8414: the algorithms of the access tokens Jot signs (verifiers' allow-list).
    access_token_signing_alg_values_supported: algs,
    login_endpoint: url(endpoints.login),
    revocation_feed_endpoint: url(endpoints.revocationFeed),
    revocation_stream_endpoint: url(endpoints.revocationStream),
  };
}
