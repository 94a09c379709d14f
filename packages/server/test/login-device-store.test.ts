/**
 * The store side of the sign-in's device credentials, on SQLite and PostgreSQL: the sign-in's one read gives, besides
 * the account's throttle state, the throttle state under each device key the request presented, in order, each on
 * its own — for an unknown address as for a known one.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Store } from '../src/store/store.js';
import { onBothBackends } from './support/store-backends.js';

const T0 = Date.UTC(2031, 0, 1);
const MIN = 60_000;
const SCHEDULE = { freeFailures: 2, baseMs: MIN, maxMs: 10 * MIN };
/** A device credential's throttle key as the service makes them (`device:` + a hash); here any unique one. */
const newKey = (): string => `device:${randomUUID()}`;

await onBothBackends('device throttles in the sign-in read', (name, open, teardown) => {
  describe(`device throttles in the sign-in read: ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
      await teardown();
    });

    it('gives the state under each device key, in order, apart from the account’s and whoever the address is', async () => {
      const email = `d-${randomUUID()}@example.com`;
      await store.createUser({ email, passwordHash: 'h' }, T0);
      const accountKey = `a-${randomUUID()}`;
      const [quiet, failing, locked] = [newKey(), newKey(), newKey()];
      // Two free failures, then a minute's lock.
      const fail = (key: string) =>
        store.countLoginAttempt(key, SCHEDULE, { staleBefore: T0 - MIN, now: T0, refuse: true });
      await fail(failing);
      await fail(locked);
      await fail(locked);
      const expected = [
        undefined,
        { accountKey: failing, failures: 1, lockedUntil: 0, settledUntil: null, updatedAt: T0 },
        { accountKey: locked, failures: 2, lockedUntil: T0 + MIN, settledUntil: 0, updatedAt: T0 },
      ];
      const known = await store.getSignInState(accountKey, email, [quiet, failing, locked]);
      expect(known.user?.email).toBe(email);
      expect(known.throttle).toBeUndefined();
      expect(known.deviceThrottles).toEqual(expected);
      const unknown = await store.getSignInState(accountKey, `nobody-${randomUUID()}@example.com`, [
        quiet,
        failing,
        locked,
      ]);
      expect(unknown.user).toBeUndefined();
      expect(unknown.deviceThrottles).toEqual(expected);
      // A device's failures are not the account's, nor the other way round.
      await fail(accountKey);
      const both = await store.getSignInState(accountKey, email, [locked]);
      expect(both.throttle).toMatchObject({ failures: 1 });
      expect(both.deviceThrottles).toEqual([expected[2]]);
      // Four at most (one browser, several accounts); none asked, none given.
      expect((await store.getSignInState(accountKey, email, [])).deviceThrottles).toBeUndefined();
      await expect(
        store.getSignInState(accountKey, email, [newKey(), newKey(), newKey(), newKey(), newKey()]),
      ).rejects.toThrow(/at most 4/);
    });
  });
});
