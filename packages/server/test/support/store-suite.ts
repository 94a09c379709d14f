/**
 * The store conformance suite: one set of behaviours every backend must show, run by store.test.ts
 * against SQLite and Postgres (better-auth runs its adapter suites the same way).
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/store/errors.js';
import { feedCursorTag, lockWaitMs } from '../../src/store/index.js';
import type { Store } from '../../src/store/store.js';

/** Opens stores on one fresh database; `teardown` removes it. */
export interface StoreBackend {
  open(): Promise<Store>;
  teardown(): Promise<void>;
}

/** A fixed, realistic epoch-ms instant (well past 2^32, so a 32-bit or string round trip would show). */
const T0 = 1_800_000_000_123;
const MIN = 60_000;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const email = (): string => `user-${randomUUID()}@example.com`;

/**
 * Sign-in attempts on one throttle key at `T0`, as a sign-in makes them: `reserve` counts one (refused while
 * locked), `forget` is its success. Counts untouched for `staleMs` start over.
 */
function throttleAttempts(
  store: Store,
  key: string,
  schedule: Parameters<Store['countLoginAttempt']>[1],
  staleMs: number,
) {
  const reserve = async () => {
    const counted = await store.countLoginAttempt(key, schedule, {
      staleBefore: T0 - staleMs,
      now: T0,
      refuse: true,
    });
    if (!counted.counted) throw new Error('not counted');
    return counted;
  };
  const forget = (attempt: { reserved: number; generation: string }) =>
    store.forgetLoginAttempts(key, attempt.reserved, attempt.generation);
  return { reserve, forget };
}

/** Registers the suite under `name` for the backend `setup` creates. */
export function describeStoreConformance(name: string, setup: () => Promise<StoreBackend>): void {
  describe(`store conformance: ${name}`, () => {
    let backend: StoreBackend;
    let store: Store;

    beforeAll(async () => {
      backend = await setup();
      store = await backend.open();
    });
    afterAll(async () => {
      await store?.close();
      await backend?.teardown();
    });

    async function newUser(): Promise<string> {
      return (await store.createUser({ email: email(), passwordHash: 'h' }, T0)).id;
    }

    describe('opening', () => {
      it('answers ping and reports its dialect', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        expect(store.dialect).toBe(name);
      });

      it('runs migrations idempotently: a second open of the same database applies nothing and keeps data', async () => {
        const user = await store.createUser({ email: email(), passwordHash: 'h' }, T0);
        const again = await backend.open();
        try {
          expect(await again.getUserById(user.id)).toEqual(user);
        } finally {
          await again.close();
        }
      });

      it('rejects use after close with ERR_STORE_CLOSED', async () => {
        const other = await backend.open();
        await other.close();
        await other.close();
        await expect(other.listUsers({ limit: 1 })).rejects.toMatchObject({ code: 'ERR_STORE_CLOSED' });
      });
    });

    describe('values the database refuses', () => {
      // The HTTP input guard keeps such values from every route (input-fuzz.test.ts); this is the store's own
      // answer when a caller gets one through anyway: a stable code, never a raw driver error.
      it('answers a non-integer page offset with ERR_STORE_BAD_VALUE', async () => {
        const err: unknown = await store.listUsers({ limit: 1, offset: 1.5 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreError);
        expect(err).toMatchObject({ code: 'ERR_STORE_BAD_VALUE' });
        // The store keeps working afterwards.
        await expect(store.listUsers({ limit: 1, offset: 0 })).resolves.toBeInstanceOf(Array);
      });

      it('answers a name the column cannot hold with ERR_STORE_BAD_VALUE, or keeps it exactly', async () => {
        const id = await newUser();
        // PostgreSQL refuses U+0000 in text (SQLSTATE 22021); SQLite stores it.
        const result: unknown = await store.setName(id, 'a\u0000b').catch((e: unknown) => e);
        if (name === 'postgres') {
          expect(result).toMatchObject({ code: 'ERR_STORE_BAD_VALUE' });
          expect((await store.getUserById(id))?.name).toBeNull();
        } else {
          expect(result).toMatchObject({ name: 'a\u0000b' });
        }
      });
    });

    describe('users', () => {
      it('keeps the email display form, compares by its key, and finds it in any case', async () => {
        const raw = `  Ada.${randomUUID()}@Example.COM `;
        const user = await store.createUser(
          { email: raw, passwordHash: 'argon', name: 'Ada', roles: ['admin'] },
          T0,
        );
        expect(user).toMatchObject({
          email: raw.trim(),
          emailKey: raw.trim().toLowerCase(),
          passwordHash: 'argon',
          name: 'Ada',
          roles: ['admin'],
          status: 'active',
          tokenVersion: 1,
          tokensValidAfter: 0,
          createdAt: T0,
          updatedAt: T0,
        });
        expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(await store.getUserByEmail(raw.toUpperCase())).toEqual(user);
        expect(await store.getUserById(user.id)).toEqual(user);
        expect(await store.getUserById(randomUUID())).toBeUndefined();
      });

      it('refuses a second user with the same email (any case) with ERR_STORE_CONFLICT, not a driver error', async () => {
        const address = email();
        await store.createUser({ email: address, passwordHash: 'h' });
        const err: unknown = await store
          .createUser({ email: address.toUpperCase(), passwordHash: 'h' })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreError);
        expect(err).toMatchObject({ code: 'ERR_STORE_CONFLICT' });
        expect((err as Error).message).not.toContain(address);
      });

      it('pages users in a stable order', async () => {
        const before = (await store.listUsers({ limit: 1000 })).length;
        for (let i = 0; i < 3; i++)
          await store.createUser({ email: email(), passwordHash: 'h' }, T0 + 10 * MIN + i);
        const all = await store.listUsers({ limit: 1000 });
        expect(all).toHaveLength(before + 3);
        const page = await store.listUsers({ limit: 2, offset: 1 });
        expect(page.map((u) => u.id)).toEqual(all.slice(1, 3).map((u) => u.id));
        expect(() => store.listUsers({ limit: 0 })).toThrow(TypeError);
      });

      it('setRoles replaces the roles and bumps token_version in the same update', async () => {
        const id = await newUser();
        const updated = await store.setRoles(id, ['admin', 'billing'], T0 + MIN);
        expect(updated).toMatchObject({ roles: ['admin', 'billing'], tokenVersion: 2, updatedAt: T0 + MIN });
        expect(await store.setRoles(id, [])).toMatchObject({ tokenVersion: 3 });
        expect(await store.setRoles(randomUUID(), ['x'])).toBeUndefined();
      });

      it('setStatus bumps the version; a password change and a cut-off do not', async () => {
        const id = await newUser();
        expect(await store.setStatus(id, 'disabled')).toMatchObject({ status: 'disabled', tokenVersion: 2 });
        expect(await store.updatePasswordHash(id, 'new')).toMatchObject({
          passwordHash: 'new',
          tokenVersion: 2,
        });
        expect(await store.cutOffUser(id, T0 + 5)).toMatchObject({
          tokensValidAfter: T0 + 5,
          tokenVersion: 2,
        });
        expect(await store.setStatus(randomUUID(), 'disabled')).toBeUndefined();
      });

      it('refuses look-alike emails as the same account, and invisible characters outright', async () => {
        const id = randomUUID().slice(0, 8);
        await store.createUser({ email: `ops-${id}@example.com`, passwordHash: 'h' });
        const lookAlikes = [
          `OPS-${id}@EXAMPLE.COM`,
          `ｏｐｓ-${id}@example.com`, // fullwidth letters
          `ops-${id}@example.com.`, // trailing root dot
          `ops-${id}＠example.com`, // fullwidth at sign
        ];
        for (const address of lookAlikes) {
          await expect(store.createUser({ email: address, passwordHash: 'h' })).rejects.toMatchObject({
            code: 'ERR_STORE_CONFLICT',
          });
        }
        const accent = `jose\u0301-${id}@example.com`; // decomposed é
        await store.createUser({ email: `josé-${id}@example.com`, passwordHash: 'h' });
        await expect(store.createUser({ email: accent, passwordHash: 'h' })).rejects.toMatchObject({
          code: 'ERR_STORE_CONFLICT',
        });
        for (const bad of ['\u200b', '\u202e', '\u2066', '\u0007', '\ufeff']) {
          await expect(
            store.createUser({ email: `ops-${id}${bad}x@example.com`, passwordHash: 'h' }),
          ).rejects.toMatchObject({ name: 'InvalidEmailError' });
        }
        expect(await store.getUserByEmail(`ＯＰＳ-${id}@Example.com.`)).toMatchObject({
          email: `ops-${id}@example.com`,
        });
        const idn = await store.createUser({ email: `a-${id}@Bücher.example`, passwordHash: 'h' });
        expect(idn).toMatchObject({
          email: `a-${id}@Bücher.example`,
          emailKey: `a-${id}@xn--bcher-kva.example`,
        });
      });

      it('updatePasswordHash with expect is a compare-and-swap; endSessions bumps the credential generation', async () => {
        const id = await newUser();
        expect(await store.updatePasswordHash(id, 'h2', { expect: 'other' })).toBeUndefined();
        expect(await store.updatePasswordHash(id, 'h2', { expect: 'h' })).toMatchObject({
          passwordHash: 'h2',
          credentialGeneration: 0,
        });
        const racing = await Promise.all(
          ['a', 'b', 'c'].map((h) => store.updatePasswordHash(id, h, { expect: 'h2', endSessions: true })),
        );
        expect(racing.filter((u) => u !== undefined)).toHaveLength(1);
        expect((await store.getUserById(id))?.credentialGeneration).toBe(1);
      });

      it('passwordHashParameters lists each distinct parameter prefix of the stored hashes once', async () => {
        const tail = (n: number): string => `$${'c2FsdHNhbHQ'.repeat(n)}$aGFzaGhhc2g${n}`;
        const hashes = [
          `$argon2id$v=19$m=65536,t=4,p=1${tail(1)}`,
          `$argon2id$v=19$m=65536,t=4,p=1${tail(2)}`,
          `$argon2id$v=19$m=19456,t=2,p=1${tail(3)}`,
          `$argon2i$v=19$m=4096,p=1,t=3${tail(1)}`,
          `$argon2d$m=2048,t=1,p=2${tail(4)}`,
        ];
        for (const passwordHash of hashes) await store.createUser({ email: email(), passwordHash }, T0);
        const found = await store.passwordHashParameters();
        // Other tests' users have hashes without parameters ('h', 'h2', …): never listed.
        expect(found.filter((p) => !p.includes('$m='))).toEqual([]);
        expect(found).toEqual(
          expect.arrayContaining([
            '$argon2id$v=19$m=65536,t=4,p=1',
            '$argon2id$v=19$m=19456,t=2,p=1',
            '$argon2i$v=19$m=4096,p=1,t=3',
            '$argon2d$m=2048,t=1,p=2',
          ]),
        );
        expect(new Set(found).size).toBe(found.length);
        expect(await store.passwordHashParameters(2)).toHaveLength(2);
      });

      it('cutOffUser moves the cut-off forward only, bumps the generation and carries the kept session along', async () => {
        const id = await newUser();
        const kept = await store.createSession({ userId: id, absoluteExpiresAt: T0 + 10 * MIN }, T0);
        const other = await store.createSession({ userId: id, absoluteExpiresAt: T0 + 10 * MIN }, T0);
        const user = await store.cutOffUser(id, T0 + 5, { keepSession: kept.id });
        expect(user).toMatchObject({ tokensValidAfter: T0 + 5, credentialGeneration: 1 });
        expect((await store.getSession(kept.id))?.credentialGeneration).toBe(1);
        expect((await store.getSession(other.id))?.credentialGeneration).toBe(0);
        expect(await store.cutOffUser(id, T0)).toMatchObject({
          tokensValidAfter: T0 + 5,
          credentialGeneration: 2,
        });
      });

      it('cutOffUser moves the device cut-off with the account’s, except with keepDevices (a failure burst’s)', async () => {
        const id = await newUser();
        expect(await store.getUserById(id)).toMatchObject({ tokensValidAfter: 0, devicesValidAfter: 0 });
        expect(await store.cutOffUser(id, T0 + 5)).toMatchObject({
          tokensValidAfter: T0 + 5,
          devicesValidAfter: T0 + 5,
        });
        // Kept: the device cut-off stays where it stood, twice over.
        expect(await store.cutOffUser(id, T0 + 10, { keepDevices: true })).toMatchObject({
          tokensValidAfter: T0 + 10,
          devicesValidAfter: T0 + 5,
          credentialGeneration: 2,
        });
        expect(await store.cutOffUser(id, T0 + 20, { keepDevices: true })).toMatchObject({
          tokensValidAfter: T0 + 20,
          devicesValidAfter: T0 + 5,
        });
        // The next clean-up brings it up to the account's, which never moves back.
        expect(await store.cutOffUser(id, T0 + 15)).toMatchObject({
          tokensValidAfter: T0 + 20,
          devicesValidAfter: T0 + 20,
        });
      });

      it('a known device claimed before the device cut-off is new again, once; a failure burst’s cut-off keeps it known', async () => {
        const id = await newUser();
        const { mfa } = store;
        expect(await mfa.rememberDevice(id, 'thief', T0)).toBe(true);
        expect(await mfa.rememberDevice(id, 'thief', T0 + 1)).toBe(false);
        await store.cutOffUser(id, T0 + 10, { keepDevices: true });
        expect(await mfa.rememberDevice(id, 'thief', T0 + 11)).toBe(false);
        // The owner's clean-up: claimed before it, so new again — for the first claim after it only.
        await store.cutOffUser(id, T0 + 20);
        const claims = await Promise.all([
          mfa.rememberDevice(id, 'thief', T0 + 21),
          mfa.rememberDevice(id, 'thief', T0 + 21),
        ]);
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect(await mfa.rememberDevice(id, 'thief', T0 + 22)).toBe(false);
        // Still one row: the devices of before count towards "not the very first one".
        expect(await mfa.countDevices(id)).toBe(1);
      });

      it('never leaves zero active admins, even when two admins demote each other at once', async () => {
        for (let round = 0; round < 5; round++) {
          const a = await newUser();
          const b = await newUser();
          expect(await store.setRoles(a, ['admin'])).toMatchObject({ roles: ['admin'] });
          expect(await store.setRoles(b, ['admin'])).toMatchObject({ roles: ['admin'] });
          // Whatever admins earlier tests left are demoted, so a and b are the only active ones.
          for (const u of await store.listUsers({ limit: 1000 })) {
            if (u.id !== a && u.id !== b && u.status === 'active' && u.roles.includes('admin')) {
              await store.setRoles(u.id, []);
            }
          }
          const results = await Promise.all([store.setRoles(a, []), store.setStatus(b, 'disabled')]);
          expect(results.filter((r) => r === 'last_admin')).toHaveLength(1);
          const left = (await store.listUsers({ limit: 1000 })).filter(
            (u) => u.status === 'active' && u.roles.includes('admin'),
          );
          expect(left).toHaveLength(1);
          expect(await store.setRoles(left[0]!.id, ['billing'])).toBe('last_admin');
          expect(await store.setStatus(left[0]!.id, 'disabled')).toBe('last_admin');
          expect(await store.setRoles(left[0]!.id, ['admin', 'billing'])).toMatchObject({ status: 'active' });
        }
      });

      it('login throttles reserve attempts atomically: of a burst only the free ones are counted, the one reaching the budget sets the lock', async () => {
        const key = `k-${randomUUID()}`;
        const schedule = { freeFailures: 3, baseMs: MIN, maxMs: 5 * MIN };
        const at = (now: number, refuse = true) =>
          store.countLoginAttempt(key, schedule, { staleBefore: now - 1000 * MIN, now, refuse });
        expect(await store.getLoginThrottle(key)).toBeUndefined();
        const burst = await Promise.all(Array.from({ length: 12 }, () => at(T0)));
        const counted = burst.flatMap((r) => (r.counted ? [r.failures] : []));
        expect(counted.sort((a, b) => a - b)).toEqual([1, 2, 3]);
        // Each counted attempt has its own place in the run, as its count here (no success has lowered it).
        expect(burst.flatMap((r) => (r.counted ? [r.reserved] : [])).sort((a, b) => a - b)).toEqual([
          1, 2, 3,
        ]);
        expect(burst.filter((r) => !r.counted)).toHaveLength(9);
        // One run of the count: every attempt counted in it has its generation.
        const generations = new Set(burst.flatMap((r) => (r.counted ? [r.generation] : [])));
        expect(generations.size).toBe(1);
        const [generation] = generations;
        expect(await store.getLoginThrottle(key)).toEqual({
          accountKey: key,
          failures: 3,
          lockedUntil: T0 + MIN,
          // The lock is the third attempt's, not checked yet: none stood before it.
          settledUntil: 0,
          updatedAt: T0,
        });
        // Still locked a moment before the lock ends; at its end one more is counted and doubles it.
        expect(await at(T0 + MIN - 1)).toEqual({ counted: false });
        expect(await at(T0 + MIN)).toEqual({
          counted: true,
          failures: 4,
          lockedUntil: T0 + 3 * MIN,
          generation,
          reserved: 4,
        });
        // Counting without refusal (a device credential's failure, on its account) counts while locked; the lock
        // only moves forward, and stops at the maximum.
        expect(await at(T0 + MIN, false)).toEqual({
          counted: true,
          failures: 5,
          lockedUntil: T0 + 5 * MIN,
          generation,
          reserved: 5,
        });
        expect(await at(T0 + 2 * MIN, false)).toEqual({
          counted: true,
          failures: 6,
          lockedUntil: T0 + 7 * MIN,
          generation,
          reserved: 6,
        });
        expect(await at(T0 + 2 * MIN, false)).toEqual({
          counted: true,
          failures: 7,
          lockedUntil: T0 + 7 * MIN,
          generation,
          reserved: 7,
        });
        // A count idle for longer than the staleness window starts over (the lock has expired by then), as a new run.
        const later = T0 + 2000 * MIN;
        const restarted = await store.countLoginAttempt(key, schedule, {
          staleBefore: later - MIN,
          now: later,
          refuse: true,
        });
        expect(restarted).toEqual({
          counted: true,
          failures: 1,
          lockedUntil: T0 + 7 * MIN,
          generation: expect.any(String),
          reserved: 1,
        });
        expect(restarted.counted && restarted.generation).not.toBe(generation);
        expect(await store.pruneLoginThrottles(later + 1, later + 1)).toBeGreaterThanOrEqual(1);
        expect(await store.getLoginThrottle(key)).toBeUndefined();
        await at(T0);
        await store.clearLoginThrottle(key);
        expect(await store.getLoginThrottle(key)).toBeUndefined();
      });

      it('a successful attempt forgets the count up to itself, with its lock and row; attempts counted after it stay', async () => {
        const key = `k-${randomUUID()}`;
        const schedule = { freeFailures: 2, baseMs: MIN, maxMs: 5 * MIN };
        const at = (now: number) =>
          store.countLoginAttempt(key, schedule, { staleBefore: now - 1000 * MIN, now, refuse: true });
        const { reserve, forget } = throttleAttempts(store, key, schedule, 1000 * MIN);
        expect(await reserve()).toMatchObject({ failures: 1 });
        // The second (the budget's last) locks; when it succeeds, count, lock and row go.
        const second = await reserve();
        expect(second).toMatchObject({ failures: 2, lockedUntil: T0 + MIN });
        await forget(second);
        expect(await store.getLoginThrottle(key)).toBeUndefined();
        // Forgetting again (the row gone) changes nothing; the next failure starts a new count.
        await forget(second);
        expect(await store.getLoginThrottle(key)).toBeUndefined();
        // One succeeding while another, counted after it, is still out: the later one stays counted.
        const first = await reserve();
        const later = await reserve();
        expect([first.failures, later.failures]).toEqual([1, 2]);
        await forget(first);
        expect(await store.getLoginThrottle(key)).toMatchObject({ failures: 1, lockedUntil: T0 + MIN });
        expect(await at(T0)).toEqual({ counted: false });
        // That one succeeding too (its count was 2, the row now says 1): the row goes.
        await forget(later);
        expect(await store.getLoginThrottle(key)).toBeUndefined();
      });

      it('a lock raised by an attempt not checked yet is quoted as the lock before it, until the attempt fails', async () => {
        const key = `k-${randomUUID()}`;
        const schedule = { freeFailures: 2, baseMs: MIN, maxMs: 5 * MIN };
        const { reserve } = throttleAttempts(store, key, schedule, 1000 * MIN);
        const wait = async (now: number) => lockWaitMs((await store.getLoginThrottle(key))!, now);
        const first = await reserve();
        // Free: no lock, nothing to wait for, nothing pending.
        expect(await store.getLoginThrottle(key)).toMatchObject({ lockedUntil: 0, settledUntil: null });
        await store.settleLoginAttempt(key, first.generation, T0);
        const second = await reserve();
        expect(second).toMatchObject({ failures: 2, lockedUntil: T0 + MIN });
        // Its lock is not checked yet: none stood before it.
        expect(await store.getLoginThrottle(key)).toMatchObject({ settledUntil: 0 });
        expect(await wait(T0 + 1000)).toBe(0);
        // Its failure confirms it: the whole lock is quoted.
        await store.settleLoginAttempt(key, second.generation, T0 + MIN);
        expect(await store.getLoginThrottle(key)).toMatchObject({
          lockedUntil: T0 + MIN,
          settledUntil: null,
        });
        expect(await wait(T0 + 1000)).toBe(MIN - 1000);
        // At its end the next attempt escalates it; until that one is judged, the confirmed lock (ended) is quoted.
        const third = await store.countLoginAttempt(key, schedule, {
          staleBefore: T0 - 1000 * MIN,
          now: T0 + MIN,
          refuse: true,
        });
        expect(third).toMatchObject({ counted: true, failures: 3, lockedUntil: T0 + 3 * MIN });
        expect(await store.getLoginThrottle(key)).toMatchObject({ settledUntil: T0 + MIN });
        expect(await wait(T0 + MIN + 1)).toBe(0);
        // One never reported (its instance stopped) is taken as failed once the reservation is old.
        expect(await wait(T0 + 2 * MIN + 1)).toBe(MIN - 1);
        // A settle of another run (the row forgotten and counted again since) changes nothing.
        await store.settleLoginAttempt(key, 'another run', T0 + 3 * MIN);
        expect(await store.getLoginThrottle(key)).toMatchObject({ settledUntil: T0 + MIN });
        // A row from before migration 0020 (or an instance of the release before): the whole lock is settled.
        expect(lockWaitMs({ lockedUntil: T0 + MIN, settledUntil: null, updatedAt: T0 }, T0)).toBe(MIN);
      });

      it('successes forgetting a key while failures are counted on it, all at once, lose no failure', async () => {
        const key = `k-${randomUUID()}`;
        const schedule = { freeFailures: 1000, baseMs: MIN, maxMs: MIN };
        const fail = () =>
          store.countLoginAttempt(key, schedule, { staleBefore: T0 - MIN, now: T0, refuse: true });
        const first = await fail();
        if (!first.counted) throw new Error('not counted');
        for (let i = 0; i < 2; i++) await fail();
        // Three successes forget one each (their own attempts), while ten new failures are counted: whatever the
        // interleaving, the ten stay counted (a forget deletes only a count its own attempts cover).
        await Promise.all([
          ...Array.from({ length: 3 }, () =>
            store.forgetLoginAttempts(key, first.reserved, first.generation),
          ),
          ...Array.from({ length: 10 }, fail),
        ]);
        expect((await store.getLoginThrottle(key))?.failures).toBeGreaterThanOrEqual(10);
      });

      it('a success forgets only in the run of the count it was counted in, not a new count after the row went', async () => {
        const key = `k-${randomUUID()}`;
        const schedule = { freeFailures: 1000, baseMs: MIN, maxMs: MIN };
        const { reserve, forget } = throttleAttempts(store, key, schedule, MIN);
        // A reserves (3), B reserves (4), B succeeds: the row goes. C reserves: a new count, 1.
        await reserve();
        await reserve();
        const a = await reserve();
        const b = await reserve();
        expect([a.failures, b.failures]).toEqual([3, 4]);
        await forget(b);
        expect(await store.getLoginThrottle(key)).toBeUndefined();
        const c = await reserve();
        expect(c.failures).toBe(1);
        // A succeeding now forgets nothing of C's count (1 ≤ 3 was A's count in the run that went).
        await forget(a);
        expect(await store.getLoginThrottle(key)).toMatchObject({ failures: 1 });
        // Nor, with more counted since, lowers it by A's count.
        await reserve();
        await reserve();
        await forget(a);
        expect(await store.getLoginThrottle(key)).toMatchObject({ failures: 3 });
        // The attempts of one run share its generation; a new run has another.
        expect(a.generation).toBe(b.generation);
        expect(c.generation).not.toBe(a.generation);
        // A success of the new run forgets in it as before.
        await forget(c);
        expect(await store.getLoginThrottle(key)).toMatchObject({ failures: 2 });
        await forget({ reserved: 3, generation: c.generation });
        expect(await store.getLoginThrottle(key)).toBeUndefined();
      });

      it('successes finishing out of order in one run keep the place of every attempt reserved after them', async () => {
        const key = `k-${randomUUID()}`;
        const schedule = { freeFailures: 1000, baseMs: MIN, maxMs: MIN };
        const { reserve, forget } = throttleAttempts(store, key, schedule, MIN);
        // A reserves, B reserves, A succeeds: B's attempt stays counted.
        const a = await reserve();
        const b = await reserve();
        await forget(a);
        expect(await store.getLoginThrottle(key)).toMatchObject({ failures: 1 });
        // C reserves (the count is 2 again), then B succeeds: C's attempt, reserved after B's, stays counted.
        const c = await reserve();
        expect(await store.getLoginThrottle(key)).toMatchObject({ failures: 2 });
        await forget(b);
        expect(await store.getLoginThrottle(key)).toMatchObject({ failures: 1 });
        // Each attempt has its own place in the run, which no success lowers; the lock schedule still goes by the
        // failure count, not by the places.
        expect([a.reserved, b.reserved, c.reserved]).toEqual([1, 2, 3]);
        const d = await reserve();
        expect(d).toMatchObject({ failures: 2, reserved: 4 });
        expect([a.generation, b.generation, d.generation]).toEqual([
          c.generation,
          c.generation,
          c.generation,
        ]);
        // C succeeding leaves D, reserved after it; D's success forgets the run, row and all.
        await forget(c);
        expect(await store.getLoginThrottle(key)).toMatchObject({ failures: 1 });
        await forget(d);
        expect(await store.getLoginThrottle(key)).toBeUndefined();
      });

      it('a success forgets nothing of a count that restarted after going stale since its attempt', async () => {
        const key = `k-${randomUUID()}`;
        const schedule = { freeFailures: 2, baseMs: MIN, maxMs: 5 * MIN };
        const reserve = async (now: number) => {
          const counted = await store.countLoginAttempt(key, schedule, {
            staleBefore: now - 10 * MIN,
            now,
            refuse: true,
          });
          if (!counted.counted) throw new Error('not counted');
          return counted;
        };
        const forget = (attempt: { reserved: number; generation: string }) =>
          store.forgetLoginAttempts(key, attempt.reserved, attempt.generation);
        // A reserves, and is still out when the count has gone stale and an attempt starts it over.
        const a = await reserve(T0);
        expect(a.failures).toBe(1);
        const later = T0 + 60 * MIN;
        const c = await reserve(later);
        expect(c.failures).toBe(1);
        await forget(a);
        expect(await store.getLoginThrottle(key)).toMatchObject({ failures: 1, updatedAt: later });
        // With the restarted count past the free ones (locked), A's success neither lowers it nor lifts the lock.
        const d = await reserve(later);
        expect(d).toMatchObject({ failures: 2, lockedUntil: later + MIN });
        await forget(a);
        expect(await store.getLoginThrottle(key)).toMatchObject({ failures: 2, lockedUntil: later + MIN });
        expect(c.generation).not.toBe(a.generation);
        expect(d.generation).toBe(c.generation);
        // The new run's own success forgets it.
        await forget(d);
        expect(await store.getLoginThrottle(key)).toBeUndefined();
      });

      it("a sign-in's one read gives the throttle, the user and whether a factor is confirmed, each on its own", async () => {
        const key = `k-${randomUUID()}`;
        const address = email();
        // Nothing known: no throttle, no user; an address no account can have reads the same way.
        expect(await store.getSignInState(key, address)).toEqual({
          throttle: undefined,
          user: undefined,
          hasConfirmedFactor: false,
        });
        expect(await store.getSignInState(key, 'not an address')).toEqual({
          throttle: undefined,
          user: undefined,
          hasConfirmedFactor: false,
        });
        // A throttle without a user (failures on an unknown address are counted too).
        await store.countLoginAttempt(
          key,
          { freeFailures: 1, baseMs: MIN, maxMs: MIN },
          { staleBefore: T0 - MIN, now: T0, refuse: true },
        );
        const throttle = {
          accountKey: key,
          failures: 1,
          lockedUntil: T0 + MIN,
          settledUntil: 0,
          updatedAt: T0,
        };
        expect(await store.getSignInState(key, address)).toEqual({
          throttle,
          user: undefined,
          hasConfirmedFactor: false,
        });
        const user = await store.createUser({ email: address, passwordHash: 'h' }, T0);
        // The user by its address however it is spelled; another account's throttle does not leak in.
        expect(await store.getSignInState(key, address.toUpperCase())).toEqual({
          throttle,
          user: await store.getUserById(user.id),
          hasConfirmedFactor: false,
        });
        expect((await store.getSignInState(`other-${key}`, address)).throttle).toBeUndefined();
        // A pending enrolment is no factor yet; once confirmed it is.
        const factor = { id: randomUUID(), userId: user.id, kind: 'totp' as const, name: 'phone' };
        await store.mfa.insertFactor(factor);
        expect((await store.getSignInState(key, address)).hasConfirmedFactor).toBe(false);
        expect(await store.mfa.confirmFactor(user.id, factor.id)).toBe(true);
        expect((await store.getSignInState(key, address)).hasConfirmedFactor).toBe(true);
        // Another user's confirmed factor is not this user's.
        const other = await store.createUser({ email: email(), passwordHash: 'h' }, T0);
        expect((await store.getSignInState(key, other.email)).hasConfirmedFactor).toBe(false);
      });

      it("a sign-in's read after the commit gives the user and the scopes of the session's client", async () => {
        const user = await store.createUser({ email: email(), passwordHash: 'h' }, T0);
        const clientId = `c-${randomUUID()}`;
        expect(await store.getUserForSession(user.id, clientId)).toEqual({ user, clientScopes: undefined });
        await store.createClient({
          clientId,
          name: 'app',
          authMethod: 'none',
          secretHash: null,
          sealedSecret: null,
          jwks: null,
          jwksUri: null,
          grantTypes: ['refresh_token'],
          scopes: ['read', 'write'],
          audiences: [],
          tokenTtlMs: null,
          firstParty: false,
        });
        expect(await store.getUserForSession(user.id, clientId)).toEqual({
          user,
          clientScopes: ['read', 'write'],
        });
        expect(await store.getUserForSession(randomUUID(), clientId)).toEqual({
          user: undefined,
          clientScopes: undefined,
        });
      });

      it('bumps token_version atomically under concurrency (no lost updates)', async () => {
        const id = await newUser();
        await Promise.all(Array.from({ length: 10 }, (_, i) => store.setRoles(id, [`role-${i}`])));
        expect((await store.getUserById(id))?.tokenVersion).toBe(11);
      });
    });

    describe('sessions', () => {
      it('creates a session with times round-tripping as numbers', async () => {
        const userId = await newUser();
        const session = await store.createSession(
          { userId, absoluteExpiresAt: T0 + 90 * MIN, idleTimeoutMs: 30 * MIN, userAgent: 'ua', ip: '::1' },
          T0,
        );
        const read = await store.getSession(session.id);
        expect(read).toEqual(session);
        expect(read).toMatchObject({
          userId,
          createdAt: T0,
          lastUsedAt: T0,
          authTime: T0,
          absoluteExpiresAt: T0 + 90 * MIN,
          idleTimeoutMs: 30 * MIN,
          revokedAt: null,
          mode: 'refresh',
        });
        for (const key of [
          'createdAt',
          'lastUsedAt',
          'absoluteExpiresAt',
          'idleTimeoutMs',
          'authTime',
        ] as const) {
          expect(typeof read?.[key]).toBe('number');
        }
      });

      it('refuses a session for an unknown user with ERR_STORE_REFERENCE', async () => {
        await expect(
          store.createSession({ userId: randomUUID(), absoluteExpiresAt: T0 }),
        ).rejects.toMatchObject({
          code: 'ERR_STORE_REFERENCE',
        });
      });

      it('lists only live sessions: not revoked, not idle-expired, not past absolute expiry', async () => {
        const userId = await newUser();
        const live = await store.createSession(
          { userId, absoluteExpiresAt: T0 + 60 * MIN, idleTimeoutMs: 10 * MIN },
          T0,
        );
        const noIdle = await store.createSession(
          { userId, absoluteExpiresAt: T0 + 60 * MIN, mode: 'single' },
          T0,
        );
        const idle = await store.createSession(
          { userId, absoluteExpiresAt: T0 + 60 * MIN, idleTimeoutMs: MIN },
          T0,
        );
        const absolute = await store.createSession({ userId, absoluteExpiresAt: T0 + 2 * MIN }, T0);
        const revoked = await store.createSession({ userId, absoluteExpiresAt: T0 + 60 * MIN }, T0);
        await store.revokeSession(revoked.id, 'logout', T0);
        expect(await store.touchSession(live.id, T0 + 4 * MIN)).toBe(true);

        const ids = (await store.listSessionsForUser(userId, T0 + 5 * MIN)).map((s) => s.id);
        expect(ids).toEqual([live.id, noIdle.id]);
        expect(ids).not.toContain(idle.id);
        expect(ids).not.toContain(absolute.id);
        expect((await store.getSession(noIdle.id))?.mode).toBe('single');
      });

      it('revokes idempotently: only the first call reports a change and its reason sticks', async () => {
        const userId = await newUser();
        const s = await store.createSession({ userId, absoluteExpiresAt: T0 + MIN }, T0);
        expect(await store.revokeSession(s.id, 'logout', T0 + 1)).toBe(true);
        expect(await store.revokeSession(s.id, 'admin', T0 + 2)).toBe(false);
        expect(await store.getSession(s.id)).toMatchObject({ revokedAt: T0 + 1, revokedReason: 'logout' });
        expect(await store.touchSession(s.id)).toBe(false);
        expect(await store.setSessionAuthentication(s.id, { authTime: T0 + 3 })).toBe(false);
        expect(await store.revokeSession(randomUUID(), 'logout')).toBe(false);
      });

      it('never touches an ended session back to life: idle past its timeout or past its absolute expiry', async () => {
        const userId = await newUser();
        const idle = await store.createSession(
          { userId, absoluteExpiresAt: T0 + 60 * MIN, idleTimeoutMs: MIN },
          T0,
        );
        const expired = await store.createSession({ userId, absoluteExpiresAt: T0 + 2 * MIN }, T0);
        expect(await store.touchSession(idle.id, T0 + 2 * MIN)).toBe(false);
        expect(await store.touchSession(expired.id, T0 + 3 * MIN)).toBe(false);
        expect((await store.getSession(idle.id))?.lastUsedAt).toBe(T0);
        const live = (await store.listSessionsForUser(userId, T0 + 2 * MIN)).map((s) => s.id);
        expect(live).not.toContain(idle.id);
        // Within its idle timeout it is touched as before.
        const fresh = await store.createSession(
          { userId, absoluteExpiresAt: T0 + 60 * MIN, idleTimeoutMs: MIN },
          T0,
        );
        expect(await store.touchSession(fresh.id, T0 + MIN / 2)).toBe(true);
        expect((await store.getSession(fresh.id))?.lastUsedAt).toBe(T0 + MIN / 2);
      });

      it('sets the auth time of a live session', async () => {
        const userId = await newUser();
        const s = await store.createSession({ userId, absoluteExpiresAt: T0 + MIN }, T0);
        expect(await store.setSessionAuthentication(s.id, { authTime: T0 + 7 })).toBe(true);
        expect(await store.getSession(s.id)).toMatchObject({ authTime: T0 + 7 });
      });

      it('binds an unbound live session to one DPoP key: of concurrent binds the first wins', async () => {
        const userId = await newUser();
        const s = await store.createSession({ userId, absoluteExpiresAt: T0 + MIN }, T0);
        const results = await Promise.all(
          ['jkt-a', 'jkt-b', 'jkt-c'].map((jkt) => store.bindSessionDPoPKey(s.id, jkt)),
        );
        const winner = (await store.getSession(s.id))?.dpopJkt;
        expect(['jkt-a', 'jkt-b', 'jkt-c']).toContain(winner);
        expect(results).toEqual([winner, winner, winner]);
        expect(await store.bindSessionDPoPKey(s.id, 'jkt-d')).toBe(winner);
        await store.revokeSession(s.id, 'logout', T0 + 1);
        expect(await store.bindSessionDPoPKey(s.id, 'jkt-d')).toBeUndefined();
        expect(await store.bindSessionDPoPKey(randomUUID(), 'jkt-d')).toBeUndefined();
        const bound = await store.createSession(
          { userId, absoluteExpiresAt: T0 + MIN, dpopJkt: 'jkt-x' },
          T0,
        );
        expect(await store.bindSessionDPoPKey(bound.id, 'jkt-y')).toBe('jkt-x');
      });
    });

    describe('refresh tokens', () => {
      async function newFamily(): Promise<{ sessionId: string; hash: string }> {
        const userId = await newUser();
        const session = await store.createSession({ userId, absoluteExpiresAt: T0 + 60 * MIN }, T0);
        const hash = sha256(randomUUID());
        await store.insertRefreshToken({ tokenHash: hash, sessionId: session.id, generation: 1 }, T0);
        return { sessionId: session.id, hash };
      }

      it('stores a token by hash and reads it back', async () => {
        const { sessionId, hash } = await newFamily();
        expect(await store.getRefreshToken(hash)).toEqual({
          tokenHash: hash,
          sessionId,
          generation: 1,
          createdAt: T0,
          rotatedAt: null,
          successorHash: null,
          successorCiphertext: null,
          marker: null,
        });
        await expect(
          store.insertRefreshToken({ tokenHash: hash, sessionId, generation: 1 }),
        ).rejects.toMatchObject({
          code: 'ERR_STORE_CONFLICT',
        });
      });

      it("keeps a token's family marker, carries it to the successor a rotation is given, and finds the session by it", async () => {
        const { sessionId } = await newFamily();
        const marker = randomUUID().replace(/-/g, '').slice(0, 16);
        const first = sha256(`marked-${randomUUID()}`);
        expect(
          await store.insertRefreshToken({ tokenHash: first, sessionId, generation: 1, marker }),
        ).toMatchObject({ marker });
        const next = { hash: sha256(`marked-next-${randomUUID()}`), ciphertext: 'c', generation: 2, marker };
        const rotated = await store.rotateRefreshToken(first, next, T0 + 1, { touchSession: sessionId });
        expect(rotated).toMatchObject({ status: 'rotated', token: { marker }, successor: { marker } });
        expect(await store.sessionsWithRefreshMarker(marker)).toEqual([sessionId]);
        expect(await store.sessionsWithRefreshMarker('0000000000000000')).toEqual([]);
      });

      it('lets exactly one of 10 concurrent rotations of the same token win', async () => {
        const { sessionId, hash } = await newFamily();
        const successors = Array.from({ length: 10 }, (_, i) => ({
          hash: sha256(`successor-${i}-${randomUUID()}`),
          ciphertext: `ciphertext-${i}`,
          generation: 2,
        }));
        const results = await Promise.all(successors.map((s) => store.rotateRefreshToken(hash, s, T0 + MIN)));

        const winners = results.filter((r) => r.status === 'rotated');
        expect(winners).toHaveLength(1);
        const winner = winners[0]!;
        if (winner.status !== 'rotated') throw new Error('unreachable');
        expect(results.filter((r) => r.status === 'already_rotated')).toHaveLength(9);
        for (const r of results) {
          if (r.status !== 'already_rotated') continue;
          expect(r.token).toMatchObject({
            rotatedAt: T0 + MIN,
            successorHash: winner.successor.tokenHash,
            successorCiphertext: winner.token.successorCiphertext,
          });
        }
        expect(winner.successor).toMatchObject({
          sessionId,
          generation: 2,
          createdAt: T0 + MIN,
          rotatedAt: null,
        });
        // Only the winner's successor exists.
        const stored = await Promise.all(successors.map((s) => store.getRefreshToken(s.hash)));
        expect(stored.filter((t) => t !== undefined)).toHaveLength(1);
      });

      it('rotates down a chain and reports an unknown token as not_found', async () => {
        const { hash } = await newFamily();
        const second = { hash: sha256(randomUUID()), ciphertext: 'c2', generation: 2 };
        const third = { hash: sha256(randomUUID()), ciphertext: 'c3', generation: 3 };
        expect((await store.rotateRefreshToken(hash, second, T0 + 1)).status).toBe('rotated');
        expect((await store.rotateRefreshToken(second.hash, third, T0 + 2)).status).toBe('rotated');
        expect((await store.rotateRefreshToken(hash, third, T0 + 3)).status).toBe('already_rotated');
        expect(await store.rotateRefreshToken(sha256('nope'), third)).toEqual({ status: 'not_found' });
      });

      it('reads a token with its session, user, client scopes, sighting and rotations in one statement (getRefreshState)', async () => {
        const { sessionId, hash } = await newFamily();
        const session = (await store.getSession(sessionId))!;
        expect(await store.getRefreshState(hash, T0 - MIN)).toEqual({
          token: await store.getRefreshToken(hash),
          session,
          user: await store.getUserById(session.userId),
          clientScopes: (await store.getClient(session.clientId))?.scopes,
          sighting: undefined,
          rotations: 0,
        });
        expect(await store.getRefreshState(sha256('nope'))).toBeUndefined();

        // After one rotation and one sighting: both come back with the successor's state.
        const second = { hash: sha256(randomUUID()), ciphertext: 'c2', generation: 2 };
        await store.rotateRefreshToken(hash, second, T0 + MIN, { touchSession: sessionId });
        await store.mfa.recordSighting(sessionId, { network: '10.0.0.0/24', userAgent: 'Firefox' });
        const state = (await store.getRefreshState(second.hash, T0))!;
        expect(state.rotations).toBe(1);
        expect(state.sighting).toMatchObject({ network: '10.0.0.0/24', userAgent: 'Firefox' });
        expect((await store.getRefreshState(second.hash, T0 + MIN))!.rotations).toBe(0);
      });

      it('counts only the rotations after the window start, and no more than asked (getRefreshState)', async () => {
        const { sessionId, hash: first } = await newFamily();
        // A long-lived session: 12 rotations, one a minute.
        let hash = first;
        for (let i = 1; i <= 12; i++) {
          const next = { hash: sha256(randomUUID()), ciphertext: `c${i}`, generation: i + 1 };
          const result = await store.rotateRefreshToken(hash, next, T0 + i * MIN, {
            touchSession: sessionId,
          });
          expect(result.status).toBe('rotated');
          hash = next.hash;
        }
        const rotations = async (since: number, atMost?: number): Promise<number | undefined> =>
          (await store.getRefreshState(hash, since, atMost))?.rotations;
        // Rotated at T0 + 1..12 min: strictly after the start only.
        expect(await rotations(T0)).toBe(12);
        expect(await rotations(T0 + 9 * MIN)).toBe(3);
        expect(await rotations(T0 + 9 * MIN - 1)).toBe(4);
        expect(await rotations(T0 + 12 * MIN)).toBe(0);
        // The cap, on PostgreSQL: exact below it, the cap itself at or above it. SQLite counts them all (from the
        // index alone, cheaper there than stopping).
        const capped = name === 'postgres';
        expect(await rotations(T0, 5)).toBe(capped ? 5 : 12);
        expect(await rotations(T0 + 9 * MIN, 3)).toBe(3);
        expect(await rotations(T0 + 9 * MIN, 4)).toBe(3);
        expect(await rotations(T0, 0)).toBe(capped ? 0 : 12);
        // Another session's rotations never count.
        const other = await newFamily();
        await store.rotateRefreshToken(
          other.hash,
          { hash: sha256(randomUUID()), ciphertext: 'o', generation: 2 },
          T0 + 13 * MIN,
        );
        expect(await rotations(T0 + 12 * MIN)).toBe(0);
      });

      it('rotates with touchSession only while the session is live and its user active on its generation', async () => {
        const { sessionId, hash } = await newFamily();
        const second = { hash: sha256(randomUUID()), ciphertext: 'c2', generation: 2 };
        const won = await store.rotateRefreshToken(hash, second, T0 + MIN, { touchSession: sessionId });
        expect(won).toMatchObject({ status: 'rotated', session: { id: sessionId, lastUsedAt: T0 + MIN } });
        const again = await store.rotateRefreshToken(hash, second, T0 + 2 * MIN, { touchSession: sessionId });
        expect(again).toMatchObject({ status: 'already_rotated', session: { lastUsedAt: T0 + 2 * MIN } });

        // A disabled user: nothing rotates, nothing is touched.
        const userId = (await store.getSession(sessionId))!.userId;
        await store.setStatus(userId, 'disabled', T0);
        const third = { hash: sha256(randomUUID()), ciphertext: 'c3', generation: 3 };
        expect(
          await store.rotateRefreshToken(second.hash, third, T0 + 3 * MIN, { touchSession: sessionId }),
        ).toEqual({ status: 'session_ended' });
        expect(await store.getRefreshToken(second.hash)).toMatchObject({ rotatedAt: null });
        expect(await store.getSession(sessionId)).toMatchObject({ lastUsedAt: T0 + 2 * MIN });
        expect(await store.touchLiveSession(sessionId, T0 + 3 * MIN)).toBeUndefined();

        // An older credential generation (password changed): the same.
        const other = await newFamily();
        const owner = (await store.getSession(other.sessionId))!.userId;
        await store.cutOffUser(owner, T0);
        expect(
          await store.rotateRefreshToken(other.hash, third, T0 + MIN, { touchSession: other.sessionId }),
        ).toEqual({ status: 'session_ended' });
        expect(await store.getRefreshToken(third.hash)).toBeUndefined();
      });

      it('records the sighting with a rotation whose touch matched, and never for an ended session', async () => {
        const { sessionId, hash } = await newFamily();
        const sightingOf = async (tokenHash: string) =>
          (await store.getRefreshState(tokenHash, T0))?.sighting;
        const second = { hash: sha256(randomUUID()), ciphertext: 'c2', generation: 2 };
        const here = { network: '192.0.2.0/24', userAgent: 'Firefox' };
        expect(
          await store.rotateRefreshToken(hash, second, T0 + MIN, { touchSession: sessionId, sighting: here }),
        ).toMatchObject({ status: 'rotated' });
        expect(await sightingOf(second.hash)).toEqual({ ...here, seenAt: T0 + MIN });

        // A rotation that loses (already rotated) still touched the session: the sighting moves on.
        const there = { network: '198.51.100.0/24', userAgent: 'Chrome' };
        expect(
          await store.rotateRefreshToken(hash, second, T0 + 2 * MIN, {
            touchSession: sessionId,
            sighting: there,
          }),
        ).toMatchObject({ status: 'already_rotated' });
        expect(await sightingOf(second.hash)).toEqual({ ...there, seenAt: T0 + 2 * MIN });

        // Without a sighting, none is written.
        const third = { hash: sha256(randomUUID()), ciphertext: 'c3', generation: 3 };
        await store.rotateRefreshToken(second.hash, third, T0 + 3 * MIN, { touchSession: sessionId });
        expect(await sightingOf(third.hash)).toEqual({ ...there, seenAt: T0 + 2 * MIN });

        // An ended session: nothing rotates and the sighting stays as it was.
        await store.revokeSession(sessionId, 'logout', T0 + 4 * MIN);
        const fourth = { hash: sha256(randomUUID()), ciphertext: 'c4', generation: 4 };
        expect(
          await store.rotateRefreshToken(third.hash, fourth, T0 + 5 * MIN, {
            touchSession: sessionId,
            sighting: here,
          }),
        ).toEqual({ status: 'session_ended' });
        expect(await sightingOf(third.hash)).toEqual({ ...there, seenAt: T0 + 2 * MIN });
      });

      it('touches only live sessions (touchLiveSession): not revoked, not idle or past absolute expiry', async () => {
        const userId = await newUser();
        const live = await store.createSession(
          { userId, absoluteExpiresAt: T0 + 60 * MIN, idleTimeoutMs: 10 * MIN },
          T0,
        );
        const idle = await store.createSession(
          { userId, absoluteExpiresAt: T0 + 60 * MIN, idleTimeoutMs: MIN },
          T0,
        );
        const absolute = await store.createSession({ userId, absoluteExpiresAt: T0 + 2 * MIN }, T0);
        const revoked = await store.createSession({ userId, absoluteExpiresAt: T0 + 60 * MIN }, T0);
        await store.revokeSession(revoked.id, 'logout', T0);
        expect(await store.touchLiveSession(live.id, T0 + 5 * MIN)).toEqual({
          ...live,
          lastUsedAt: T0 + 5 * MIN,
        });
        for (const ended of [idle, absolute, revoked]) {
          expect(await store.touchLiveSession(ended.id, T0 + 5 * MIN)).toBeUndefined();
          expect((await store.getSession(ended.id))?.lastUsedAt).toBe(T0);
        }
        expect(await store.touchLiveSession(randomUUID(), T0)).toBeUndefined();
      });

      it('deletes a session’s tokens', async () => {
        const { sessionId, hash } = await newFamily();
        await store.rotateRefreshToken(hash, { hash: sha256(randomUUID()), ciphertext: 'c', generation: 2 });
        expect(await store.deleteRefreshTokensForSession(sessionId)).toBe(2);
        expect(await store.getRefreshToken(hash)).toBeUndefined();
      });
    });

    describe('one-time tokens', () => {
      it('consumes a token exactly once, even under concurrency', async () => {
        const userId = await newUser();
        const tokenHash = sha256(randomUUID());
        await store.insertOneTimeToken(
          { tokenHash, purpose: 'password_reset', userId, expiresAt: T0 + MIN },
          T0,
        );
        const results = await Promise.all(
          Array.from({ length: 5 }, () => store.consumeOneTimeToken(tokenHash, 'password_reset', T0 + 1)),
        );
        const consumed = results.filter((r) => r !== undefined);
        expect(consumed).toHaveLength(1);
        expect(consumed[0]).toMatchObject({ tokenHash, userId, consumedAt: T0 + 1, expiresAt: T0 + MIN });
        expect(await store.consumeOneTimeToken(tokenHash, 'password_reset', T0 + 2)).toBeUndefined();
      });

      it('refuses an expired token and one presented for another purpose', async () => {
        const userId = await newUser();
        const tokenHash = sha256(randomUUID());
        await store.insertOneTimeToken(
          { tokenHash, purpose: 'email_verify', userId, expiresAt: T0 + MIN },
          T0,
        );
        expect(await store.consumeOneTimeToken(tokenHash, 'password_reset', T0 + 1)).toBeUndefined();
        expect(await store.consumeOneTimeToken(tokenHash, 'email_verify', T0 + MIN)).toBeUndefined();
        expect(await store.consumeOneTimeToken(tokenHash, 'email_verify', T0 + MIN - 1)).toBeDefined();
      });

      it('finds a token while it is unused and unexpired for its purpose, without spending it', async () => {
        const userId = await newUser();
        const [live, voided] = [sha256(randomUUID()), sha256(randomUUID())];
        for (const tokenHash of [live, voided])
          await store.insertOneTimeToken(
            { tokenHash, purpose: 'email_change', userId, expiresAt: T0 + MIN },
            T0,
          );
        expect(await store.findUnusedOneTimeToken(live, 'email_change', T0 + 1)).toMatchObject({
          tokenHash: live,
          userId,
          consumedAt: null,
        });
        // A read only: the token is still there to consume.
        expect(await store.findUnusedOneTimeToken(live, 'email_change', T0 + 1)).toBeDefined();
        expect(await store.findUnusedOneTimeToken(live, 'password_reset', T0 + 1)).toBeUndefined();
        expect(await store.findUnusedOneTimeToken(live, 'email_change', T0 + MIN)).toBeUndefined();
        expect(
          await store.findUnusedOneTimeToken(sha256(randomUUID()), 'email_change', T0 + 1),
        ).toBeUndefined();
        expect(await store.consumeOneTimeToken(live, 'email_change', T0 + 2)).toBeDefined();
        expect(await store.findUnusedOneTimeToken(live, 'email_change', T0 + 3)).toBeUndefined();
        expect(await store.voidOneTimeTokens(userId, ['email_change'], T0 + 2)).toBe(1);
        expect(await store.findUnusedOneTimeToken(voided, 'email_change', T0 + 3)).toBeUndefined();
      });

      it('voids a user’s unused tokens of the given purposes only, leaving used ones and others alone', async () => {
        const userId = await newUser();
        const otherUser = await newUser();
        const [spent, reset, verify, kept, others] = Array.from({ length: 5 }, () => sha256(randomUUID()));
        const insert = (tokenHash: string, purpose: string, owner = userId) =>
          store.insertOneTimeToken({ tokenHash, purpose, userId: owner, expiresAt: T0 + MIN }, T0);
        await insert(spent!, 'password_reset');
        await insert(reset!, 'password_reset');
        await insert(verify!, 'email_verification');
        await insert(kept!, 'invitation');
        await insert(others!, 'password_reset', otherUser);
        expect(await store.consumeOneTimeToken(spent!, 'password_reset', T0 + 1)).toBeDefined();
        expect(await store.voidOneTimeTokens(userId, ['password_reset', 'email_verification'], T0 + 2)).toBe(
          2,
        );
        expect(await store.consumeOneTimeToken(reset!, 'password_reset', T0 + 3)).toBeUndefined();
        expect(await store.consumeOneTimeToken(verify!, 'email_verification', T0 + 3)).toBeUndefined();
        expect(await store.consumeOneTimeToken(kept!, 'invitation', T0 + 3)).toBeDefined();
        expect(await store.consumeOneTimeToken(others!, 'password_reset', T0 + 3)).toBeDefined();
        expect(await store.voidOneTimeTokens(userId, [], T0 + 4)).toBe(0);
      });

      it('prunes expired tokens, consumed or not, and keeps live ones', async () => {
        const userId = await newUser();
        const expired = sha256(randomUUID());
        const consumed = sha256(randomUUID());
        const live = sha256(randomUUID());
        await store.insertOneTimeToken(
          { tokenHash: expired, purpose: 'p', userId, expiresAt: T0 + 100 * MIN },
          T0,
        );
        await store.insertOneTimeToken(
          { tokenHash: consumed, purpose: 'p', userId, expiresAt: T0 + 100 * MIN },
          T0,
        );
        await store.insertOneTimeToken(
          { tokenHash: live, purpose: 'p', userId, expiresAt: T0 + 300 * MIN },
          T0,
        );
        expect(await store.consumeOneTimeToken(consumed, 'p', T0 + 1)).toBeDefined();
        expect(await store.pruneExpiredOneTimeTokens(T0 + 200 * MIN)).toBeGreaterThanOrEqual(2);
        // Deleted, not merely expired: looked up at a time they were valid, they are gone.
        expect(await store.consumeOneTimeToken(expired, 'p', T0 + 2)).toBeUndefined();
        await expect(
          store.insertOneTimeToken({ tokenHash: consumed, purpose: 'p', userId, expiresAt: T0 + MIN }, T0),
        ).resolves.toMatchObject({ tokenHash: consumed });
        expect(await store.consumeOneTimeToken(live, 'p', T0 + 250 * MIN)).toBeDefined();
      });
    });

    describe('token renewals', () => {
      it('claims a renewal exactly once under concurrency, and every caller reads the one winner', async () => {
        const userId = await newUser();
        const session = await store.createSession({ userId, absoluteExpiresAt: T0 + 10 * MIN }, T0);
        const tokenHash = sha256(randomUUID());
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            store.claimTokenRenewal(
              {
                tokenHash,
                sessionId: session.id,
                successorHash: sha256(`successor ${i}`),
                successorCiphertext: `sealed ${i}`,
                expiresAt: T0 + MIN,
              },
              T0 + i,
            ),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect(await store.getTokenRenewal(tokenHash)).toEqual({
          tokenHash,
          sessionId: session.id,
          successorHash: sha256(`successor ${winner}`),
          successorCiphertext: `sealed ${winner}`,
          renewedAt: T0 + winner,
          expiresAt: T0 + MIN,
        });
      });

      it('prunes renewals whose renewed token expired, keeps live ones, and goes with its session', async () => {
        const userId = await newUser();
        const session = await store.createSession({ userId, absoluteExpiresAt: T0 + 500 * MIN }, T0);
        const row = (tokenHash: string, expiresAt: number) => ({
          tokenHash,
          sessionId: session.id,
          successorHash: sha256(randomUUID()),
          successorCiphertext: 'sealed',
          expiresAt,
        });
        const expired = sha256(randomUUID());
        const live = sha256(randomUUID());
        expect(await store.claimTokenRenewal(row(expired, T0 + 100 * MIN), T0)).toBe(true);
        expect(await store.claimTokenRenewal(row(live, T0 + 300 * MIN), T0)).toBe(true);
        expect(await store.pruneTokenRenewals(T0 + 200 * MIN)).toBeGreaterThanOrEqual(1);
        expect(await store.getTokenRenewal(expired)).toBeUndefined();
        expect(await store.getTokenRenewal(live)).toBeDefined();
        await expect(
          store.claimTokenRenewal({ ...row(sha256(randomUUID()), T0), sessionId: randomUUID() }, T0),
        ).rejects.toMatchObject({ code: 'ERR_STORE_REFERENCE' });
      });
    });

    describe('revocations', () => {
      // Runs on its own time line far in the future so other tests' entries are long expired.
      const R0 = T0 + 1_000_000_000;

      it('reads what a revocation check needs in one go (authState): user, session, jti revoked', async () => {
        const userId = await newUser();
        const session = await store.createSession({ userId, absoluteExpiresAt: R0 + 60 * MIN }, R0);
        const user = await store.getUserById(userId);
        const jti = randomUUID();
        expect(await store.authState({ jti, userId, sessionId: session.id }, R0)).toEqual({
          jtiRevoked: false,
          user,
          session,
        });
        await store.addRevocation({ kind: 'jti', subject: jti, expiresAt: R0 + MIN }, R0);
        expect(await store.authState({ jti, userId, sessionId: session.id }, R0 + 1)).toMatchObject({
          jtiRevoked: true,
          user,
        });
        // Expired entries no longer count; an unknown session or user reads as undefined.
        expect(await store.authState({ jti, userId, sessionId: randomUUID() }, R0 + MIN)).toEqual({
          jtiRevoked: false,
          user,
          session: undefined,
        });
        expect(await store.authState({ jti, userId: randomUUID(), sessionId: session.id }, R0 + 1)).toEqual({
          jtiRevoked: true,
          user: undefined,
          session: undefined,
        });
      });

      it('serves a snapshot, then entries after a cursor, and prunes expired ones without reusing ids', async () => {
        await store.pruneExpiredRevocations(Number.MAX_SAFE_INTEGER);
        const first = await store.addRevocation(
          { kind: 'user', subject: 'u1', data: { valid_after: R0 }, expiresAt: R0 + 10 * MIN },
          R0,
        );
        expect(first).toMatchObject({
          kind: 'user',
          subject: 'u1',
          data: { valid_after: R0 },
          createdAt: R0,
        });
        expect(typeof first.id).toBe('number');
        const short = await store.addRevocation({ kind: 'jti', subject: 'j1', expiresAt: R0 + MIN }, R0);
        const snapshot = await store.listRevocationsSince(undefined, 100, R0 + 1);
        expect(snapshot).toEqual({
          entries: [first, short],
          cursor: short.id,
          cursorTag: feedCursorTag(short),
          cursorCreatedAt: R0,
          hasMore: false,
          snapshot: true,
        });

        const third = await store.addRevocation(
          { kind: 'sid', subject: 's1', data: { ver: 2 }, expiresAt: R0 + 5 * MIN },
          R0,
        );
        expect(third.id).toBeGreaterThan(short.id);
        const delta = await store.listRevocationsSince(
          { id: snapshot.cursor, tag: snapshot.cursorTag, createdAt: snapshot.cursorCreatedAt },
          100,
          R0 + 1,
        );
        expect(delta).toEqual({
          entries: [third],
          cursor: third.id,
          cursorTag: feedCursorTag(third),
          cursorCreatedAt: R0,
          hasMore: false,
          snapshot: false,
        });
        expect(await store.listRevocationsSince(third.id, 100, R0 + 1)).toMatchObject({
          entries: [],
          cursor: third.id,
        });

        // After expiry, entries drop out of the feed and can be pruned; the cursor keeps moving forward.
        expect((await store.listRevocationsSince(undefined, 100, R0 + 2 * MIN)).entries).toEqual([
          first,
          third,
        ]);
        expect(await store.pruneExpiredRevocations(R0 + 2 * MIN)).toBe(1);
        const fourth = await store.addRevocation({ kind: 'jti', subject: 'j2', expiresAt: R0 + MIN }, R0);
        expect(fourth.id).toBeGreaterThan(third.id);
        expect(await store.pruneExpiredRevocations(R0 + 20 * MIN)).toBe(3);
        const fifth = await store.addRevocation({ kind: 'jti', subject: 'j3', expiresAt: R0 + 30 * MIN }, R0);
        expect(fifth.id).toBeGreaterThan(fourth.id);
      });

      it('pages with hasMore and treats a cursor ahead of the store as a fresh snapshot', async () => {
        const added = [];
        for (let i = 0; i < 5; i++) {
          added.push(
            await store.addRevocation({ kind: 'jti', subject: `page-${i}`, expiresAt: R0 + 60 * MIN }, R0),
          );
        }
        const start = added[0]!.id - 1;
        const page1 = await store.listRevocationsSince(start, 2, R0);
        expect(page1).toMatchObject({ cursor: added[1]!.id, hasMore: true, snapshot: false });
        expect(page1.entries.map((e) => e.subject)).toEqual(['page-0', 'page-1']);
        const page2 = await store.listRevocationsSince(page1.cursor, 10, R0);
        expect(page2.entries.map((e) => e.subject)).toEqual(['page-2', 'page-3', 'page-4']);
        expect(page2).toMatchObject({ hasMore: false, cursor: added[4]!.id });

        const reset = await store.listRevocationsSince(added[4]!.id + 1000, 100, R0);
        expect(reset.snapshot).toBe(true);
        expect(reset.entries.map((e) => e.subject)).toEqual(expect.arrayContaining(['page-0', 'page-4']));
      });

      it('answers isJtiRevoked only for unexpired jti entries', async () => {
        await store.addRevocation({ kind: 'jti', subject: 'revoked-jti', expiresAt: R0 + MIN }, R0);
        await store.addRevocation({ kind: 'sid', subject: 'not-a-jti', expiresAt: R0 + MIN }, R0);
        expect(await store.isJtiRevoked('revoked-jti', R0)).toBe(true);
        expect(await store.isJtiRevoked('revoked-jti', R0 + MIN)).toBe(false);
        expect(await store.isJtiRevoked('not-a-jti', R0)).toBe(false);
      });

      it('hands out strictly increasing ids to concurrent writers', async () => {
        const entries = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.addRevocation({ kind: 'jti', subject: `c${i}`, expiresAt: R0 + MIN }, R0),
          ),
        );
        expect(new Set(entries.map((e) => e.id)).size).toBe(10);
      });
    });

    describe('signing keys', () => {
      it('stores, lists, updates and removes expired keys', async () => {
        const kid = `k-${randomUUID()}`;
        const key = await store.insertSigningKey(
          {
            kid,
            alg: 'ES256',
            publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' },
            privateKeyCiphertext: 'enc',
          },
          T0,
        );
        expect(key).toEqual({
          kid,
          alg: 'ES256',
          publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' },
          privateKeyCiphertext: 'enc',
          createdAt: T0,
          activatesAt: T0,
          retiredAt: null,
          expiresAt: null,
        });
        await expect(
          store.insertSigningKey({ kid, alg: 'ES256', publicJwk: {}, privateKeyCiphertext: 'x' }),
        ).rejects.toMatchObject({ code: 'ERR_STORE_CONFLICT' });
        expect((await store.listSigningKeys()).map((k) => k.kid)).toContain(kid);

        const retired = await store.updateSigningKey(kid, { retiredAt: T0 + MIN, expiresAt: T0 + 2 * MIN });
        expect(retired).toMatchObject({ retiredAt: T0 + MIN, expiresAt: T0 + 2 * MIN, activatesAt: T0 });
        expect(await store.updateSigningKey(kid, {})).toEqual(retired);
        expect(await store.updateSigningKey('missing', { retiredAt: 1 })).toBeUndefined();

        expect(await store.deleteExpiredKeys(T0 + 2 * MIN - 1)).not.toContain(kid);
        expect(await store.deleteExpiredKeys(T0 + 2 * MIN)).toContain(kid);
        expect((await store.listSigningKeys()).map((k) => k.kid)).not.toContain(kid);
      });
    });

    describe('security events', () => {
      it('appends events and lists them newest first, by user, by type, and by page', async () => {
        const userId = await newUser();
        const a = await store.addSecurityEvent(
          { type: 'login_failed', userId, ip: '10.0.0.1', detail: { n: 1 } },
          T0,
        );
        const b = await store.addSecurityEvent(
          { type: 'refresh_token_reuse', userId, sessionId: 's' },
          T0 + 1,
        );
        const c = await store.addSecurityEvent({ type: 'login_failed', userId }, T0 + 2);
        expect(a).toMatchObject({
          type: 'login_failed',
          userId,
          ip: '10.0.0.1',
          sessionId: null,
          detail: { n: 1 },
          createdAt: T0,
        });

        expect(await store.listSecurityEvents({ limit: 10, userId })).toEqual([c, b, a]);
        expect(await store.listSecurityEvents({ limit: 10, userId, type: 'login_failed' })).toEqual([c, a]);
        expect(await store.listSecurityEvents({ limit: 1, userId, before: c.id })).toEqual([b]);
      });

      it('addSessionEventOnce appends once per session and type, and never for a session ended for that very type', async () => {
        const userId = await newUser();
        const session = async (revokedFor?: string) => {
          const created = await store.createSession({ userId, absoluteExpiresAt: T0 + 60 * MIN }, T0);
          if (revokedFor !== undefined) await store.revokeSession(created.id, revokedFor, T0);
          return created.id;
        };
        const event = (sessionId: string) => ({
          type: 'refresh_token_reuse',
          userId,
          sessionId,
          ip: '10.0.0.9',
        });

        const loggedOut = await session('logout');
        const added = await Promise.all(
          Array.from({ length: 5 }, (_, i) => store.addSessionEventOnce(event(loggedOut), T0 + i)),
        );
        expect(added.filter((e) => e !== undefined)).toHaveLength(1);
        expect(added.find((e) => e !== undefined)).toMatchObject({ ...event(loggedOut), detail: {} });
        expect(await store.addSessionEventOnce({ ...event(loggedOut), type: 'renewal_reuse' })).toBeDefined();
        // Live sessions count too; one ended for the type itself, or gone, gets nothing.
        expect(await store.addSessionEventOnce(event(await session()))).toBeDefined();
        expect(await store.addSessionEventOnce(event(await session('refresh_token_reuse')))).toBeUndefined();
        expect(await store.addSessionEventOnce(event(randomUUID()))).toBeUndefined();
        const events = await store.listSecurityEvents({ limit: 10, userId, type: 'refresh_token_reuse' });
        expect(events).toHaveLength(2);
      });
    });
  });
}
