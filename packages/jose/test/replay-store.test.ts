/**
 * The in-memory DPoP replay store: a key is single-use while its ttl lasts, and the store is bounded without ever
 * forgetting a live key. When it is full of live entries a new key is refused (the claim throws, which the checker's
 * callers answer with a 503), never let in by evicting a live one: evicting would let anyone able to send
 * `maxEntries` proofs push a captured proof out and replay it (review MEDIUM, fix-dpop-replay-memory). Expired
 * entries are reclaimed — whatever their order of insertion — so a full store recovers as its entries expire.
 */
import { describe, expect, it } from 'vitest';

import {
  createDPoPChecker,
  createDPoPProof,
  generateKeyPair,
  isJoseError,
  memoryReplayStore,
} from '../src/index.js';

describe('memoryReplayStore', () => {
  it('refuses a key claimed again within its ttl and accepts it once the ttl has passed', async () => {
    let now = 1_000;
    const store = memoryReplayStore({ clock: () => now });
    expect(await store.claim('a', 100)).toBe(true);
    expect(await store.claim('a', 100)).toBe(false);
    now += 100;
    expect(await store.claim('a', 100)).toBe(true);
  });

  it('when full of live entries, refuses a new key and forgets none of the live ones', async () => {
    let now = 1_000;
    const store = memoryReplayStore({ maxEntries: 3, clock: () => now });
    for (const key of ['a', 'b', 'c']) expect(await store.claim(key, 60_000)).toBe(true);
    // Full: a new key is not let in (a rejection, not a `false` that would read as a replay), however often it is tried.
    for (let i = 0; i < 5; i += 1) {
      await expect(store.claim(`new-${i}`, 60_000)).rejects.toThrow(/full: 3 live .*maxEntries.*Redis/s);
    }
    // Every live key is still single-use: the first one above all.
    for (const key of ['a', 'b', 'c']) expect(await store.claim(key, 60_000)).toBe(false);
    // A refused key was not remembered: once there is room it is new.
    now += 60_000;
    expect(await store.claim('new-0', 60_000)).toBe(true);
  });

  it('reclaims expired entries so a full store recovers, and then keeps the survivors single-use', async () => {
    let now = 1_000;
    const store = memoryReplayStore({ maxEntries: 3, clock: () => now });
    await store.claim('short-1', 10);
    await store.claim('short-2', 10);
    await store.claim('long', 60_000);
    await expect(store.claim('too-early', 60_000)).rejects.toThrow(/full/);
    now += 10;
    expect(await store.claim('new-1', 60_000)).toBe(true);
    expect(await store.claim('new-2', 60_000)).toBe(true);
    for (const key of ['long', 'new-1', 'new-2']) expect(await store.claim(key, 60_000)).toBe(false);
    await expect(store.claim('new-3', 60_000)).rejects.toThrow(/full/);
  });

  it('reclaims an expired entry that was inserted after a live one (mixed lifetimes)', async () => {
    let now = 1_000;
    const store = memoryReplayStore({ maxEntries: 3, clock: () => now });
    await store.claim('long', 60_000);
    await store.claim('short', 10);
    await store.claim('other', 60_000);
    now += 10;
    expect(await store.claim('new', 60_000)).toBe(true); // 'short' is reclaimed; 'long' stays
    for (const key of ['long', 'other', 'new']) expect(await store.claim(key, 60_000)).toBe(false);
  });

  it('a key claimed again after its ttl is renewed in place, even in a full store', async () => {
    let now = 1_000;
    const store = memoryReplayStore({ maxEntries: 2, clock: () => now });
    await store.claim('a', 10);
    await store.claim('b', 60_000);
    now += 10;
    expect(await store.claim('a', 60_000)).toBe(true);
    now += 30_000;
    // 'a''s first lifetime is long over; its second still runs.
    expect(await store.claim('a', 60_000)).toBe(false);
    await expect(store.claim('c', 60_000)).rejects.toThrow(/full/);
  });

  it('a store full at its default size refuses 20,000 new keys in a row, then recovers once entries expire', async () => {
    let now = 1_000;
    const maxEntries = 100_000;
    const store = memoryReplayStore({ maxEntries, clock: () => now });
    // Filled without awaiting each claim: the store decides synchronously, and none of these is refused.
    const filled = Array.from({ length: maxEntries }, (_, i) => store.claim(`k${i}`, 60_000 + (i % 5_000)));
    expect((await Promise.all(filled)).every(Boolean)).toBe(true);
    let refused = 0;
    for (let i = 0; i < 20_000; i += 1) {
      now += 1; // 20 s pass, none of the entries expires
      await store.claim(`new-${i}`, 60_000).catch(() => (refused += 1));
    }
    expect(refused).toBe(20_000);
    now += 70_000;
    expect(await store.claim('after', 60_000)).toBe(true);
  });

  it.each([0, -1, 1.5, Number.NaN, Infinity])('refuses maxEntries %s (a TypeError)', (maxEntries) => {
    expect(() => memoryReplayStore({ maxEntries })).toThrow(TypeError);
    expect(() => memoryReplayStore({ maxEntries })).toThrow(
      `maxEntries must be a positive integer (live proofs remembered at once), not ${maxEntries}`,
    );
  });

  it('refuses a maxEntries that is not a number, saying what it is', () => {
    expect(() => memoryReplayStore({ maxEntries: '1000' as unknown as number })).toThrow(
      /integer.*not a string/,
    );
  });
});

describe('a DPoP checker over a full memory store', () => {
  const S = 1_800_000_000;
  const url = 'https://api.example.com/orders';

  it('refuses a captured proof replayed after a flood of fresh proofs, and lets no flood proof push it out', async () => {
    let nowMs = S * 1000;
    const clock = (): number => nowMs;
    const maxEntries = 50;
    const dpop = createDPoPChecker({ replay: memoryReplayStore({ maxEntries, clock }), clock });
    const victim = generateKeyPair('ES256');
    const attacker = generateKeyPair('ES256');
    const captured = createDPoPProof(victim, { htm: 'GET', htu: url, iat: S });
    await dpop.check({ method: 'GET', url, proof: captured });
    // The attacker fills the store with fresh proofs of their own key...
    let refused: unknown;
    for (let i = 0; i < maxEntries; i += 1) {
      nowMs += 10;
      const proof = createDPoPProof(attacker, { htm: 'GET', htu: url, iat: S });
      try {
        await dpop.check({ method: 'GET', url, proof });
      } catch (err) {
        refused = err;
        break;
      }
    }
    // ...and the one that finds it full fails instead of passing: not a verdict on the proof (no JoseError).
    expect(refused).toBeInstanceOf(Error);
    expect(isJoseError(refused)).toBe(false);
    // The captured proof is still within its max age, and still refused as a replay.
    await expect(dpop.check({ method: 'GET', url, proof: captured })).rejects.toMatchObject({
      code: 'ERR_DPOP_PROOF_REPLAYED',
    });
    // Once the flood's proofs are past their lifetime, the store has room again.
    nowMs = (S + 67) * 1000;
    const fresh = createDPoPProof(victim, { htm: 'GET', htu: url, iat: S + 67 });
    await expect(dpop.check({ method: 'GET', url, proof: fresh })).resolves.toMatchObject({
      jkt: victim.thumbprint(),
    });
  });
});
