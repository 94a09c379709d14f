/**
 * The server's DPoP checker (RFC 9449): proofs verified by the shared `@jot/jose` checker, `jti`s claimed in the
 * database's atomic insert (and in Redis, when configured and answering, as an early refusal), so a proof is
 * accepted once across every instance whatever Redis does; nonces are HMACs under a key derived from the KEK, so every
 * instance issues and accepts the same ones without sharing state. A `jti` with a control character or a lone UTF-16
 * surrogate is refused as an invalid proof before any store sees it (`wellFormedJtis`).
 */
import { hkdfSync } from 'node:crypto';

import type { Redis } from 'ioredis';

import { redisNames } from '@jot/contract';
import {
  createDPoPChecker,
  createDPoPNonces,
  JoseError,
  redisReplayStore,
  type DPoPChecker,
  type DPoPReplayStore,
} from '@jot/jose';

import type { Config } from '../config/index.js';
import type { Clock } from '../clock.js';
import type { Store } from '../store/index.js';

/** C0 controls and DEL. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** A lone surrogate (read by code points, a paired one is one supplementary character, not of category Cs). */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * `store`, behind a check of the proof's `jti` (RFC 9449 §4.2: a unique identifier, no more): one with a control
 * character (U+0000–U+001F, U+007F) or a lone UTF-16 surrogate is `ERR_DPOP_PROOF_INVALID` (`invalid_dpop_proof`,
 * reason `claim`, claim `jti`), never claimed. PostgreSQL refuses U+0000 in text (the claim would fail the request
 * as a store error), and a lone surrogate is written as U+FFFD in UTF-8 (Redis, the database), so two different
 * proofs' `jti`s would be one key — a fresh proof refused as a replay. `@jot/jose` has already bounded its length
 * (256). The key is the proof's key thumbprint (base64url), ":" and the `jti`, so what is found in it is the `jti`'s.
 */
function wellFormedJtis(store: DPoPReplayStore): DPoPReplayStore {
  return {
    claim(key, ttlMs) {
      if (CONTROL_CHARACTER.test(key) || LONE_SURROGATE.test(key)) {
        return Promise.reject(
          new JoseError(
            'ERR_DPOP_PROOF_INVALID',
            'the DPoP proof "jti" must not contain control characters or lone UTF-16 surrogates',
            { reason: 'claim', claim: 'jti' },
          ),
        );
      }
      return store.claim(key, ttlMs);
    },
  };
}

/**
 * Where proofs are remembered: always the database (its atomic insert is the one record every instance shares
 * whatever Redis does), and Redis too while it answers, as an early refusal of a replay. Redis alone is not enough:
 * a proof claimed in the database during an outage would be new to Redis once it is back, and one claimed in Redis
 * new to the database once Redis drops.
 */
function replayStore(
  store: Store,
  redis: Redis | undefined,
  redisPrefix: string,
  clock: Clock,
  onRedisError: (err: unknown) => void,
): DPoPReplayStore {
  const database: DPoPReplayStore = {
    claim: (key, ttlMs) => store.claimDPoPProof(key, clock() + ttlMs),
  };
  if (redis === undefined) return database;
  const viaRedis = redisReplayStore(redis, redisPrefix);
  return {
    async claim(key, ttlMs) {
      const seenByRedis = await viaRedis.claim(key, ttlMs).then(
        (fresh) => !fresh,
        (err: unknown) => {
          onRedisError(err);
          return false;
        },
      );
      if (seenByRedis) return false;
      return database.claim(key, ttlMs);
    },
  };
}

/** Builds the checker from the configuration. */
export function createServerDPoP(deps: {
  config: Config;
  store: Store;
  redis: Redis | undefined;
  clock: Clock;
  onRedisError: (err: unknown) => void;
}): DPoPChecker {
  const { config, clock } = deps;
  const nonceKey = Buffer.from(hkdfSync('sha256', config.kek, Buffer.alloc(0), 'jot dpop nonce v1', 32));
  return createDPoPChecker({
    algorithms: config.dpopAlgorithms,
    maxAge: Math.floor(config.dpopProofMaxAgeMs / 1000),
    clockTolerance: Math.floor(config.clockToleranceMs / 1000),
    replay: wellFormedJtis(
      replayStore(
        deps.store,
        deps.redis,
        redisNames(config.redisNamespace).dpopReplay,
        clock,
        deps.onRedisError,
      ),
    ),
    nonces: config.dpopNonce ? createDPoPNonces(nonceKey, { clock }) : undefined,
    clock,
  });
}
