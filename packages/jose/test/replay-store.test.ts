/**
 * The in-memory DPoP replay store: a key is single-use while its ttl lasts, expired keys are dropped from the oldest
 * end, and a full store evicts its oldest entries, live or not, so memory stays bounded under a flood of proofs.
 */
import { describe, expect, it } from 'vitest';

import { memoryReplayStore } from '../src/index.js';

describe('memoryReplayStore', () => {
  it('refuses a key claimed again within its ttl and accepts it once the ttl has passed', async () => {
    let now = 1_000;
    const store = memoryReplayStore({ clock: () => now });
    expect(await store.claim('a', 100)).toBe(true);
    expect(await store.claim('a', 100)).toBe(false);
    now += 100;
    expect(await store.claim('a', 100)).toBe(true);
  });

  it('when full of live entries, evicts the oldest one per new key and keeps the rest single-use', async () => {
    const now = 1_000;
    const store = memoryReplayStore({ maxEntries: 3, clock: () => now });
    for (const key of ['a', 'b', 'c', 'd']) expect(await store.claim(key, 60_000)).toBe(true);
    // 'a' went to make room for 'd'; 'b'..'d' are still remembered.
    for (const key of ['b', 'c', 'd']) expect(await store.claim(key, 60_000)).toBe(false);
    expect(await store.claim('a', 60_000)).toBe(true); // evicts 'b'
    expect(await store.claim('b', 60_000)).toBe(true);
    expect(await store.claim('d', 60_000)).toBe(false);
  });

  it('drops expired entries at the oldest end before evicting a live one', async () => {
    let now = 1_000;
    const store = memoryReplayStore({ maxEntries: 3, clock: () => now });
    await store.claim('short-1', 10);
    await store.claim('short-2', 10);
    await store.claim('long', 60_000);
    now += 10;
    expect(await store.claim('new-1', 60_000)).toBe(true);
    expect(await store.claim('new-2', 60_000)).toBe(true);
    for (const key of ['long', 'new-1', 'new-2']) expect(await store.claim(key, 60_000)).toBe(false);
  });

  it('with entries of mixed lifetimes, a full store sweeps expired ones behind a live one before evicting it', async () => {
    let now = 1_000;
    const store = memoryReplayStore({ maxEntries: 3, clock: () => now });
    await store.claim('long', 60_000);
    await store.claim('short', 10);
    await store.claim('other', 60_000);
    now += 10;
    expect(await store.claim('new', 60_000)).toBe(true); // 'short' is swept; 'long' stays
    for (const key of ['long', 'other', 'new']) expect(await store.claim(key, 60_000)).toBe(false);
  });
});
