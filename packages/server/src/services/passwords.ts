/**
 * Password hashing with argon2id (OWASP: m = 19 MiB, t = 2, p = 1 by default), computed by `@node-rs/argon2` on
 * libuv's thread pool. Hashes are standard PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`): those the `argon2`
 * package wrote before verify unchanged, and the reverse. Hashes made with other parameters (or argon2i/argon2d)
 * still verify and are flagged for a rehash at the next successful login. Unknown emails are checked against a
 * dummy hash, and every failed sign-in is padded to the time a verification takes with the costliest parameters in
 * use (`padFailure`), so a failure takes the same time whether the account exists and whatever parameters its hash
 * was made with. Verification times are remembered per parameter set: a flood of cheap verifications cannot make
 * the server forget how long an old hash takes (then probe one address and see it stand out). That memory is
 * in-process, so it is seeded (`learn`): at start-up and now and then after, the server reads which parameter sets
 * the stored hashes use and times a few verifications of a dummy hash made with each, so the first failed sign-in
 * after a restart for an account with an old hash takes no longer than one for an unknown email. Until the first
 * seeding has finished, a failure waits for it.
 *
 * At most `HASHING_CONCURRENCY` hashes run at once (one core is left to the event loop), the rest wait in line:
 * a login storm then slows logins, not every other request, and never fills the thread pool that RS signing and
 * file I/O also use. Known and unknown accounts wait in the same line, and a verification is timed inside its
 * slot, so the wait reveals nothing and does not inflate the failure floor.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  hash as argon2Hash,
  parseOptions,
  verify as argon2Verify,
  type Algorithm,
  type Version,
} from '@node-rs/argon2';

/** `Algorithm.Argon2id` (a `const enum`, which isolated modules cannot import by name). */
const ARGON2ID = 2 as Algorithm;
/** `Version.V0x13`, the only version written since 2016 (`v=19`). */
const V0X13 = 1 as Version;

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
   * verification with the costliest parameter set seen in the last day takes (the slowest of its last few
   * verifications, real or dummy), capped at `FAILURE_FLOOR_CAP_MS`.
   */
  padFailure(startedAt: number): Promise<void>;
  /**
   * Seeds the per-parameter-set verification times from `load()`, the parameter prefixes of the stored hashes
   * (`$argon2id$v=19$m=…,t=…,p=…`, see `Store.passwordHashParameters`): a dummy hash is made with each set and
   * verified `SEED_SAMPLES` times, each in a hashing slot. Unparsable sets and those costlier than
   * `SEED_MAX_MEMORY_KIB` are skipped. Until the first call has settled, `padFailure` waits for it. Rejects if
   * `load` does.
   */
  learn(load: () => Promise<readonly string[]>): Promise<void>;
}

/** How many recent verification times are kept per parameter set (the slowest of them is the set's cost). */
const RECENT_VERIFICATIONS = 9;
/** A parameter set no hash was verified with for this long no longer sets the floor. */
const PARAMS_FORGOTTEN_AFTER_MS = 86_400_000;
/** At most this many parameter sets are remembered (the oldest seen is dropped first). */
const MAX_PARAMETER_SETS = 16;

/**
 * The parameter part of a PHC string (`m=…,t=…,p=…`), which decides the cost of verifying it; sorted, since bindings
 * write the same parameters in different orders (`m,p,t` by the `argon2` package, `m,t,p` by `@node-rs/argon2`).
 */
function parametersOf(hash: string): string {
  return hash.split('$')[3]?.split(',').sort().join(',') ?? 'unparsable';
}

/** How many verifications of a dummy hash seed the time of one parameter set. */
const SEED_SAMPLES = 3;
/** Parameter sets with more memory than this (1 GiB) are not seeded (a stored hash should never ask for that). */
export const SEED_MAX_MEMORY_KIB = 1_048_576;
/** A salt and digest that make a parameter prefix a parsable PHC string. */
const PHC_TAIL = '$c2FsdHNhbHQ$aGFzaA';

/** The failure floor never exceeds this, whatever a slow moment measured. */
export const FAILURE_FLOOR_CAP_MS = 2000;

/** The shortest password accepted (NIST SP 800-63B §5.1.1.2). */
export const MIN_PASSWORD_LENGTH = 8;
/** The longest, to bound hashing work. */
export const MAX_PASSWORD_LENGTH = 1024;

/** How many hashes or verifications run at once: every core but one, at least one. */
export const HASHING_CONCURRENCY = Math.max(1, availableParallelism() - 1);

/** Runs at most `limit` tasks at once, the others in arrival order as slots free up. */
export function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError('limit must be a positive integer');
  let active = 0;
  const waiting: (() => void)[] = [];
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (active < limit) active += 1;
    // A finishing task hands its slot straight to the next in line (`active` unchanged).
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next === undefined) active -= 1;
      else next();
    }
  };
}

/** Builds a hasher with the given parameters; `concurrency` bounds the hashes running at once. */
export async function createPasswordHasher(
  params: Argon2Params,
  options: { concurrency?: number } = {},
): Promise<PasswordHasher> {
  const cost = {
    algorithm: ARGON2ID,
    memoryCost: params.memoryKiB,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  };
  const limited = createLimiter(options.concurrency ?? HASHING_CONCURRENCY);
  const dummy = await argon2Hash('jot-dummy-password-for-timing', cost);
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
  function timed(hash: string, password: string): Promise<boolean> {
    return limited(async () => {
      const started = performance.now();
      try {
        return await argon2Verify(hash, password);
      } catch {
        return false;
      } finally {
        remember(hash, performance.now() - started);
      }
    });
  }
  function floor(): number {
    const now = Date.now();
    let slowest = 0;
    for (const [key, entry] of costs) {
      if (now - entry.seenAt > PARAMS_FORGOTTEN_AFTER_MS) costs.delete(key);
      else slowest = Math.max(slowest, ...entry.times);
    }
    return Math.min(FAILURE_FLOOR_CAP_MS, slowest);
  }
  async function seed(prefix: string): Promise<void> {
    let made;
    try {
      made = parseOptions(prefix + PHC_TAIL);
    } catch {
      return;
    }
    if (made.memoryCost > SEED_MAX_MEMORY_KIB) return;
    const sample = await limited(() =>
      argon2Hash('jot-dummy-password-for-timing', {
        algorithm: made.algorithm,
        version: made.version,
        memoryCost: made.memoryCost,
        timeCost: made.timeCost,
        parallelism: made.parallelism,
      }),
    );
    for (let i = 0; i < SEED_SAMPLES; i++) {
      const started = performance.now();
      await timed(sample, 'not-the-dummy-password');
      if (performance.now() - started > FAILURE_FLOOR_CAP_MS) break;
    }
  }
  /** The first seeding, which failures wait for (it never rejects). */
  let firstLearning: Promise<void> | undefined;
  return {
    hash: (password) => limited(() => argon2Hash(password, cost)),
    learn(load) {
      const learning = (async () => {
        const prefixes = await load();
        for (const prefix of prefixes.slice(0, MAX_PARAMETER_SETS)) await seed(prefix);
      })();
      firstLearning ??= learning.catch(() => undefined);
      return learning;
    },
    verify: timed,
    async verifyDummy(password) {
      await timed(dummy, password);
    },
    async padFailure(startedAt) {
      if (firstLearning !== undefined) await firstLearning;
      const wait = startedAt + floor() - performance.now();
      if (wait > 0) await sleep(wait);
    },
    needsRehash: (hash) => {
      try {
        const made = parseOptions(hash);
        return (
          made.algorithm !== ARGON2ID ||
          made.version !== V0X13 ||
          made.memoryCost !== cost.memoryCost ||
          made.timeCost !== cost.timeCost ||
          made.parallelism !== cost.parallelism
        );
      } catch {
        return true;
      }
    },
  };
}
