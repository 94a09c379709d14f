/**
 * Password hashing with argon2id (OWASP: m = 19 MiB, t = 2, p = 1 by default). Hashes made with other parameters
 * still verify and are flagged for a rehash at the next successful login. Unknown emails are checked against a
 * dummy hash, and every failed sign-in is padded to the slowest verification seen recently (`padFailure`), so a
 * failure takes the same time whether the account exists and whatever parameters its hash was made with.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import argon2 from 'argon2';

/** argon2id cost parameters. */
export interface Argon2Params {
  memoryKiB: number;
  timeCost: number;
  parallelism: number;
}

/** Hashes and checks passwords. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Whether `password` matches `hash`; a malformed hash is simply a mismatch. */
  verify(hash: string, password: string): Promise<boolean>;
  /** Burns the time of one verification, for unknown accounts. */
  verifyDummy(password: string): Promise<void>;
  /** Whether `hash` was made with other parameters than the current ones. */
  needsRehash(hash: string): boolean;
  /**
   * Waits until `startedAt` (a `performance.now()` reading taken before the verification) is as far back as the
   * slowest of the last verifications (real or dummy, any parameters), capped at `FAILURE_FLOOR_CAP_MS`.
   */
  padFailure(startedAt: number): Promise<void>;
}

/** How many recent verification times the failure floor is the maximum of. */
const RECENT_VERIFICATIONS = 32;
/** The failure floor never exceeds this, whatever a slow moment measured. */
export const FAILURE_FLOOR_CAP_MS = 2000;

/** The shortest password accepted (NIST SP 800-63B §5.1.1.2). */
export const MIN_PASSWORD_LENGTH = 8;
/** The longest, to bound hashing work. */
export const MAX_PASSWORD_LENGTH = 1024;

/** Builds a hasher with the given parameters. */
export async function createPasswordHasher(params: Argon2Params): Promise<PasswordHasher> {
  const options = {
    type: argon2.argon2id,
    memoryCost: params.memoryKiB,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  } as const;
  const dummy = await argon2.hash('jot-dummy-password-for-timing', options);
  const recent: number[] = [];
  async function timed(hash: string, password: string): Promise<boolean> {
    const started = performance.now();
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    } finally {
      recent.push(performance.now() - started);
      if (recent.length > RECENT_VERIFICATIONS) recent.shift();
    }
  }
  return {
    hash: (password) => argon2.hash(password, options),
    verify: timed,
    async verifyDummy(password) {
      await timed(dummy, password);
    },
    async padFailure(startedAt) {
      const floor = Math.min(FAILURE_FLOOR_CAP_MS, Math.max(0, ...recent));
      const wait = startedAt + floor - performance.now();
      if (wait > 0) await sleep(wait);
    },
    needsRehash: (hash) => {
      try {
        return argon2.needsRehash(hash, options);
      } catch {
        return true;
      }
    },
  };
}
