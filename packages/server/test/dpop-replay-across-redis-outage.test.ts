/**
 * A DPoP proof is accepted once whatever Redis does (RFC 9449 §11.1): claimed while Redis was down and replayed once
 * it is back, or claimed while it answered and replayed once it dropped. The database is the record every instance
 * shares; Redis, while it answers, only refuses a replay early.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { createDPoPProof, generateKeyPair } from '@jot/jose';
import { loadConfig, openStore, type Store } from '../src/index.js';
import type { Redis } from 'ioredis';

import { createServerDPoP } from '../src/services/dpop.js';

/** A Redis whose SET NX works like Redis, or fails like a dropped connection. */
function flappingRedis(): { redis: Redis; down: boolean } {
  const keys = new Set<string>();
  const state = {
    down: false,
    redis: {
      async set(key: string) {
        if (state.down) throw new Error('Connection is closed.');
        if (keys.has(key)) return null;
        keys.add(key);
        return 'OK';
      },
    } as unknown as Redis,
  };
  return state;
}

describe('DPoP replay across a Redis outage', () => {
  const stores: Store[] = [];
  afterAll(async () => Promise.all(stores.map((s) => s.close())));

  for (const order of ['steady-up', 'steady-down', 'down-then-up', 'up-then-down'] as const) {
    it(`refuses the same proof twice (${order})`, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'jot-dpop-flap-'));
      const store = await openStore({ dataDir });
      stores.push(store);
      const config = loadConfig({ env: {}, file: false, overrides: { dataDir, issuer: 'http://jot.test' } });
      const flap = flappingRedis();
      const checker = createServerDPoP({
        config: { ...config, dpopNonce: false },
        store,
        redis: flap.redis,
        clock: Date.now,
        onRedisError: () => undefined,
      });
      const key = generateKeyPair('ES256');
      const proof = createDPoPProof(key, { htm: 'POST', htu: 'http://jot.test/api/login' });
      const request = { method: 'POST', url: 'http://jot.test/api/login', proof };

      flap.down = order === 'down-then-up' || order === 'steady-down';
      await checker.check(request); // first use: accepted
      if (!order.startsWith('steady')) flap.down = !flap.down; // Redis comes back (or drops)
      // The replay of the same proof, seconds later, must be refused.
      await expect(checker.check(request)).rejects.toMatchObject({ code: 'ERR_DPOP_PROOF_REPLAYED' });
    });
  }
});
