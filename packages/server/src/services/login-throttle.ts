/**
 * Per-account sign-in throttle, across every address and instance. Before a password is checked, an account whose
 * sign-in is locked is refused with 429 `ERR_LOGIN_LOCKED` and `Retry-After`, without evaluating the password. Each
 * failure is counted by one atomic upsert; the first `freeFailures` consecutive failures are free, and every further
 * one locks the account's sign-in for `baseMs × 2^(n − free)` (capped at `maxMs`). A successful sign-in clears the
 * count; a count untouched for a day starts over. Unknown addresses are throttled exactly like known ones, so the
 * throttle reveals nothing about which accounts exist.
 *
 * An attempt presenting a live device credential of the account (login-devices.ts: a browser that signed in to it
 * before) is judged by that credential's own count and lock instead — same settings, same atomic upsert — so the
 * account-wide lock others' failures set does not keep the owner out. Its failures lock the credential and count on
 * the account too (a stolen credential gains no guesses over having none); its success clears only the credential's
 * count, never the account's (those failures are someone else's). A credential of another account, one expired, or
 * one issued before the account's cut-off (a password change, sign-out everywhere: login-devices.ts) is no
 * credential: the attempt is throttled as one without, for known and unknown addresses alike.
 */
import { createHash } from 'node:crypto';

import type { Clock } from '../clock.js';
import { emailKey, type Store, type User } from '../store/index.js';
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

/** An attempt that passed the lock check, with the account it is for (read in the same statement as the lock). */
export interface LoginAttempt {
  /** The user with this email, read before the password check; undefined for an unknown address. */
  user: User | undefined;
  /** Whether that user has a confirmed second factor (the sign-in then asks for it). */
  hasConfirmedFactor: boolean;
  /** The live device credential of this user the attempt presented (it was judged by it); undefined when none. */
  device: PresentedDevice | undefined;
  /** Report the result; resolves to the locks a failure set. */
  finish(ok: boolean): Promise<LoginLocks>;
}

/** 429 `ERR_LOGIN_LOCKED`: the account's sign-in is locked, or (`scope` `device`) the presented credential's. */
export class LoginLockedError extends DomainError {
  readonly scope: 'account' | 'device';
  constructor(scope: 'account' | 'device', retryMs: number) {
    const seconds = Math.max(1, Math.ceil(retryMs / 1000));
    super(
      'throttled',
      'ERR_LOGIN_LOCKED',
      scope === 'account'
        ? `too many failed sign-ins for this account; try again in ${seconds} s`
        : `too many failed sign-ins for this account from this device; try again in ${seconds} s`,
      { retryAfterSeconds: seconds },
    );
    this.scope = scope;
  }
}

/** The sign-in throttle. */
export interface LoginThrottleService {
  /**
   * Checks the lock for `email` — the device credential's when `deviceTokens` hold a live one of that account, else
   * the account's — and reads the account (one statement); throws {@link LoginLockedError} (429, `Retry-After`)
   * while locked.
   */
  begin(email: string, deviceTokens?: readonly string[]): Promise<LoginAttempt>;
  /** Drops state untouched for a day whose lock has expired. */
  prune(): Promise<number>;
}

const DAY_MS = 86_400_000;

function accountKey(email: string): string {
  let key: string;
  try {
    key = emailKey(email);
  } catch {
    key = email.trim().toLowerCase();
  }
  return createHash('sha256').update(key).digest('base64url');
}

/** The lock after `failures` consecutive failures (0 while still free). */
export function lockMs(failures: number, settings: LoginThrottleSettings): number {
  if (failures < settings.freeFailures) return 0;
  const exponent = Math.min(failures - settings.freeFailures, 30);
  return Math.min(settings.maxMs, settings.baseMs * 2 ** exponent);
}

/** Builds the throttle; with `devices` (and those on), presented device credentials are honoured. */
export function createLoginThrottle(
  store: Store,
  clock: Clock,
  settings: LoginThrottleSettings,
  devices?: LoginDeviceService,
): LoginThrottleService {
  /** Counts one failure under `key` (an account's or a device credential's); resolves to the lock it set. */
  const fail = async (key: string): Promise<number> => {
    const at = clock();
    const failures = await store.recordLoginFailure(key, at - DAY_MS, at);
    const lock = lockMs(failures, settings);
    if (lock > 0) await store.extendLoginLock(key, at + lock);
    return lock;
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
      if (device !== undefined) {
        if (device.lockedUntil > now) throw new LoginLockedError('device', device.lockedUntil - now);
      } else if (row !== undefined && row.lockedUntil > now) {
        throw new LoginLockedError('account', row.lockedUntil - now);
      }
      return {
        user,
        hasConfirmedFactor,
        device,
        async finish(ok) {
          if (ok) {
            // Nothing to clear when there was no count when this attempt began (the usual sign-in): a failure
            // counted meanwhile, by a concurrent attempt, is left standing rather than wiped. From a trusted device
            // only the device's count is cleared: the account's failures are those of attempts without it.
            if (device !== undefined) {
              if (device.failures > 0 || device.lockedUntil > 0) await store.clearLoginThrottle(device.key);
            } else if (row !== undefined) await store.clearLoginThrottle(key);
            return { account: 0, device: 0 };
          }
          // A failure with the credential locks the credential and counts on the account as well, so guessing with
          // a stolen credential is bounded as without one.
          const [account, locked] = await Promise.all([
            fail(key),
            device === undefined ? 0 : fail(device.key),
          ]);
          return { account, device: locked };
        },
      };
    },
    prune: () => store.pruneLoginThrottles(clock() - DAY_MS),
  };
}
