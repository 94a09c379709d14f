/**
 * `strict` revocation through Redis, against the real Jot server mirroring its list into Redis (`JOT_REDIS_URL`):
 * logout, logout-all, role change and disable are each refused on the very next request; an unreachable or slow
 * Redis fails closed (or open with `failOpen`); misuse is a `TypeError` when the verifier is built. In CI a missing
 * Redis fails this file; elsewhere the Redis suite is skipped with a visible message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';

import { redisNames, type RedisNames } from '@jot/contract';
import { decodeUnverified } from '@jot/jose';

import { signUp, startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { requireRedis, TEST_REDIS_URL } from '../../server/test/support/redis.js';
import { createVerifier, type Verifier, type VerifierOptions } from '../src/index.js';
import type { RedisClientLike } from '../src/revocation/redis.js';
import { outcomeOf } from './support/outcome.js';
import { recordingLogger } from './support/wait.js';

const REDIS_URL = TEST_REDIS_URL;
const DOWN_URL = 'redis://127.0.0.1:1';
const SECRET = 'redis-strict-revocation-secret-0123456789';
const ISSUER = 'http://jot.test'; // TEST_SETTINGS' issuer
const PASSWORD = 'correct horse battery';
/** The server's completeness marker (`<namespace>:rev:complete`), as a mocked Redis answers it. */
const COMPLETE = '{"cursor":1}';

const available = await requireRedis('the Redis strict-revocation tests');

let server: TestServer;
const verifiers: Verifier[] = [];

afterAll(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  await server?.close();
});

function build(revocation: VerifierOptions['revocation'], logger = recordingLogger()): Verifier {
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: ISSUER,
    jwksUri: `${server.url}/.well-known/jwks.json`,
    revocation,
    logger,
  });
  verifiers.push(verifier);
  return verifier;
}

const claimsOf = (token: string) =>
  decodeUnverified(token).payload as { jti: string; sid: string; sub: string; iat: number };

const bearer = (token: string) => ({ method: 'GET', headers: { authorization: `Bearer ${token}` } });

describe.runIf(available)('strict through Redis, against the real server', () => {
  let redis: Redis;
  let admin: Awaited<ReturnType<typeof signUp>>;
  let verifier: Verifier;
  /** The server's JOT_REDIS_NAMESPACE (the test server's own) and its keys. */
  let namespace: string;
  let keys: RedisNames;

  beforeAll(async () => {
    server = await startServer({ redisUrl: REDIS_URL, revocationSecret: SECRET });
    namespace = server.config.redisNamespace;
    keys = redisNames(namespace);
    admin = await signUp(server, 'admin@example.com'); // the first account is the admin
    redis = new Redis(REDIS_URL);
    verifier = build({ strategy: 'strict', redis: REDIS_URL, namespace });
    await verifier.ready();
  });
  afterAll(() => {
    redis?.disconnect();
  });

  it('accepts a live token, and refuses it on the very next request after logout', async () => {
    const { access_token: token } = await signUp(server, 'logout@example.com');
    expect(await outcomeOf(verifier.verify(token))).toBe('accepted');
    expect((await server.request('POST', '/api/logout', { token })).status).toBe(204);
    expect(await outcomeOf(verifier.verify(token))).toBe('ERR_TOKEN_REVOKED jti');
    expect(verifier.stats().revocation).toMatchObject({ strategy: 'strict', stale: false, failClosed: 0 });
  });

  it('logout-all: every earlier token is refused next request, by its session and by the cut-off', async () => {
    const first = await signUp(server, 'everywhere@example.com');
    const second = await server.request('POST', '/api/login', {
      body: { email: 'everywhere@example.com', password: PASSWORD },
    });
    const token = second.body.access_token as string;
    expect(await outcomeOf(verifier.verify(token))).toBe('accepted');
    expect((await server.request('POST', '/api/logout-all', { token: first.access_token })).status).toBe(204);
    expect(await outcomeOf(verifier.verify(token))).toBe('ERR_TOKEN_REVOKED session');
    // The per-user cut-off alone (valid_after) refuses it too.
    await redis.del(keys.sid(claimsOf(token).sid));
    expect(await outcomeOf(verifier.verify(token))).toBe('ERR_TOKEN_REVOKED cutoff');
    const again = await server.request('POST', '/api/login', {
      body: { email: 'everywhere@example.com', password: PASSWORD },
    });
    expect(await outcomeOf(verifier.verify(again.body.access_token))).toBe('accepted');
  });

  it('role change: a token carrying the old roles is refused on the next request (token version)', async () => {
    const user = await signUp(server, 'roles@example.com');
    expect(await outcomeOf(verifier.verify(user.access_token))).toBe('accepted');
    const set = await server.request('PUT', `/api/admin/users/${user.userId}/roles`, {
      token: admin.access_token,
      body: { roles: ['editor'] },
    });
    expect(set.status).toBe(200);
    expect(await outcomeOf(verifier.verify(user.access_token))).toBe('ERR_TOKEN_REVOKED version');
    const refreshed = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: user.refresh_token },
    });
    expect(await outcomeOf(verifier.verify(refreshed.body.access_token))).toBe('accepted');
  });

  it('disable: the user is refused on the next request, by session and by the disabled status', async () => {
    const user = await signUp(server, 'disabled@example.com');
    expect(await outcomeOf(verifier.verify(user.access_token))).toBe('accepted');
    const disabled = await server.request('POST', `/api/admin/users/${user.userId}/disable`, {
      token: admin.access_token,
    });
    expect(disabled.status).toBe(200);
    expect(await outcomeOf(verifier.verify(user.access_token))).toBe('ERR_TOKEN_REVOKED session');
    // Without the session's entry the disabled status alone refuses. The mirror may still write the session's entry
    // once more after the answer (a late copy of the same revocation, seen on a loaded machine): delete it until the
    // status is what refuses, within a deadline.
    await expect
      .poll(
        async () => {
          await redis.del(keys.sid(claimsOf(user.access_token).sid));
          return outcomeOf(verifier.verify(user.access_token));
        },
        { timeout: 10_000 },
      )
      .toBe('ERR_TOKEN_REVOKED disabled');
    const result = await verifier.authenticate(bearer(user.access_token));
    expect(result.ok === false && result.response.status).toBe(401);
  });

  it('takes an ioredis client as is, one MGET per verification, and leaves it open on close', async () => {
    const client = new Redis(REDIS_URL);
    try {
      const v = createVerifier({
        issuer: ISSUER,
        audience: ISSUER,
        jwksUri: `${server.url}/.well-known/jwks.json`,
        revocation: { strategy: 'strict', redis: client, namespace },
        logger: recordingLogger(),
      });
      const { access_token: token } = await signUp(server, 'client@example.com');
      expect(await outcomeOf(v.verify(token))).toBe('accepted');
      expect(await outcomeOf(v.verify(token))).toBe('accepted');
      expect(v.stats().revocation).toMatchObject({ requests: 2, failures: 0 });
      await v.close();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('reads only its namespace: a verifier told another one finds no complete mirror there and refuses', async () => {
    const { access_token: token } = await signUp(server, 'namespace@example.com');
    const elsewhere = build({ strategy: 'strict', redis: REDIS_URL, namespace: `${namespace}-other` });
    expect(await outcomeOf(elsewhere.verify(token))).toBe('ERR_VERIFY_REVOCATION_REFUSED redis');
    expect(elsewhere.stats().revocation.lastError).toContain(`${namespace}-other:rev:complete`);
    // The default namespace is not the server's either (the test server has one of its own).
    const byDefault = build({ strategy: 'strict', redis: REDIS_URL });
    expect(await outcomeOf(byDefault.verify(token))).toBe('ERR_VERIFY_REVOCATION_REFUSED redis');
    expect(await outcomeOf(verifier.verify(token))).toBe('accepted');
  });
});

describe('strict through Redis when Redis cannot answer', () => {
  let token: string;
  let claims: ReturnType<typeof claimsOf>;

  beforeAll(async () => {
    server ??= await startServer({ revocationSecret: SECRET });
    ({ access_token: token } = await signUp(server, 'unreachable@example.com'));
    claims = claimsOf(token);
  });

  it('fails closed with 503 when Redis is unreachable, counted, and logs once per outage', async () => {
    const logger = recordingLogger();
    const v = build({ strategy: 'strict', redis: DOWN_URL, timeout: '2s' }, logger);
    for (let i = 0; i < 2; i += 1) {
      const result = await v.authenticate(bearer(token));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error).toMatchObject({ code: 'ERR_VERIFY_REVOCATION_UNAVAILABLE', reason: 'redis' });
        expect(result.response.status).toBe(503);
        expect(result.response.headers['retry-after']).toBe('1');
        expect(result.response.body.error).toBe('temporarily_unavailable');
      }
    }
    expect(v.stats().revocation).toMatchObject({
      strategy: 'strict',
      stale: true,
      failClosed: 2,
      failures: 2,
    });
    expect(v.stats().revocation.lastError).toEqual(expect.any(String));
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(logger.lines[0]?.message).toMatch(/failing closed/);
  });

  it('accepts verified tokens when Redis is unreachable with failOpen, counted', async () => {
    const logger = recordingLogger();
    const v = build({ strategy: 'strict', redis: DOWN_URL, failOpen: true, timeout: '2s' }, logger);
    expect(await outcomeOf(v.verify(token))).toBe('accepted');
    expect(v.stats().revocation).toMatchObject({ failOpen: 1, failClosed: 0, stale: true });
    expect(logger.lines[0]?.message).toMatch(/failing open/);
  });

  it('fails closed when Redis answers slower than timeout, and logs once when it is back', async () => {
    let hang = true;
    const calls: string[][] = [];
    const client: RedisClientLike = {
      mget(...keys) {
        calls.push(keys);
        return hang ? new Promise(() => {}) : Promise.resolve([null, null, null, COMPLETE]);
      },
    };
    const logger = recordingLogger();
    const v = build({ strategy: 'strict', redis: client, timeout: '30ms' }, logger);
    expect(await outcomeOf(v.verify(token))).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE redis');
    expect(await outcomeOf(v.verify(token))).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE redis');
    hang = false;
    expect(await outcomeOf(v.verify(token))).toBe('accepted');
    expect(calls[2]).toEqual([
      `jot:rev:jti:${claims.jti}`,
      `jot:rev:sid:${claims.sid}`,
      `jot:rev:user:${claims.sub}`,
      'jot:rev:complete',
    ]);
    // Under the server's JOT_REDIS_NAMESPACE when told.
    calls.length = 0;
    const billing = build({ strategy: 'strict', redis: client, namespace: 'billing:eu-1' });
    expect(await outcomeOf(billing.verify(token))).toBe('accepted');
    expect(calls[0]).toEqual([
      `billing:eu-1:rev:jti:${claims.jti}`,
      `billing:eu-1:rev:sid:${claims.sid}`,
      `billing:eu-1:rev:user:${claims.sub}`,
      'billing:eu-1:rev:complete',
    ]);
    expect(logger.lines.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(v.stats().revocation).toMatchObject({ stale: false, failClosed: 2, requests: 3 });
  });

  it('applies the replicated rules to the answer: cut-off, version, status', async () => {
    let user: string | null = null;
    const v = build({
      strategy: 'strict',
      redis: { mget: () => Promise.resolve([null, null, user, COMPLETE]) },
    });
    user = JSON.stringify({ valid_after: claims.iat - 1, ver: 0, status: 'active' });
    expect(await outcomeOf(v.verify(token))).toBe('accepted');
    user = JSON.stringify({ valid_after: claims.iat, ver: 0, status: 'active' });
    expect(await outcomeOf(v.verify(token))).toBe('ERR_TOKEN_REVOKED cutoff');
    user = JSON.stringify({ valid_after: 0, ver: 99, status: 'active' });
    expect(await outcomeOf(v.verify(token))).toBe('ERR_TOKEN_REVOKED version');
    user = JSON.stringify({ valid_after: 0, ver: 0, status: 'disabled' });
    expect(await outcomeOf(v.verify(token))).toBe('ERR_TOKEN_REVOKED disabled');
  });

  it('refuses when the mirror is not known to be complete (no marker: Redis lost its data), never accepts', async () => {
    const logger = recordingLogger();
    const v = build(
      { strategy: 'strict', redis: { mget: () => Promise.resolve([null, null, null, null]) } },
      logger,
    );
    expect(await outcomeOf(v.verify(token))).toBe('ERR_VERIFY_REVOCATION_REFUSED redis');
    expect(v.stats().revocation.lastError).toMatch(/jot:rev:complete/);
    // Redis answered: an empty mirror is not an outage, so failOpen does not accept either.
    const open = build({
      strategy: 'strict',
      redis: { mget: () => Promise.resolve([null, null, null, null]) },
      failOpen: true,
    });
    expect(await outcomeOf(open.verify(token))).toBe('ERR_VERIFY_REVOCATION_REFUSED redis');
    expect(open.stats().revocation).toMatchObject({ failOpen: 0, failClosed: 1 });
    // Nor does Redis refusing the credentials (ACL), which a wrong or rotated password looks like.
    const denied = build({
      strategy: 'strict',
      redis: { mget: () => Promise.reject(new Error('WRONGPASS invalid username-password pair')) },
      failOpen: true,
    });
    expect(await outcomeOf(denied.verify(token))).toBe('ERR_VERIFY_REVOCATION_REFUSED redis');
  });

  it('with a secret, asks the introspection endpoint while the mirror is incomplete or Redis is down', async () => {
    const other = await signUp(server, 'fallback@example.com');
    expect((await server.request('POST', '/api/logout', { token: other.access_token })).status).toBe(204);
    const introspect = `${server.url}/api/introspect`;
    const empty = { mget: () => Promise.resolve([null, null, null, null]) };
    const incomplete = build({
      strategy: 'strict',
      redis: empty,
      secret: SECRET,
      introspectionUrl: introspect,
    });
    expect(await outcomeOf(incomplete.verify(token))).toBe('accepted');
    // The empty mirror does not know this logout; the server does.
    expect(await outcomeOf(incomplete.verify(other.access_token))).toBe('ERR_TOKEN_REVOKED inactive');
    const down = build({ strategy: 'strict', redis: DOWN_URL, secret: SECRET, introspectionUrl: introspect });
    expect(await outcomeOf(down.verify(other.access_token))).toBe('ERR_TOKEN_REVOKED inactive');
    expect(await outcomeOf(down.verify(token))).toBe('accepted');
  });

  it('refuses a user value that is not a JSON object, also with failOpen (an answer, not an outage)', async () => {
    for (const odd of ['not json', '"disabled"', '[1]']) {
      const redis = { mget: () => Promise.resolve([null, null, odd, COMPLETE]) };
      expect(await outcomeOf(build({ strategy: 'strict', redis }).verify(token)), odd).toBe(
        'ERR_VERIFY_REVOCATION_REFUSED redis',
      );
      const open = build({ strategy: 'strict', redis, failOpen: true });
      expect(await outcomeOf(open.verify(token)), odd).toBe('ERR_VERIFY_REVOCATION_REFUSED redis');
      expect(open.stats().revocation).toMatchObject({ failOpen: 0 });
    }
  });
});

describe('strict through Redis: misuse is a TypeError when the verifier is built', () => {
  const base = { issuer: ISSUER, audience: ISSUER, jwksUri: 'http://127.0.0.1:9/jwks.json' };
  const make = (revocation: unknown) => () =>
    createVerifier({
      ...base,
      revocation: revocation as VerifierOptions['revocation'],
      logger: recordingLogger(),
    });
  const client = { mget: () => Promise.resolve([null, null, null, COMPLETE]) };

  it('needs redis or a secret; an introspection fallback beside redis needs the secret', () => {
    expect(make({ strategy: 'strict', redis: client, secret: SECRET })).not.toThrow();
    expect(make({ strategy: 'strict', redis: client, introspectionUrl: 'http://127.0.0.1:9/i' })).toThrow(
      /needs "secret"/,
    );
    expect(make({ strategy: 'strict' })).toThrow(/needs "redis".*or "secret"/);
  });

  it('refuses a URL that is not redis:// or rediss://, and an object without mget', () => {
    expect(make({ strategy: 'strict', redis: 'http://127.0.0.1:6379' })).toThrow(TypeError);
    expect(make({ strategy: 'strict', redis: 'not a url' })).toThrow(TypeError);
    expect(make({ strategy: 'strict', redis: {} })).toThrow(/with mget/);
    expect(make({ strategy: 'strict', redis: 6379 })).toThrow(TypeError);
  });

  it('refuses a client with a keyPrefix (every key would miss) and a Cluster', () => {
    expect(make({ strategy: 'strict', redis: { ...client, options: { keyPrefix: 'app:' } } })).toThrow(
      /keyPrefix/,
    );
    expect(make({ strategy: 'strict', redis: { ...client, isCluster: true } })).toThrow(/single Redis/);
  });

  it("refuses a namespace that cannot be the server's, and a namespace without redis", () => {
    for (const bad of ['', 'jot:', 'two words', 'a*', 'x'.repeat(65), 7]) {
      expect(make({ strategy: 'strict', redis: client, namespace: bad }), String(bad)).toThrow(
        /"revocation.namespace"/,
      );
    }
    expect(make({ strategy: 'strict', redis: client, namespace: 'billing:eu-1' })).not.toThrow();
    expect(make({ strategy: 'strict', secret: SECRET, namespace: 'billing' })).toThrow(/it needs "redis"/);
  });

  it('refuses a bad timeout', () => {
    expect(make({ strategy: 'strict', redis: client, timeout: 'soon' })).toThrow(/"timeout"/);
  });

  it('builds without connecting: a URL is only used at the first check', async () => {
    const v = make({ strategy: 'strict', redis: DOWN_URL })();
    expect(v.stats().revocation).toMatchObject({ strategy: 'strict', requests: 0 });
    await v.close();
  });
});
