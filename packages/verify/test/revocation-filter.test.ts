/**
 * The revocation maps' hash filter (src/revocation/key-filter.ts, filtered-map.ts): a key that is present is never
 * reported absent — whatever the collisions, clusters that wrap around the table's end, duplicates, deletions and
 * resizes — because a false "absent" would let a revoked token through. Checked against a plain model. The same
 * holds for the Bloom filter in front of each table (block-bloom.ts), which is rebuilt from the table after
 * removals and resizes.
 */
import { describe, expect, it } from 'vitest';

import { BlockBloom } from '../src/revocation/block-bloom.js';
import { FilteredMap } from '../src/revocation/filtered-map.js';
import { KeyFilter, keyHash } from '../src/revocation/key-filter.js';

/** A deterministic generator (xorshift32), so a failure replays. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** Checks the filter against a multiset model: every held hash answers true, and the size agrees. */
function agrees(filter: KeyFilter, model: Map<number, number>): void {
  let held = 0;
  for (const [h, n] of model) {
    held += n;
    if (!filter.mayHave(h)) throw new Error(`hash ${h} (held ${n}×) reported absent`);
  }
  expect(filter.size).toBe(held);
}

describe('KeyFilter', () => {
  it('never reports a held hash absent through adds, removes, duplicates and resizes', () => {
    const next = rng(0x9e3779b9);
    const filter = new KeyFilter();
    const model = new Map<number, number>();
    // A small hash space forces collisions, duplicates and long clusters: the low 20 bits (the home slot at every
    // table size up to 2^20) are among the table's last 8 slots, so clusters form there and wrap past the end.
    const pick = () => ((next() % 400) << 20) | (0xfffff - (next() % 8));
    for (let step = 0; step < 20_000; step += 1) {
      const h = pick() | 0;
      if (next() % 3 === 0 && model.size > 0) {
        const n = model.get(h);
        filter.remove(h);
        if (n === undefined) continue;
        if (n === 1) model.delete(h);
        else model.set(h, n - 1);
      } else {
        filter.add(h);
        model.set(h, (model.get(h) ?? 0) + 1);
      }
      if (step % 2000 === 0) agrees(filter, model);
    }
    agrees(filter, model);
    // Drain everything: the table shrinks back and every removed hash is gone.
    for (const [h, n] of [...model]) for (let i = 0; i < n; i += 1) filter.remove(h);
    expect(filter.size).toBe(0);
    expect(filter.bytes).toBe(5632);
    for (const h of model.keys()) expect(filter.mayHave(h)).toBe(false);
  });

  it('keeps members reachable when the hole is the last slot and the cluster goes on at slot 0', () => {
    const filter = new KeyFilter();
    const home = (slot: number, k: number) => (k << 10) | slot; // 1,024 slots: the low 10 bits are the home
    const [h1, h2, h3, h4] = [home(1022, 1), home(1022, 2), home(1022, 3), home(1023, 4)];
    for (const h of [h1, h2, h3, h4]) filter.add(h); // slots 1022, 1023, 0, 1
    filter.remove(h2); // hole at 1023: h3 (home 1022) moves from 0 to 1023, then h4 (home 1023) from 1 to 0
    for (const h of [h1, h3, h4]) expect(filter.mayHave(h)).toBe(true);
    expect(filter.mayHave(h2)).toBe(false);
    filter.remove(h3);
    filter.remove(h1);
    expect(filter.mayHave(h4)).toBe(true);
    expect(filter.size).toBe(1);
  });

  it('holds no table until the first hash, and answers absent meanwhile', () => {
    const filter = new KeyFilter();
    expect(filter.bytes).toBe(0);
    expect(filter.mayHave(keyHash('anything'))).toBe(false);
    filter.remove(keyHash('anything'));
    filter.add(keyHash('anything'));
    expect(filter.bytes).toBe(5632);
    expect(filter.mayHave(keyHash('anything'))).toBe(true);
  });

  it('keeps members reachable when a cluster wraps past the last slot and one is removed', () => {
    const filter = new KeyFilter();
    const last = 1023; // home slot of every hash below: the table's last slot (1,024 slots)
    const hashes = [1, 2, 3, 4].map((k) => (k << 10) | last);
    for (const h of hashes) filter.add(h);
    filter.add(5); // home slot 5, itself displaced by nothing
    filter.remove(hashes[1]!);
    for (const h of [hashes[0]!, hashes[2]!, hashes[3]!, 5]) expect(filter.mayHave(h)).toBe(true);
    expect(filter.mayHave(hashes[1]!)).toBe(false);
    expect(filter.size).toBe(4);
  });

  it('keys that hash alike share one slot, so their number cannot lengthen a probe', () => {
    const filter = new KeyFilter();
    // Same length, same last 8 characters: the same hash, however many there are.
    for (let i = 0; i < 10_000; i += 1)
      filter.add(keyHash(`client-${String(i).padStart(5, '0')}-billing-svc`));
    expect(filter.size).toBe(10_000);
    expect(filter.bytes).toBe(5632);
    const h = keyHash('client-00000-billing-svc');
    // Past 255 the count sticks: the slot stays a "maybe" (the map decides), never a wrong "absent".
    for (let i = 0; i < 10_000; i += 1) filter.remove(h);
    expect(filter.mayHave(h)).toBe(true);
    expect(filter.size).toBe(0);
  });

  it('a count below 255 goes back to absent when the last occurrence leaves', () => {
    const filter = new KeyFilter();
    const h = keyHash('client-00000-billing-svc');
    for (let i = 0; i < 254; i += 1) filter.add(h);
    for (let i = 0; i < 253; i += 1) filter.remove(h);
    expect(filter.mayHave(h)).toBe(true);
    filter.remove(h);
    expect(filter.mayHave(h)).toBe(false);
    expect(filter.size).toBe(0);
  });

  it('removing a hash it does not hold changes nothing', () => {
    const filter = new KeyFilter();
    filter.add(42);
    filter.remove(43);
    filter.remove(42 + 1024); // same home slot, different hash
    expect(filter.mayHave(42)).toBe(true);
    expect(filter.size).toBe(1);
  });

  it('rebuilds its Bloom filter from the held hashes once an eighth of the slots were vacated', () => {
    const next = rng(99);
    const filter = new KeyFilter();
    const held: number[] = [];
    while (held.length < 500) held.push(next() | 0 || 1); // 1,024 slots: no growth
    for (const h of held) filter.add(h);
    const full = filter.prefilterFill;
    // 129 removals vacate more than 1,024 / 8 slots: the filter is rebuilt from the 371 left, exactly as a fresh
    // filter of those would hold them.
    const removed = held.splice(0, 129);
    for (const h of removed) filter.remove(h);
    const fresh = new KeyFilter();
    for (const h of held) fresh.add(h);
    expect(filter.bytes).toBe(fresh.bytes);
    expect(filter.prefilterFill).toBe(fresh.prefilterFill);
    expect(filter.prefilterFill).toBeLessThan(full);
    for (const h of held) expect(filter.mayHave(h)).toBe(true);
    for (const h of removed) expect(filter.mayHave(h)).toBe(false);
  });

  it("keeps removed hashes' bits until the rebuild, and held hashes after it, through churn", () => {
    const next = rng(4242);
    const filter = new KeyFilter();
    const held = new Set<number>();
    // Steady churn at ~300 held: every removal is followed by an add, so the table is never resized and only the
    // stale-bit rebuild clears anything.
    while (held.size < 300) {
      const h = next() | 0 || 1;
      held.add(h);
      filter.add(h);
    }
    for (let step = 0; step < 5_000; step += 1) {
      const victim = [...held][next() % held.size]!;
      held.delete(victim);
      filter.remove(victim);
      expect(filter.mayHave(victim)).toBe(false);
      const h = next() | 0 || 1;
      if (!held.has(h)) {
        held.add(h);
        filter.add(h);
      }
      if (step % 97 === 0) for (const x of held) expect(filter.mayHave(x)).toBe(true);
    }
    expect(filter.bytes).toBe(5632);
    // Never more than 128 stale hashes beside the ~300 held: the filter stays about as sparse as a fresh one.
    const fresh = new KeyFilter();
    for (const h of held) fresh.add(h);
    expect(filter.prefilterFill).toBeLessThan(fresh.prefilterFill * 1.5);
  });

  it('grows past half full and shrinks when an eighth full', () => {
    const filter = new KeyFilter();
    for (let i = 1; i <= 513; i += 1) filter.add(keyHash(`k${i}`));
    expect(filter.bytes).toBe(11264);
    for (let i = 1; i <= 500; i += 1) filter.remove(keyHash(`k${i}`));
    expect(filter.bytes).toBe(5632);
    for (let i = 501; i <= 513; i += 1) expect(filter.mayHave(keyHash(`k${i}`))).toBe(true);
  });
});

describe('BlockBloom', () => {
  it('never reports an added hash absent, and passes few others at 8 bits per hash', () => {
    const next = rng(0x2545f491);
    const bloom = new BlockBloom(256); // 32,768 bits
    const added = new Set<number>();
    while (added.size < 4096) added.add(next() | 0);
    for (const h of added) bloom.add(h);
    for (const h of added) expect(bloom.mayHave(h)).toBe(true);
    let passed = 0;
    let tried = 0;
    while (tried < 100_000) {
      const h = next() | 0;
      if (added.has(h)) continue;
      tried += 1;
      if (bloom.mayHave(h)) passed += 1;
    }
    // Four bits per hash in a 128-bit block at 8 bits per hash: about 3 % pass; the table decides those.
    expect(passed / tried).toBeLessThan(0.05);
    expect(bloom.fill).toBeGreaterThan(0.3);
    expect(bloom.fill).toBeLessThan(0.5);
  });

  it('forgets every hash when cleared', () => {
    const bloom = new BlockBloom(4);
    for (let h = 1; h < 100; h += 1) bloom.add(h);
    bloom.clear();
    expect(bloom.fill).toBe(0);
    for (let h = 1; h < 100; h += 1) expect(bloom.mayHave(h)).toBe(false);
  });
});

describe('keyHash', () => {
  it('is never 0 and depends on the length and on each of the last 8 characters', () => {
    const seen = new Set<number>();
    const base = 'b3c1e7a2-4f5d-4a8b-9c0d-1e2f3a4b5c6d';
    for (let i = base.length - 8; i < base.length; i += 1) {
      const changed = base.slice(0, i) + (base[i] === 'x' ? 'y' : 'x') + base.slice(i + 1);
      seen.add(keyHash(changed));
    }
    seen.add(keyHash(base));
    seen.add(keyHash(`0${base}`));
    expect(seen.size).toBe(10);
    for (const key of ['', 'a', 'ab', 'abcdefghi']) expect(keyHash(key)).not.toBe(0);
  });

  it('spreads random UUIDs over the slots', () => {
    const buckets = new Uint32Array(1024);
    const next = rng(7);
    for (let i = 0; i < 102_400; i += 1) {
      const hex = [next(), next(), next(), next()].map((w) => w.toString(16).padStart(8, '0')).join('');
      const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      buckets[keyHash(uuid) & 1023]! += 1;
    }
    // 100 per bucket on average; a uniform spread stays well inside 100 ± 50.
    expect(Math.min(...buckets)).toBeGreaterThan(50);
    expect(Math.max(...buckets)).toBeLessThan(150);
  });
});

describe('FilteredMap', () => {
  it('answers exactly as a Map under random sets, deletes and pruning', () => {
    const next = rng(12345);
    const map = new FilteredMap<number>();
    const model = new Map<string, number>();
    for (let step = 0; step < 40_000; step += 1) {
      const key = `key-${next() % 3000}`;
      const op = next() % 10;
      if (op < 5) {
        const value = next() % 100;
        map.set(key, value);
        model.set(key, value);
      } else if (op < 8) {
        expect(map.delete(key)).toBe(model.delete(key));
      } else if (op === 8) {
        const cut = next() % 100;
        let dropped = 0;
        for (const [k, v] of model) if (v < cut) dropped += Number(model.delete(k));
        expect(map.deleteWhere((v) => v < cut)).toBe(dropped);
      }
      expect(map.get(key)).toBe(model.get(key));
    }
    expect(map.size).toBe(model.size);
    for (let i = 0; i < 3000; i += 1) expect(map.get(`key-${i}`)).toBe(model.get(`key-${i}`));
    for (const key of ['__proto__', 'constructor', 'toString', '']) expect(map.get(key)).toBeUndefined();
  });
});
