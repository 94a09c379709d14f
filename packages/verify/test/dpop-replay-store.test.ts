/**
 * Where a verifier remembers DPoP proofs (fix-dpop-replay-memory, review MEDIUM):
 * - In this process's memory (the default) the store is bounded (`dpop.replay: { memory: { maxEntries } }`) and never
 *   forgets a live proof: when it is full a new proof is refused with 503 `ERR_VERIFY_UNAVAILABLE` (`reason` `dpop`),
 *   and the log tells the operator to raise the bound or use Redis. Before, a full store evicted its oldest live
 *   proof, so whoever could send `maxEntries` fresh proofs could then replay a captured one.
 * - Memory is per instance: in production (NODE_ENV=production) the verifier warns once that a proof is accepted once
 *   per instance, unless proofs are remembered in Redis, where two verifiers refuse a replay across them.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';

import { createDPoPProof, generateKeyPair, type RedisSetNX } from '@jot/jose';

import { requireRedis, TEST_REDIS_URL } from '../../server/test/support/redis.js';
import type { DPoPOptions, Verifier, VerifierOptions } from '../src/index.js';
import { dataLogger, type DataLogger } from './support/data-logger.js';
import { useIssuerVerifier } from './support/issuer-verifier.js';

const victim = generateKeyPair('ES256');
const attacker = generateKeyPair('ES256');
const URL_ = 'https://api.test/me';
const harness = useIssuerVerifier();

/** A verifier for this test's issuer, logging to its own `dataLogger` unless given one. */
function verifier(dpop: DPoPOptions | undefined, options: Partial<VerifierOptions> = {}): Verifier {
  return harness.build({ logger: dataLogger(), ...(dpop === undefined ? {} : { dpop }), ...options });
}

const request = (token: string, proof: string) => ({
  url: URL_,
  method: 'GET',
  headers: { authorization: `DPoP ${token}`, dpop: proof },
});

/** `code reason` of a refusal, or `ok`. */
async function outcome(v: Verifier, token: string, proof: string): Promise<string> {
  const result = await v.authenticate(request(token, proof));
  return result.ok
    ? 'ok'
    : `${result.response.status} ${result.error.code} ${result.error.reason ?? ''}`.trim();
}

describe('the in-memory replay store of a verifier', () => {
  it('when full, refuses new proofs with 503 and still refuses a captured proof replayed within its max age', async () => {
    let nowMs = Date.now();
    const logger = dataLogger();
    const v = verifier({ replay: { memory: { maxEntries: 3 } } }, { clock: () => nowMs, logger });
    await v.ready();
    const iat = Math.floor(nowMs / 1000);
    const victimToken = harness.issuer.tokens.sign({ cnf: { jkt: victim.thumbprint() } });
    const attackerToken = harness.issuer.tokens.sign({ cnf: { jkt: attacker.thumbprint() } });
    const captured = createDPoPProof(victim, { htm: 'GET', htu: URL_, accessToken: victimToken, iat });
    expect(await outcome(v, victimToken, captured)).toBe('ok');
    const flood = (): string =>
      createDPoPProof(attacker, { htm: 'GET', htu: URL_, accessToken: attackerToken, iat });
    expect(await outcome(v, attackerToken, flood())).toBe('ok');
    expect(await outcome(v, attackerToken, flood())).toBe('ok');
    // Full of live proofs: the next one is refused, not let in by forgetting the oldest (the captured one).
    for (let i = 0; i < 3; i += 1) {
      expect(await outcome(v, attackerToken, flood())).toBe('503 ERR_VERIFY_UNAVAILABLE dpop');
    }
    expect(await outcome(v, victimToken, captured)).toBe('401 ERR_DPOP_PROOF_REPLAYED replay');
    const full = await v.authenticate(request(attackerToken, flood()));
    expect(full.ok ? undefined : full.response.headers['retry-after']).toBe('1');
    // The operator is told why and what to do, once for the outage rather than per request.
    const errors = logger.lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(String(errors[0]!.data?.error)).toMatch(/replay store full: 3 live proofs.*maxEntries.*Redis/s);
    // Past the proofs' lifetime (60 s max age + 2 × 5 s tolerance) the store has room again.
    nowMs += 71_000;
    const fresh = createDPoPProof(victim, {
      htm: 'GET',
      htu: URL_,
      accessToken: victimToken,
      iat: Math.floor(nowMs / 1000),
    });
    expect(await outcome(v, victimToken, fresh)).toBe('ok');
    expect(await outcome(v, victimToken, fresh)).toBe('401 ERR_DPOP_PROOF_REPLAYED replay');
  });

  it("refuses a bad maxEntries, a replay option naming both places or neither, and names it doesn't know", () => {
    const refusal = (dpop: unknown): string => {
      try {
        verifier(dpop as DPoPOptions);
      } catch (err) {
        expect(err).toBeInstanceOf(TypeError);
        return (err as Error).message;
      }
      return 'built';
    };
    for (const maxEntries of [0, -5, 2.5, Number.NaN, '1000']) {
      // The rule is @jot/jose's memoryReplayStore's; the refusal names the option as this verifier's user set it.
      expect(refusal({ replay: { memory: { maxEntries } } })).toMatch(
        /^dpop\.replay\.memory\.maxEntries .*must be a positive integer/,
      );
    }
    const redis: RedisSetNX = { set: () => Promise.resolve('OK') };
    expect(refusal({ replay: { memory: {}, redis } })).toMatch(/dpop\.replay.*either/);
    expect(refusal({ replay: {} })).toMatch(/dpop\.replay/);
    expect(refusal({ replay: { redis: undefined } })).toMatch(/dpop\.replay\.redis/);
    expect(refusal({ replay: { memory: { maxEntires: 10 } } })).toContain('"dpop.replay.memory.maxEntires"');
    expect(refusal({ replay: 'redis' })).toMatch(/dpop\.replay/);
    expect(refusal({ replay: { memory: { maxEntries: 500_000 } } })).toBe('built');
    expect(refusal({ replay: { memory: {} } })).toBe('built');
    expect(refusal({ replay: 'memory' })).toBe('built');
  });
});

describe('the multi-instance warning', () => {
  const saved = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = saved;
  });
  const warnings = (logger: DataLogger): string[] =>
    logger.lines.filter((line) => line.level === 'warn').map((line) => line.message);

  it('in production, warns once when the verifier is built with DPoP proofs remembered in memory', async () => {
    process.env.NODE_ENV = 'production';
    const replays = [
      undefined,
      'memory',
      { memory: { maxEntries: 10 } },
      { memory: { singleInstance: false } },
    ] as const;
    for (const replay of replays) {
      const logger = dataLogger();
      const v = verifier(replay === undefined ? {} : { replay }, { logger });
      expect(warnings(logger)).toHaveLength(1);
      expect(warnings(logger)[0]).toMatch(/memory.*once per instance.*dpop\.replay.*redis/is);
      // It says how a service that knowingly runs as one process acknowledges it.
      expect(warnings(logger)[0]).toContain('dpop.replay: { memory: { singleInstance: true } }');
      await v.ready();
      const token = harness.issuer.tokens.sign({ cnf: { jkt: victim.thumbprint() } });
      for (let i = 0; i < 2; i += 1) {
        const proof = createDPoPProof(victim, { htm: 'GET', htu: URL_, accessToken: token });
        expect(await outcome(v, token, proof)).toBe('ok');
      }
      expect(warnings(logger)).toHaveLength(1);
    }
  });

  it('in production without a dpop option, warns once at the first DPoP proof (not for a service that never sees one)', async () => {
    process.env.NODE_ENV = 'production';
    const logger = dataLogger();
    const v = verifier(undefined, { logger });
    await v.ready();
    const unbound = harness.issuer.tokens.sign();
    expect(await outcome(v, unbound, '')).toBe('401 ERR_DPOP_KEY_MISMATCH unbound');
    expect((await v.authenticate({ url: URL_, headers: { authorization: `Bearer ${unbound}` } })).ok).toBe(
      true,
    );
    expect(warnings(logger)).toEqual([]);
    const token = harness.issuer.tokens.sign({ cnf: { jkt: victim.thumbprint() } });
    for (let i = 0; i < 2; i += 1) {
      const proof = createDPoPProof(victim, { htm: 'GET', htu: URL_, accessToken: token });
      expect(await outcome(v, token, proof)).toBe('ok');
    }
    expect(warnings(logger)).toHaveLength(1);
    expect(warnings(logger)[0]).toMatch(/memory.*once per instance.*dpop\.replay.*redis/is);
  });

  it('in production, does not warn a service that says it runs as one process (dpop.replay.memory.singleInstance)', async () => {
    process.env.NODE_ENV = 'production';
    for (const memory of [{ singleInstance: true }, { maxEntries: 10, singleInstance: true }]) {
      const logger = dataLogger();
      const v = verifier({ replay: { memory } }, { logger });
      await v.ready();
      const token = harness.issuer.tokens.sign({ cnf: { jkt: victim.thumbprint() } });
      const proof = createDPoPProof(victim, { htm: 'GET', htu: URL_, accessToken: token });
      expect(await outcome(v, token, proof)).toBe('ok');
      // Still a replay store, only a quiet one.
      expect(await outcome(v, token, proof)).toBe('401 ERR_DPOP_PROOF_REPLAYED replay');
      expect(warnings(logger)).toEqual([]);
    }
  });

  it('refuses a singleInstance that is not a boolean, naming the option', () => {
    for (const singleInstance of ['true', 1, null]) {
      const build = (): Verifier =>
        verifier({ replay: { memory: { singleInstance } } } as unknown as DPoPOptions);
      expect(build).toThrow(TypeError);
      expect(build).toThrow(/^dpop\.replay\.memory\.singleInstance must be true or false/);
    }
  });

  it('does not warn with proofs in Redis, nor outside production', () => {
    process.env.NODE_ENV = 'production';
    const redis: RedisSetNX = { set: () => Promise.resolve('OK') };
    const withRedis = dataLogger();
    verifier({ replay: { redis } }, { logger: withRedis });
    expect(warnings(withRedis)).toEqual([]);
    for (const env of ['development', 'test', undefined]) {
      if (env === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = env;
      const logger = dataLogger();
      verifier({}, { logger });
      expect(warnings(logger)).toEqual([]);
    }
  });
});

describe('replay across instances', () => {
  it('two verifiers sharing one Redis refuse a proof replayed from one to the other', async () => {
    if (!(await requireRedis('verify DPoP replay across instances through Redis'))) return;
    const clients = [new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL)];
    const prefix = `jot:test:fix-dpop-replay-memory:${process.pid}:${Date.now()}:`;
    try {
      const [a, b] = clients.map((redis) => verifier({ replay: { redis, prefix } }));
      await Promise.all([a!.ready(), b!.ready()]);
      const token = harness.issuer.tokens.sign({ cnf: { jkt: victim.thumbprint() } });
      const proof = createDPoPProof(victim, { htm: 'GET', htu: URL_, accessToken: token });
      expect(await outcome(a!, token, proof)).toBe('ok');
      expect(await outcome(b!, token, proof)).toBe('401 ERR_DPOP_PROOF_REPLAYED replay');
      expect(await outcome(a!, token, proof)).toBe('401 ERR_DPOP_PROOF_REPLAYED replay');
      const keys = await clients[0]!.keys(`${prefix}*`);
      expect(keys).toHaveLength(1);
      const ttl = await clients[0]!.pttl(keys[0]!);
      expect(ttl).toBeGreaterThan(60_000);
      expect(ttl).toBeLessThanOrEqual(72_000);
      await clients[0]!.del(...keys);
    } finally {
      clients.forEach((r) => r.disconnect());
    }
  });

  it('two verifiers remembering proofs in memory each accept it once (the documented reason to use Redis)', async () => {
    const [a, b] = [verifier({}), verifier({})];
    await Promise.all([a.ready(), b.ready()]);
    const token = harness.issuer.tokens.sign({ cnf: { jkt: victim.thumbprint() } });
    const proof = createDPoPProof(victim, { htm: 'GET', htu: URL_, accessToken: token });
    expect(await outcome(a, token, proof)).toBe('ok');
    expect(await outcome(b, token, proof)).toBe('ok');
    expect(await outcome(a, token, proof)).toBe('401 ERR_DPOP_PROOF_REPLAYED replay');
    expect(await outcome(b, token, proof)).toBe('401 ERR_DPOP_PROOF_REPLAYED replay');
  });
});

describe('the Redis replay keys follow revocation.namespace', () => {
  /** A replay store that records the keys it is asked to set. */
  const recording = (): RedisSetNX & { keys: string[] } => {
    const keys: string[] = [];
    return {
      keys,
      set: (key: string) => {
        keys.push(key);
        return Promise.resolve('OK');
      },
    };
  };
  /** A strict Redis revocation with a complete mirror in `namespace` (the option left out when undefined). */
  const strictIn = (namespace?: string) => ({
    strategy: 'strict' as const,
    redis: { mget: () => Promise.resolve([null, null, null, '{"cursor":1}']) },
    ...(namespace === undefined ? {} : { namespace }),
  });

  async function firstKey(namespace: string | undefined, prefix?: string): Promise<string | undefined> {
    const redis = recording();
    const v = verifier(
      { replay: prefix === undefined ? { redis } : { redis, prefix } },
      { revocation: strictIn(namespace) },
    );
    const token = harness.issuer.tokens.sign({ cnf: { jkt: victim.thumbprint() } });
    const proof = createDPoPProof(victim, { htm: 'GET', htu: URL_, accessToken: token });
    expect(await outcome(v, token, proof)).toBe('ok');
    return redis.keys[0];
  }

  it('uses <namespace>:dpop: when a namespace is given, jot:dpop: without one, and an explicit prefix over both', async () => {
    expect(await firstKey('billing:eu-1')).toMatch(/^billing:eu-1:dpop:/);
    expect(await firstKey(undefined)).toMatch(/^jot:dpop:/);
    expect(await firstKey('jot')).toMatch(/^jot:dpop:/);
    expect(await firstKey('billing', 'app:proofs:')).toMatch(/^app:proofs:/);
  });
});
