/**
 * Per-account sign-in throttle, across every address and instance. Before a password is checked, an account whose
 * sign-in is locked is refused with 429 `ERR_LOGIN_LOCKED` and `Retry-After`, without evaluating the password. Each
 * failure is counted by one atomic upsert; the first `freeFailures` consecutive failures are free, and every further
 * one locks the account's sign-in for `baseMs × 2^(n − free)` (capped at `maxMs`). A successful sign-in clears the
 * count; a count untouched for a day starts over. Unknown addresses are throttled exactly like known ones, so the
 * throttle reveals nothing about which accounts exist.
 */
import { createHash } from 'node:crypto';

import type { Clock } from '../clock.js';
import { emailKey, type Store, type User } from '../store/index.js';
import { DomainError } from './errors.js';

/** Throttle settings (from `JOT_LOGIN_LOCKOUT` and `JOT_LOGIN_LOCKOUT_MAX`). */
export interface LoginThrottleSettings {
  freeFailures: number;
  baseMs: number;
  maxMs: number;
}

/** An attempt that passed the lock check, with the account it is for (read in the same statement as the lock). */
export interface LoginAttempt {
  /** The user with this email, read before the password check; undefined for an unknown address. */
  user: User | undefined;
  /** Whether that user has a confirmed second factor (the sign-in then asks for it). */
  hasConfirmedFactor: boolean;
  /** Report the result; resolves to the lock a failure set (ms from now), or 0. */
  finish(ok: boolean): Promise<number>;
}

/** The sign-in throttle. */
export interface LoginThrottleService {
  /**
   * Checks the account's lock for `email` and reads the account (one statement); throws 429 `ERR_LOGIN_LOCKED`
   * (with `Retry-After`) while locked.
   */
  begin(email: string): Promise<LoginAttempt>;
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

function locked(retryMs: number): DomainError {
  const seconds = Math.max(1, Math.ceil(retryMs / 1000));
  return new DomainError(
    'throttled',
    'ERR_LOGIN_LOCKED',
    `too many failed sign-ins for this account; try again in ${seconds} s`,
    { retryAfterSeconds: seconds },
  );
}

/** Builds the throttle. */
export function createLoginThrottle(
  store: Store,
  clock: Clock,
  settings: LoginThrottleSettings,
): LoginThrottleService {
  return {
    async begin(email) {
      const key = accountKey(email);
      const now = clock();
      const { throttle: row, user, hasConfirmedFactor } = await store.getSignInState(key, email);
      if (row !== undefined && row.lockedUntil > now) throw locked(row.lockedUntil - now);
      return {
        user,
        hasConfirmedFactor,
        async finish(ok) {
          if (ok) {
            // Nothing to clear when the account had no count when this attempt began (the usual sign-in): a
            // failure counted meanwhile, by a concurrent attempt, is left standing rather than wiped.
            if (row !== undefined) await store.clearLoginThrottle(key);
            return 0;
          }
          const at = clock();
          const failures = await store.recordLoginFailure(key, at - DAY_MS, at);
          const lock = lockMs(failures, settings);
          if (lock > 0) await store.extendLoginLock(key, at + lock);
          return lock;
        },
      };
    },
    prune: () => store.pruneLoginThrottles(clock() - DAY_MS),
  };
}
