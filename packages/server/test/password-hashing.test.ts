/**
 * Password hashing on `@node-rs/argon2`: hashes the `argon2` package stored before the switch still verify (and are
 * rehashed only when their parameters differ), new hashes are standard argon2id PHC strings, and no more than the
 * configured number of hashes run at once.
 */
import { describe, expect, it } from 'vitest';

import { createLimiter } from '../src/services/limiter.js';
import { createPasswordHasher, HASHING_CONCURRENCY } from '../src/services/passwords.js';

const PASSWORD = 'correct horse battery staple ✓';
const DEFAULTS = { memoryKiB: 19456, timeCost: 2, parallelism: 1 };

/**
 * Written by the `argon2` package (0.45, the binding Jot used before) for PASSWORD — the PHC strings already in
 * users' rows (note its parameter order, `m,p,t`).
 */
const STORED_BY_ARGON2 = {
  current:
    '$argon2id$v=19$m=19456,p=1,t=2$XMfoBkqaUmxPiJU5Q/0sEA$bE4NPX7zPqd09RpPf4/kT9A06WWzhz2Gc+9UdQ5cjZw',
  stronger:
    '$argon2id$v=19$m=65536,p=4,t=3$0BBFD+gw4ZraWWlxT1en7g$AdG1YqM9gI1fbMKQV5zfruIjUVzJNHX34Hp8yEhD7F4',
  weaker: '$argon2id$v=19$m=1024,p=1,t=1$Z3kl3ZUxGujaRruCJEVH6w$X6q09zYp9ru/LAl8Cej0GyYOCOpbb5XphgNSighVt8M',
  argon2i: '$argon2i$v=19$m=4096,p=1,t=3$miKFI/FlYua5ydOm1DCjQg$x/5v1izpqF5Nt1PcYll+wD9UXrOo1ZQUBktG7cYI4Kg',
};

/** Written by `@node-rs/argon2` for PASSWORD with the defaults; checked to verify with the `argon2` package too. */
const WRITTEN_NOW =
  '$argon2id$v=19$m=19456,t=2,p=1$1AILIgpzGC0vy1HS9vJARQ$OfnO9U6q8LjZh14Go8rHUZxuHaFcY71zhZG+TiC1UjQ';

describe('password hashing', () => {
  it('verifies the hashes the argon2 package stored, whatever their parameters, and refuses a wrong password', async () => {
    const hasher = await createPasswordHasher(DEFAULTS);
    for (const stored of [...Object.values(STORED_BY_ARGON2), WRITTEN_NOW]) {
      expect(await hasher.verify(stored, PASSWORD)).toBe(true);
      expect(await hasher.verify(stored, `${PASSWORD}x`)).toBe(false);
    }
  });

  it('flags for a rehash exactly the hashes made otherwise than the current argon2id parameters', async () => {
    const hasher = await createPasswordHasher(DEFAULTS);
    expect(hasher.needsRehash(STORED_BY_ARGON2.current)).toBe(false);
    expect(hasher.needsRehash(WRITTEN_NOW)).toBe(false);
    expect(hasher.needsRehash(STORED_BY_ARGON2.stronger)).toBe(true);
    expect(hasher.needsRehash(STORED_BY_ARGON2.weaker)).toBe(true);
    expect(hasher.needsRehash(STORED_BY_ARGON2.argon2i)).toBe(true);
    expect(hasher.needsRehash('not a hash')).toBe(true);
    const stronger = await createPasswordHasher({ memoryKiB: 65536, timeCost: 3, parallelism: 4 });
    expect(stronger.needsRehash(STORED_BY_ARGON2.stronger)).toBe(false);
    expect(stronger.needsRehash(STORED_BY_ARGON2.current)).toBe(true);
  });

  it('writes standard argon2id PHC strings with the configured parameters and a fresh 16-byte salt', async () => {
    const hasher = await createPasswordHasher({ memoryKiB: 1024, timeCost: 1, parallelism: 1 });
    const [a, b] = await Promise.all([hasher.hash(PASSWORD), hasher.hash(PASSWORD)]);
    for (const hash of [a, b]) {
      expect(hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
      expect(await hasher.verify(hash, PASSWORD)).toBe(true);
    }
    expect(a).not.toBe(b);
  });

  it('treats a malformed stored hash as a mismatch, not an error', async () => {
    const hasher = await createPasswordHasher(DEFAULTS);
    for (const bad of ['', 'plain', '$argon2id$v=19$m=19456,t=2,p=1$short$short', '$bcrypt$xyz']) {
      expect(await hasher.verify(bad, PASSWORD)).toBe(false);
    }
  });

  it('runs at most the configured number of hashes at once (every core but one by default)', async () => {
    expect(HASHING_CONCURRENCY).toBeGreaterThanOrEqual(1);
    const run = createLimiter(2);
    let running = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const order: number[] = [];
    const tasks = Array.from({ length: 5 }, (_, i) =>
      run(async () => {
        running += 1;
        most = Math.max(most, running);
        order.push(i);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        return i;
      }),
    );
    // Two start; the others wait in arrival order for a slot.
    await expect.poll(() => releases.length).toBe(2);
    while (releases.length > 0 || order.length < 5) {
      await expect.poll(() => releases.length).toBeGreaterThan(0);
      releases.shift()!();
    }
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(() => createLimiter(0)).toThrow(TypeError);
  });

  it('a failing task frees its slot for the next one', async () => {
    const run = createLimiter(1);
    await expect(run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await run(() => Promise.resolve('next'))).toBe('next');
  });

  it('learns the cost of the stored parameter sets: failures wait for the first learning, then are padded to it', async () => {
    const hasher = await createPasswordHasher({ memoryKiB: 1024, timeCost: 1, parallelism: 1 });
    let release!: (prefixes: string[]) => void;
    const learning = hasher.learn(() => new Promise<string[]>((resolve) => (release = resolve)));
    let padded = false;
    const pad = hasher.padFailure(performance.now()).then(() => (padded = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(padded).toBe(false); // the stored parameter sets are not known yet
    // Unparsable prefixes and absurd memory costs are skipped, not fatal.
    release(['$argon2id$v=19$m=32768,p=1,t=3', 'not a hash', '$argon2id$v=19$m=99999999,t=1,p=1']);
    await learning;
    await pad;

    // A verification at the learned parameters costs several times the current ones: a failure now waits at least
    // about that long (generous factor: the machine is shared).
    const old = await createPasswordHasher({ memoryKiB: 32768, timeCost: 3, parallelism: 1 });
    const oldHash = await old.hash(PASSWORD);
    const costs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await old.verify(oldHash, 'wrong');
      costs.push(performance.now() - started);
    }
    const started = performance.now();
    await hasher.padFailure(started);
    expect(performance.now() - started).toBeGreaterThanOrEqual(0.5 * Math.min(...costs));
  });

  it('a learning whose read fails rejects, and failures are then padded without it', async () => {
    const hasher = await createPasswordHasher({ memoryKiB: 1024, timeCost: 1, parallelism: 1 });
    await expect(hasher.learn(() => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    await hasher.padFailure(performance.now());
  });
});
