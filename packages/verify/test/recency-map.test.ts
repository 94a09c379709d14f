/**
 * RecencyMap: bounded, least recently used dropped first, and a hot key left in place (a delete and re-insert per hit
 * piles holes into V8's Map, and each re-insert of that key walks them: 24 µs per hit at 10,000 entries).
 */
import { describe, expect, it } from 'vitest';

import { RecencyMap } from '../src/index.js';

const keysOf = <K, V>(map: RecencyMap<K, V>): K[] => [...map.entries()].map(([key]) => key);

/** A map of `n` entries 0..n-1 inserted in order. */
function filled(max: number, n = max): RecencyMap<number, string> {
  const map = new RecencyMap<number, string>(max);
  for (let i = 0; i < n; i++) map.set(i, `v${i}`);
  return map;
}

describe('RecencyMap', () => {
  it('refuses a bound that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) {
      expect(() => new RecencyMap(bad)).toThrow(TypeError);
    }
  });

  it('never holds more than its bound and drops the oldest first, reporting how many it dropped', () => {
    const map = filled(4);
    expect(map.set(4, 'v4')).toBe(1);
    expect(map.size).toBe(4);
    expect(keysOf(map)).toEqual([1, 2, 3, 4]);
    expect(map.get(0)).toBeUndefined();
    expect(map.has(4)).toBe(true);
  });

  it('is exact LRU for small bounds: a hit on the older entry saves it', () => {
    const map = filled(2);
    expect(map.get(0)).toBe('v0');
    expect(map.set(2, 'v2')).toBe(1);
    expect(keysOf(map)).toEqual([0, 2]);
  });

  it('matches a reference LRU step by step for bounds up to 3', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (const max of [1, 2, 3]) {
      const map = new RecencyMap<number, number>(max);
      const reference: number[] = []; // least recent first
      for (let step = 0; step < 2_000; step++) {
        const key = random(6);
        const at = reference.indexOf(key);
        if (random(2) === 0) {
          expect(map.get(key)).toBe(at >= 0 ? key : undefined);
          if (at >= 0) reference.push(...reference.splice(at, 1));
        } else {
          map.set(key, key);
          if (at >= 0) reference.splice(at, 1);
          reference.push(key);
          if (reference.length > max) reference.shift();
        }
        expect(keysOf(map)).toEqual(reference);
      }
    }
  });

  it('saves an entry used once it has drifted into the older half', () => {
    const map = filled(10);
    expect(map.get(0)).toBe('v0'); // 9 entries came after it: it moves to the recent end
    for (let i = 10; i < 19; i++) map.set(i, `v${i}`);
    expect(map.has(0)).toBe(true);
    expect(map.has(1)).toBe(false);
  });

  it('leaves a hot entry in place while it is in the recent half, however often it is used', () => {
    const map = filled(10_000);
    const before = keysOf(map);
    let found = 0;
    for (let i = 0; i < 50_000; i++) if (map.get(9_000) === 'v9000') found += 1;
    expect(found).toBe(50_000);
    // 999 entries came after it, fewer than half the bound: no delete and re-insert per hit, the order is unchanged.
    expect(keysOf(map)).toEqual(before);
  });

  it('a hot entry still outlives half the bound of new entries after its last move', () => {
    const map = filled(100);
    map.get(0); // moved: 99 entries came after it
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 50; i++) map.set(1_000 + round * 50 + i, 'new');
      expect(map.get(0)).toBe('v0');
    }
    expect(map.size).toBe(100);
  });

  it('updates a present key in place without evicting anything', () => {
    const map = filled(3);
    expect(map.set(2, 'again')).toBe(0);
    expect(map.get(2)).toBe('again');
    expect(map.size).toBe(3);
  });

  it('deletes, clears, and allows deletion while iterating', () => {
    const map = filled(6);
    for (const [key] of map.entries()) if (key % 2 === 0) map.delete(key);
    expect(keysOf(map)).toEqual([1, 3, 5]);
    expect(map.delete(1)).toBe(true);
    expect(map.delete(1)).toBe(false);
    map.clear();
    expect(map.size).toBe(0);
  });

  it('with a weight bound, drops the oldest until the weights fit too, and keeps the sum right', () => {
    expect(() => new RecencyMap<number, string>(10, 0)).toThrow(TypeError);
    const map = new RecencyMap<number, string>(100, 10);
    expect(map.set(1, 'a', 4) + map.set(2, 'b', 4)).toBe(0);
    expect(map.set(3, 'c', 4)).toBe(1); // 12 > 10: the oldest goes
    expect(keysOf(map)).toEqual([2, 3]);
    expect(map.weight).toBe(8);
    expect(map.set(3, 'c', 1)).toBe(0); // a present key's new weight replaces its old one
    expect(map.weight).toBe(5);
    map.delete(2);
    expect(map.weight).toBe(1);
    expect(map.set(4, 'd', 11)).toBe(2); // heavier than the bound alone: everything goes, itself included
    expect(map.size).toBe(0);
    expect(map.weight).toBe(0);
    map.set(5, 'e', 3);
    map.clear();
    expect(map.weight).toBe(0);
  });
});
