/**
 * A kid the server creates never starts with `-`. Kids are RFC 7638 thumbprints in base64url, whose alphabet has
 * `-`: one key in 64 had a kid that `jot keys withdraw <kid>` read as an option (found when the CLI's withdrawal
 * test failed on such a kid). A key drawn with such a kid is drawn again; the kid stays the key's 43-character
 * thumbprint. The keys with crafted kids come from a generator that hands out chosen kids first — no test here waits
 * for chance to produce one.
 */
import { randomBytes } from 'node:crypto';

import { afterEach, describe, expect, it, vi } from 'vitest';

import type * as Jose from '@jot/jose';
import { generateKeyPair, generateSecret, type Algorithm, type Key } from '@jot/jose';

import { createKeyManager } from '../src/keys/key-manager.js';
import { newSigningKey } from '../src/keys/new-key.js';
import type { KeyManager } from '../src/keys/types.js';
import { openStore, type Store } from '../src/store/index.js';

/** Kids the next generated key pairs get, in order (then their thumbprints again). */
const crafted: string[] = [];

vi.mock('@jot/jose', async (importOriginal) => {
  const jose = await importOriginal<typeof Jose>();
  return {
    ...jose,
    generateKeyPair: (alg: Algorithm, options: { kid?: string } = {}): Key =>
      jose.generateKeyPair(alg, { ...options, kid: crafted.shift() ?? options.kid }),
  };
});

/** A generator handing out keys with `kids` in order. */
function kidsInOrder(...kids: string[]): { generator: (alg: Algorithm) => Key; draws: () => number } {
  let draws = 0;
  return {
    generator: (alg) => generateSecret(alg as 'HS256', { kid: kids[draws++] }),
    draws: () => draws,
  };
}

describe('newSigningKey', () => {
  it('draws again while the kid starts with "-", and keeps the first that does not', () => {
    const { generator, draws } = kidsInOrder('-x3f', '--json', '-', 'Ax-3f', 'B');
    expect(newSigningKey('HS256', generator).kid).toBe('Ax-3f');
    expect(draws()).toBe(4);
  });

  it('keeps a first key whose kid does not start with "-" (a "-" inside is base64url as usual)', () => {
    const { generator, draws } = kidsInOrder('x-_9', '-y');
    expect(newSigningKey('HS256', generator).kid).toBe('x-_9');
    expect(draws()).toBe(1);
  });

  it('gives up on a generator that only ever gives such kids, instead of looping for ever', () => {
    expect(() => newSigningKey('HS256', () => generateSecret('HS256', { kid: '-always' }))).toThrow(
      /kids in a row started with '-'/,
    );
  });

  it('by default, a key of the algorithm whose kid is its thumbprint: 43 base64url characters', () => {
    for (const alg of ['ES256', 'HS256'] as const) {
      const key = newSigningKey(alg);
      expect(key.alg).toBe(alg);
      expect(key.kid).toBe(key.thumbprint());
      expect(key.kid).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{42}$/);
    }
  });
});

describe('the key ring', () => {
  let store: Store | undefined;
  let manager: KeyManager | undefined;
  afterEach(async () => {
    manager?.close();
    await store?.close();
    crafted.length = 0;
  });

  it('never creates a key whose kid starts with "-": neither the first key nor a rotation', async () => {
    store = await openStore({ url: ':memory:', dataDir: '/nonexistent' });
    const dashed = (n: number) => `-${n}`.padEnd(43, 'A');
    crafted.push(dashed(1), dashed(2));
    manager = await createKeyManager({
      store,
      config: {
        kek: randomBytes(32),
        signingAlg: 'ES256',
        accessTokenTtlMs: 15 * 60_000,
        clockToleranceMs: 5_000,
        keyRotationIntervalMs: 30 * 86_400_000,
        keyPrepublishMs: 3_600_000,
        jwksMaxAgeMs: 600_000,
      },
      tickIntervalMs: 0,
    });
    // The first key took both crafted kids' draws and was drawn a third time.
    expect(crafted).toEqual([]);
    crafted.push(dashed(3));
    const rotated = await manager.rotate({ immediate: true });
    expect(crafted).toEqual([]);
    const kids = manager.list().map((k) => k.kid);
    expect(kids).toHaveLength(2);
    expect(kids).toContain(rotated.kid);
    for (const kid of kids) expect(kid).not.toMatch(/^-/);
    // Sanity: the generator the ring calls is the one handing out crafted kids.
    crafted.push(dashed(4));
    expect(generateKeyPair('ES256').kid).toBe(dashed(4));
  });
});
