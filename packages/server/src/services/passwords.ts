/**
 * Password hashing with argon2id (OWASP: m = 19 MiB, t = 2, p = 1 by default). Hashes made with other parameters
 * still verify and are flagged for a rehash at the next successful login. Unknown emails are checked against a
 * dummy hash, and every failed sign-in is padded to the time a verification takes with the costliest parameters in
 * use (`padFailure`), so a failure takes the same time whether the account exists and whatever parameters its hash
 * was made with. Verification times are remembered per parameter set: a flood of cheap verifications cannot make
 * the server forget how long an old hash takes (then probe one address and see it stand out).
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
   * Waits until `startedAt` (a `performance.now()` reading taken before the verification) is as far back as a
   * verification with the costliest parameter set seen in the last day takes (the median of its last few
   * verifications, real or dummy), capped at `FAILURE_FLOOR_CAP_MS`.
   */
  padFailure(startedAt: number): Promise<void>;
}

/** How many recent verification times are kept per parameter set (their median is the set's cost). */
const RECENT_VERIFICATIONS = 9;
/** A parameter set no hash was verified with for this long no longer sets the floor. */
const PARAMS_FORGOTTEN_AFTER_MS = 86_400_000;
/** At most this many parameter sets are remembered (the oldest seen is dropped first). */
const MAX_PARAMETER_SETS = 16;

/** The parameter part of a PHC string (`m=…,t=…,p=…`), which decides the cost of verifying it. */
function parametersOf(hash: string): string {
  return hash.split('$')[3] ?? 'unparsable';
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
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
  /** Per parameter set: the last verification times, and when it was last seen (Date.now()). */
  const costs = new Map<string, { times: number[]; seenAt: number }>();
  function remember(hash: string, ms: number): void {
    const key = parametersOf(hash);
    const entry = costs.get(key) ?? { times: [], seenAt: 0 };
    costs.delete(key); // re-inserted below: the map stays ordered by when each set was last seen
    entry.times.push(ms);
    if (entry.times.length > RECENT_VERIFICATIONS) entry.times.shift();
    entry.seenAt = Date.now();
    costs.set(key, entry);
    while (costs.size > MAX_PARAMETER_SETS) costs.delete(costs.keys().next().value!);
  }
  async function timed(hash: string, password: string): Promise<boolean> {
    const started = performance.now();
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    } finally {
      remember(hash, performance.now() - started);
    }
  }
  function floor(): number {
    const now = Date.now();
    let slowest = 0;
    for (const [key, entry] of costs) {
      if (now - entry.seenAt > PARAMS_FORGOTTEN_AFTER_MS) costs.delete(key);
      else slowest = Math.max(slowest, median(entry.times));
    }
    return Math.min(FAILURE_FLOOR_CAP_MS, slowest);
  }
  return {
    hash: (password) => argon2.hash(password, options),
    verify: timed,
    async verifyDummy(password) {
      await timed(dummy, password);
    },
    async padFailure(startedAt) {
      const wait = startedAt + floor() - performance.now();
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
