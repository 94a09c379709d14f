/**
 * The publication and operations routes over HTTP (`app.inject`): JWKS with its Cache-Control, issuer metadata,
 * admin key rotation, health probes, metrics and the OpenAPI document — on a small Fastify built here with the
 * decorations these plugins need, over a real SQLite store and an injected clock.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { KeySet, createVerifier } from '@jot/jose';

import type { Config } from '../src/config/index.js';
import type { ServerContext } from '../src/context.js';
import { createServerDPoP } from '../src/services/dpop.js';
import { createMfaServices } from '../src/services/mfa-services.js';
import { installDrain } from '../src/http/drain.js';
import { installErrorHandlers } from '../src/http/error-handler.js';
import { errorSchema } from '../src/http/schemas.js';
import { KeyError } from '../src/keys/errors.js';
import { createKeyManager } from '../src/keys/key-manager.js';
import type { KeyManager } from '../src/keys/types.js';
import { adminKeysPlugin } from '../src/plugins/admin-keys.js';
import { healthPlugin } from '../src/plugins/health.js';
import { jwksPlugin } from '../src/plugins/jwks.js';
import { metricsPlugin } from '../src/plugins/metrics.js';
import { openapiPlugin } from '../src/plugins/openapi.js';
import { createMetrics } from '../src/services/metrics.js';
import type { Metrics } from '../src/services/metrics.js';
import { createTokenService } from '../src/services/tokens.js';
import type { TokenService } from '../src/services/tokens.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/index.js';

const ISSUER = 'https://auth.example.com';
const MINUTE = 60_000;

const config = {
  issuer: ISSUER,
  audience: ['https://api.example.com'],
  kek: randomBytes(32),
  signingAlg: 'ES256',
  accessTokenTtlMs: 15 * MINUTE,
  clockToleranceMs: 5_000,
  keyRotationIntervalMs: 30 * 24 * 60 * MINUTE,
  keyPrepublishMs: 60 * MINUTE,
  jwksMaxAgeMs: 10 * MINUTE,
  stepUpMaxAgeMs: 15 * MINUTE,
  mfaRequired: 'none',
  mfaTokenTtlMs: 5 * MINUTE,
  mfaAccountLimit: { max: 10, windowMs: 15 * MINUTE },
  webauthnRpId: 'auth.example.com',
  webauthnRpName: 'Jot',
  webauthnOrigins: [ISSUER],
  dpopAlgorithms: ['ES256'],
  dpopProofMaxAgeMs: MINUTE,
  dpopNonce: false,
} satisfies Partial<Config>;

interface Harness {
  app: FastifyInstance;
  keys: KeyManager;
  tokens: TokenService;
  metrics: Metrics;
  events: { type: string; facts: unknown }[];
}

/** The decorations the plugins read from `app.jot`, the rest left out. */
async function buildTestApp(store: Store, clock: () => number, keys: KeyManager): Promise<Harness> {
  const tokens = createTokenService(
    keys,
    { issuer: ISSUER, audience: config.audience, accessTokenTtlSeconds: 900, clockToleranceSeconds: 5 },
    clock,
  );
  const events: Harness['events'] = [];
  const record = (type: string, facts: unknown) => {
    events.push({ type, facts });
    return Promise.resolve();
  };
  const recordOncePerSession = (type: string, facts: unknown) => {
    events.push({ type, facts });
    return Promise.resolve(true);
  };
  const context = {
    config,
    store,
    clock,
    keys,
    tokens,
    // Nothing is revoked here; the check hands back the caller's user row as the real one does.
    revocations: {
      check: () => Promise.resolve({ user: { id: 'u1', status: 'active' }, session: { id: 's1' } }),
    },
    dpop: createServerDPoP({
      config: config as unknown as Config,
      store,
      redis: undefined,
      clock,
      onRedisError: () => undefined,
    }),
    scopes: { supported: () => Promise.resolve(['orders:read', 'profile']) },
    events: { record, recordOncePerSession, recordAboutUser: recordOncePerSession },
    mfa: createMfaServices({
      store,
      keys,
      config: config as unknown as Config,
      clock,
      events: { record, recordOncePerSession, recordAboutUser: recordOncePerSession },
    }),
  };
  const metrics = createMetrics();
  const app = Fastify({
    logger: false,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
  });
  app.decorate('jot', context as unknown as ServerContext);
  app.decorateRequest('auth', undefined);
  app.addSchema(errorSchema);
  installErrorHandlers(app);
  installDrain(app);
  await app.register(openapiPlugin, { version: '1.2.3' });
  await app.register(metricsPlugin, { metrics });
  await app.register(healthPlugin);
  await app.register(jwksPlugin);
  await app.register(adminKeysPlugin);
  // Registered after the OpenAPI plugin, in its own context: must still be documented.
  await app.register(async (child) => {
    child.get(
      '/late/:id',
      {
        schema: {
          summary: 'late route',
          params: { type: 'object', properties: { id: { type: 'string' } } },
          querystring: { type: 'object', required: ['q'], properties: { q: { type: 'integer' } } },
          response: { 200: { type: 'object', properties: { id: { type: 'string' } } } },
        },
      },
      async (request) => ({ id: (request.params as { id: string }).id }),
    );
    child.get('/hidden', { schema: { hide: true } }, async () => ({}));
  });
  await app.ready();
  return { app, keys, tokens, metrics, events };
}

describe('discovery, admin keys, health, metrics and OpenAPI routes', () => {
  let dir: string;
  let store: Store;
  let now: number;
  const clock = (): number => now;
  let h: Harness;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jot-discovery-'));
    store = await openStore({ dataDir: dir });
    now = Date.UTC(2030, 0, 1);
    const keys = await createKeyManager({ store, config, clock, tickIntervalMs: 0 });
    h = await buildTestApp(store, clock, keys);
  });

  afterEach(async () => {
    await h.app.close();
    h.keys.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function bearer(roles: string[]): Promise<{ authorization: string }> {
    const { token } = await h.tokens.issue({
      userId: 'u1',
      sessionId: 's1',
      tokenVersion: 1,
      authTime: now,
      roles,
    });
    return { authorization: `Bearer ${token}` };
  }

  it('serves the JWKS with a schedule-derived Cache-Control, usable by a verifier', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=600');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const jwks = res.json();
    expect(jwks).toEqual(h.keys.jwks());
    expect(jwks.keys[0]).not.toHaveProperty('d');

    const { token } = await h.tokens.issue({
      userId: 'u1',
      sessionId: 's1',
      tokenVersion: 1,
      authTime: now,
      roles: [],
    });
    const verify = createVerifier(KeySet.fromJWKS(jwks), { algorithms: ['ES256'], issuer: ISSUER });
    expect(verify(token, { currentDate: new Date(now) }).payload.sub).toBe('u1');
  });

  it('serves RFC 8414 metadata with only true members, and no OpenID Provider document', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=600');
    const methods = [
      'private_key_jwt',
      'client_secret_jwt',
      'client_secret_basic',
      'client_secret_post',
      'none',
    ];
    const algs = res.json().token_endpoint_auth_signing_alg_values_supported as string[];
    expect(algs).toEqual(expect.arrayContaining(['ES256', 'RS256', 'PS256', 'HS256', 'EdDSA']));
    expect(algs.map((a) => a.toLowerCase())).not.toContain('none');
    // A client secret as the server issues it (43 characters) is too short a key for HS384 and HS512.
    expect(algs).not.toContain('HS384');
    expect(algs).not.toContain('HS512');
    expect(res.json()).toEqual({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      token_endpoint: `${ISSUER}/oauth/token`,
      token_endpoint_auth_methods_supported: methods,
      token_endpoint_auth_signing_alg_values_supported: algs,
      grant_types_supported: [
        'client_credentials',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:token-exchange',
      ],
      response_types_supported: [],
      scopes_supported: ['orders:read', 'profile'],
      revocation_endpoint: `${ISSUER}/oauth/revoke`,
      revocation_endpoint_auth_methods_supported: methods,
      revocation_endpoint_auth_signing_alg_values_supported: algs,
      introspection_endpoint: `${ISSUER}/oauth/introspect`,
      introspection_endpoint_auth_methods_supported: methods,
      introspection_endpoint_auth_signing_alg_values_supported: algs,
      dpop_signing_alg_values_supported: ['ES256'],
      access_token_signing_alg_values_supported: ['ES256'],
      login_endpoint: `${ISSUER}/api/login`,
      revocation_feed_endpoint: `${ISSUER}/api/revocations`,
      revocation_stream_endpoint: `${ISSUER}/api/revocations/stream`,
    });
    const oidc = await h.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    expect(oidc.statusCode).toBe(404);
  });

  describe('admin keys', () => {
    it('requires an admin token', async () => {
      const anonymous = await h.app.inject({ method: 'GET', url: '/api/admin/keys' });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json()).toMatchObject({ code: 'ERR_AUTH_REQUIRED' });
      const user = await h.app.inject({
        method: 'POST',
        url: '/api/admin/keys/rotate',
        headers: await bearer(['user']),
        payload: {},
      });
      expect(user.statusCode).toBe(403);
      expect(user.json()).toMatchObject({ code: 'ERR_FORBIDDEN', error: 'insufficient_scope' });
    });

    it('lists keys with their state and no key material', async () => {
      const res = await h.app.inject({
        method: 'GET',
        url: '/api/admin/keys',
        headers: await bearer(['admin']),
      });
      expect(res.statusCode).toBe(200);
      const [key] = res.json().keys;
      expect(key).toEqual({
        kid: h.keys.activeKey().kid,
        alg: 'ES256',
        state: 'active',
        created_at: new Date(now).toISOString(),
        activates_at: new Date(now).toISOString(),
        retired_at: null,
        expires_at: null,
      });
    });

    it('rotates with a pre-published key (201), published in the JWKS before it signs', async () => {
      const before = h.keys.activeKey().kid;
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/admin/keys/rotate',
        headers: await bearer(['admin']),
        payload: {},
      });
      expect(res.statusCode).toBe(201);
      const created = res.json();
      expect(created).toMatchObject({
        state: 'pending',
        activates_at: new Date(now + 60 * MINUTE).toISOString(),
      });
      expect(h.keys.activeKey().kid).toBe(before);
      const jwks = (await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
      expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([created.kid, before]);
      expect(h.events).toEqual([
        { type: 'key_rotated', facts: expect.objectContaining({ userId: 'u1', detail: expect.anything() }) },
      ]);
    });

    it('rotates immediately on request, and without a body', async () => {
      const urgent = await h.app.inject({
        method: 'POST',
        url: '/api/admin/keys/rotate',
        headers: await bearer(['admin']),
        payload: { immediate: true },
      });
      expect(urgent.statusCode).toBe(201);
      expect(urgent.json().state).toBe('active');
      expect(h.keys.activeKey().kid).toBe(urgent.json().kid);
      const bodiless = await h.app.inject({
        method: 'POST',
        url: '/api/admin/keys/rotate',
        headers: await bearer(['admin']),
      });
      expect(bodiless.statusCode).toBe(201);
      expect(bodiless.json().state).toBe('pending');
    });

    it('rejects a bad body with a 400 before rotating', async () => {
      for (const payload of [{ immediate: 'soon' }, { immediate: true, extra: 1 }]) {
        const res = await h.app.inject({
          method: 'POST',
          url: '/api/admin/keys/rotate',
          headers: await bearer(['admin']),
          payload,
        });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ code: 'ERR_VALIDATION', error: 'invalid_request' });
      }
      expect(h.keys.list()).toHaveLength(1);
    });
  });

  describe('health', () => {
    it('answers liveness and readiness', async () => {
      const live = await h.app.inject({ method: 'GET', url: '/healthz' });
      expect([live.statusCode, live.json()]).toEqual([200, { status: 'ok' }]);
      const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
      expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ok' }]);
    });

    it('is not ready the moment a shutdown begins, while still alive', async () => {
      h.app.drain.start();
      const res = await h.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.json()).toMatchObject({
        error_description: 'not ready: the server is shutting down',
        code: 'ERR_UNAVAILABLE',
      });
      expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    });

    it('is not ready (503, common error shape) when the store does not answer', async () => {
      await store.close();
      const res = await h.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        error: 'server_error',
        error_description: 'not ready: the database does not answer',
        code: 'ERR_UNAVAILABLE',
      });
      expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    });

    it('is not ready when no signing key is active', async () => {
      const noKey = {
        ...h.keys,
        activeKey: () => {
          throw new KeyError('ERR_KEY_NO_ACTIVE', 'no signing key is active');
        },
      };
      const other = await buildTestApp(store, clock, noKey);
      try {
        const res = await other.app.inject({ method: 'GET', url: '/readyz' });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toMatchObject({
          code: 'ERR_UNAVAILABLE',
          error_description: 'not ready: no signing key is active',
        });
      } finally {
        await other.app.close();
      }
    });
  });

  it('exposes Prometheus metrics from its own registry, labelled by route pattern', async () => {
    await h.app.inject({ method: 'GET', url: '/healthz' });
    await h.app.inject({ method: 'GET', url: '/late/abc?q=1' });
    await h.app.inject({ method: 'GET', url: '/no/such/path' });
    const res = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('jot_http_requests_total{method="GET",route="/healthz",status="200"} 1');
    expect(res.body).toContain('jot_http_requests_total{method="GET",route="/late/:id",status="200"} 1');
    expect(res.body).toContain('jot_http_requests_total{method="GET",route="(unmatched)",status="404"} 1');
    expect(res.body).toContain('jot_http_request_duration_seconds_bucket');
    expect(res.body).not.toContain('/no/such/path');
    // The feature counters are driven by real requests in metrics.test.ts.
  });

  describe('OpenAPI', () => {
    it('documents every route, including those registered after the plugin', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(res.statusCode).toBe(200);
      const doc = res.json();
      expect(doc).toMatchObject({
        openapi: '3.1.0',
        info: { title: 'Jot', version: '1.2.3' },
        servers: [{ url: ISSUER }],
      });
      expect(Object.keys(doc.paths).sort()).toEqual([
        '/.well-known/jwks.json',
        '/.well-known/oauth-authorization-server',
        '/api/admin/keys',
        '/api/admin/keys/rotate',
        '/api/admin/keys/{kid}/withdraw',
        '/healthz',
        '/late/{id}',
        '/metrics',
        '/openapi.json',
        '/readyz',
      ]);
      expect(Object.keys(doc.paths['/healthz'])).toEqual(['get']);
    });

    it('turns route schemas into parameters, request bodies, responses and resolvable refs', async () => {
      const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const late = doc.paths['/late/{id}'].get;
      expect(late.summary).toBe('late route');
      expect(late.parameters).toEqual([
        { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'q', in: 'query', required: true, schema: { type: 'integer' } },
      ]);
      const rotate = doc.paths['/api/admin/keys/rotate'].post;
      expect(rotate.security).toEqual([{ bearerAuth: [] }]);
      expect(rotate.requestBody).toMatchObject({
        required: false,
        content: { 'application/json': { schema: { type: 'object' } } },
      });
      expect(rotate.responses['201'].description).toBe('Created');
      expect(rotate.responses['401'].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/JotError',
      });
      expect(doc.components.schemas.JotError).toMatchObject({
        required: ['error', 'error_description', 'code'],
      });
      expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(doc.paths['/metrics'].get.responses['200'].content).toHaveProperty('text/plain');
      expect(JSON.stringify(doc)).not.toMatch(/"\$ref":"(?!#\/components\/schemas\/)/);
    });
  });
});
