/**
 * Per-account sign-in throttle, across every address and instance. An attempt is counted BEFORE its password is
 * checked: one atomic upsert reserves it as a failure and sets the lock the new count earns, and refuses it — 429
 * `ERR_LOGIN_LOCKED` with `Retry-After`, the password never evaluated — while the account's sign-in is locked. So of
 * any number of attempts at once, on any number of instances, only as many get a password check as the budget
 * allows: the first `freeFailures` consecutive failures are free, and the attempt that reaches that count (and every
 * further one) locks the account's sign-in for `baseMs × 2^(n − free)` (capped at `maxMs`). A successful check
 * forgets the count up to its own attempt (and the lock its reservation set; a count forgotten entirely leaves no
 * row); attempts reserved after it stay counted — each has a place in the count's run that no success lowers, so
 * successes finishing out of order keep them all — and so does a count started again after its reservation (the row
 * forgotten by another success, or stale), which a generation drawn at each start tells apart. A count untouched for
 * a day starts over. A refusal's `Retry-After` is the lock that stands whatever the attempts still being checked
 * turn out to be (store/login-throttles.ts, `lockWaitMs`): an attempt's lock is confirmed when its check fails, so a
 * right password sent twice at once is not told the full lock its first attempt's reservation set and takes back.
 * Unknown addresses are throttled exactly like known ones, so the throttle reveals nothing about which accounts
 * exist. The same count guards the signed-in password checks
 * (`POST /api/reauth`, `POST /api/password`): a stolen session guesses no faster than a sign-in.
 *
 * An attempt presenting a live device credential of the account (login-devices.ts: a browser that signed in to it
 * before) is reserved on, and judged by, that credential's own count and lock instead — same settings, same atomic
 * upsert — so the account-wide lock others' failures set does not keep the owner out. Its failures count on the
 * account too (a stolen credential gains no guesses over having none); its success forgets only the credential's
 * count, never the account's (those failures are someone else's). A credential of another account, one expired, or
 * one issued before the account's cut-off (a password change, sign-out everywhere: login-devices.ts) is no
 * credential: the attempt is throttled as one without, for known and unknown addresses alike.
 */
import { createHash } from 'node:crypto';

import type { Clock } from '../clock.js';
import {
  emailKey,
  lockMs,
  lockWaitMs,
  type LoginReservation,
  type Store,
  type User,
} from '../store/index.js';
import { DomainError } from './errors.js';
import {
  deviceKey,
  presentedDevice,
  type LoginDeviceService,
  type PresentedDevice,
} from './login-devices.js';

/** Throttle settings (from `JOT_LOGIN_LOCKOUT` and `JOT_LOGIN_LOCKOUT_MAX`). */
export interface LoginThrottleSettings {
  freeFailures: number;
  baseMs: number;
  maxMs: number;
}

/** The locks a failure set (ms from now; 0: none). */
export interface LoginLocks {
  /** The account's, for attempts without a device credential. */
  account: number;
  /** The presented device credential's (0 without one). */
  device: number;
}

/**
 * An attempt that passed the lock check and was counted (reserved) as a failure, with the account it is for (read
 * before the reservation, in one statement with the lock).
 */
export interface LoginAttempt {
  /** The user with this email, read before the password check; undefined for an unknown address. */
  user: User | undefined;
  /** Whether that user has a confirmed second factor (the sign-in then asks for it). */
  hasConfirmedFactor: boolean;
  /** The live device credential of this user the attempt presented (it was judged by it); undefined when none. */
  device: PresentedDevice | undefined;
  /**
   * What a success forgets (the key it was reserved under, its run and place): a sign-in that goes on to a session
   * forgets it with the session's commit (`StartOptions.forget`) instead of `finish(true)`; forgetting twice is
   * harmless.
   */
  reservation: LoginReservation;
  /**
   * Reports the result (once): a success forgets the count up to this attempt; a failure was counted already (on a
   * device credential's count, it is also counted on the account now). Resolves to the locks the failure set.
   */
  finish(ok: boolean): Promise<LoginLocks>;
}

/**
 * 429 `ERR_LOGIN_LOCKED`: the account's sign-in is locked, or (`scope` `device`) the presented credential's. Its
 * message names attempts, not failures: an attempt counts (and may lock) when it is reserved, before its password
 * is checked, so more sign-ins at one moment than the free failures lock even when every one of them is right. The
 * store cannot say which it was — a reservation still being checked and one judged wrong are one count, and a wrong
 * password writes nothing more (telling them apart would take a count of its own, on every instance) — so the
 * message says both.
 */
export class LoginLockedError extends DomainError {
  readonly scope: 'account' | 'device';
  constructor(scope: 'account' | 'device', retryMs: number) {
    const seconds = Math.max(1, Math.ceil(retryMs / 1000));
    super(
      'throttled',
      'ERR_LOGIN_LOCKED',
      scope === 'account'
        ? `too many sign-in attempts for this account (failed or still being checked); try again in ${seconds} s`
        : 'too many sign-in attempts for this account from this device (failed or still being checked); try ' +
            `again in ${seconds} s`,
      { retryAfterSeconds: seconds },
    );
    this.scope = scope;
  }
}

/** The sign-in throttle. */
export interface LoginThrottleService {
  /**
   * Reads the account and the lock for `email` — the device credential's when `deviceTokens` hold a live one of that
   * account, else the account's — in one statement, then reserves the attempt under that key (one atomic upsert);
   * throws {@link LoginLockedError} (429, `Retry-After`) while locked, before any password is checked.
   */
  begin(email: string, deviceTokens?: readonly string[]): Promise<LoginAttempt>;
  /** Drops state untouched for a day whose lock has expired. */
  prune(): Promise<number>;
}

const DAY_MS = 86_400_000;

/** The key an address's sign-in failures are counted under: a hash of the form accounts are found by. */
export function accountKey(email: string): string {
  let key: string;
  try {
    key = emailKey(email);
  } catch {
    key = email.trim().toLowerCase();
  }
  return createHash('sha256').update(key).digest('base64url');
}

/**
 * What an attempt's reservation gave: its count (the lock schedule's), and its place in the run (generation) of the
 * count it was counted in (its success forgets by that place).
 */
interface Reservation {
  counted: number;
  generation: string;
  place: number;
  /** When it was counted (its lock, if it earned one, runs from then). */
  at: number;
}

/** The `finish` of an attempt reserved under `reservedKey` (`reservation`) for the account key `key`. */
function finisher(
  store: Store,
  clock: Clock,
  settings: LoginThrottleSettings,
  reserved: {
    key: string;
    reservedKey: string;
    reservation: Reservation;
    device: PresentedDevice | undefined;
  },
): LoginAttempt['finish'] {
  const { key, reservedKey, device } = reserved;
  const { counted, generation, place, at: reservedAt } = reserved.reservation;
  let finished = false;
  return async (ok) => {
    if (finished) throw new Error('a sign-in attempt is finished once');
    finished = true;
    if (ok) {
      // Forgets the failures up to this attempt (its own reservation included) under the key it was reserved on:
      // from a trusted device only the device's count — the account's are the failures of attempts without it.
      // Attempts reserved after this one stay counted, by their places (not the count, which other successes lower)
      // — all of a count started again since (the row forgotten by another success, or stale): its generation is
      // not this attempt's.
      await store.forgetLoginAttempts(reservedKey, place, generation);
      return { account: 0, device: 0 };
    }
    // Counted already, with the lock it earned. A failure with the credential counts on the account as well, so
    // guessing with a stolen credential is bounded as without one.
    const lock = lockMs(counted, settings);
    // The lock it earned when counted is now confirmed: refusals quote it in full (store/login-throttles.ts,
    // lockWaitMs). A failure within the free ones earned none: nothing to confirm, no statement.
    if (lock > 0) await store.settleLoginAttempt(reservedKey, generation, reservedAt + lock);
    if (device === undefined) return { account: lock, device: 0 };
    const at = clock();
    const onAccount = await store.countLoginAttempt(key, settings, {
      staleBefore: at - DAY_MS,
      now: at,
      refuse: false,
    });
    const account = onAccount.counted ? lockMs(onAccount.failures, settings) : 0;
    return { account, device: lock };
  };
}

/** Builds the throttle; with `devices` (and those on), presented device credentials are honoured. */
export function createLoginThrottle(
  store: Store,
  clock: Clock,
  settings: LoginThrottleSettings,
  devices?: LoginDeviceService,
): LoginThrottleService {
  /** Reserves the attempt under `key` (refused while locked: `scope`'s 429). */
  const reserve = async (key: string, scope: 'account' | 'device', now: number): Promise<Reservation> => {
    const counted = await store.countLoginAttempt(key, settings, {
      staleBefore: now - DAY_MS,
      now,
      refuse: true,
    });
    if (counted.counted) {
      return { counted: counted.failures, generation: counted.generation, place: counted.reserved, at: now };
    }
    // Locked since the read: by another instance's attempt, or a concurrent one of this instance.
    const row = await store.getLoginThrottle(key);
    throw new LoginLockedError(scope, row === undefined ? 0 : lockWaitMs(row, now));
  };
  return {
    async begin(email, deviceTokens = []) {
      const key = accountKey(email);
      const now = clock();
      // Well-formed and, by their issue time, live: only their failure counts are read (with the account's).
      const tokens = devices?.enabled === true ? devices.live(deviceTokens) : [];
      const state = await store.getSignInState(key, email, tokens.map(deviceKey));
      const { throttle: row, user, hasConfirmedFactor } = state;
      // Only a credential signed for THIS user after its cut-off counts; for an unknown address none does (checked
      // all the same). The cut-off came with the user, in the same statement.
      const device =
        devices === undefined
          ? undefined
          : presentedDevice(devices, user, tokens, state.deviceThrottles ?? []);
      // Locked when read: refused without a write. Otherwise the reservation decides, atomically.
      // What a refusal quotes is the lock that stands whatever attempts still being checked turn out to be.
      if (device !== undefined) {
        const deviceRow = state.deviceThrottles?.[tokens.indexOf(device.token)];
        if (deviceRow !== undefined && deviceRow.lockedUntil > now) {
          throw new LoginLockedError('device', lockWaitMs(deviceRow, now));
        }
      } else if (row !== undefined && row.lockedUntil > now) {
        throw new LoginLockedError('account', lockWaitMs(row, now));
      }
      const reservedKey = device?.key ?? key;
      const reservation = await reserve(reservedKey, device === undefined ? 'account' : 'device', now);
      return {
        user,
        hasConfirmedFactor,
        device,
        reservation: { key: reservedKey, generation: reservation.generation, place: reservation.place },
        finish: finisher(store, clock, settings, { key, reservedKey, reservation, device }),
      };
    },
    prune: () => store.pruneLoginThrottles(clock() - DAY_MS),
  };
}
