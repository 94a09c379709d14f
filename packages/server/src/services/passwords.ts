/**
 * Password hashing with argon2id (OWASP: m = 19 MiB, t = 2, p = 1 by default), computed by `@node-rs/argon2` on
 * libuv's thread pool. Hashes are standard PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`): those the `argon2`
 * package wrote before verify unchanged, and the reverse. Hashes made with other parameters (or argon2i/argon2d)
 * still verify and are flagged for a rehash at the next successful login. Unknown emails are checked against a
 * dummy hash, and every failed sign-in is padded to the time a verification takes with the costliest parameters in
 * use (`padFailure`), so a failure takes the same time whether the account exists and whatever parameters its hash
 * was made with. Verification times are remembered per parameter set (services/verification-times.ts). That memory
 * is in-process, so it is seeded (`learn`): at start-up and now and then after, the server reads which parameter sets
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
  type Options,
  type Version,
} from '@node-rs/argon2';

import { createLimiter } from './limiter.js';
import {
  createVerificationTimes,
  FAILURE_FLOOR_CAP_MS,
  MAX_PARAMETER_SETS,
  type VerificationTimes,
} from './verification-times.js';

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

/** How many verifications of a dummy hash seed the time of one parameter set. */
const SEED_SAMPLES = 3;
/** Parameter sets with more memory than this (1 GiB) are not seeded (a stored hash should never ask for that). */
export const SEED_MAX_MEMORY_KIB = 1_048_576;
/** A salt and digest that make a parameter prefix a parsable PHC string. */
const PHC_TAIL = '$c2FsdHNhbHQ$aGFzaA';
/** The password of the dummy hashes (unknown accounts, seeding). */
const DUMMY_PASSWORD = 'jot-dummy-password-for-timing';

/** The shortest password accepted (NIST SP 800-63B §5.1.1.2). */
export const MIN_PASSWORD_LENGTH = 8;
/** The longest, to bound hashing work. */
export const MAX_PASSWORD_LENGTH = 1024;

/** How many hashes or verifications run at once: every core but one, at least one. */
export const HASHING_CONCURRENCY = Math.max(1, availableParallelism() - 1);

type Limited = <T>(task: () => Promise<T>) => Promise<T>;
type Timed = (hash: string, password: string) => Promise<boolean>;

/** Verifies in a hashing slot, timing the verification alone (not the wait for the slot) into `times`. */
function timedVerifier(limited: Limited, times: VerificationTimes): Timed {
  return (hash, password) =>
    limited(async () => {
      const started = performance.now();
      try {
        return await argon2Verify(hash, password);
      } catch {
        return false;
      } finally {
        times.remember(hash, performance.now() - started);
      }
    });
}

/**
 * Times `SEED_SAMPLES` verifications of a dummy hash made with the parameters of `prefix` (a stored hash's
 * `$argon2id$v=19$m=…,t=…,p=…`), stopping early when one takes longer than the floor's cap. Skips an unparsable
 * prefix and one asking for more than `SEED_MAX_MEMORY_KIB`.
 */
async function seedParameterSet(prefix: string, limited: Limited, timed: Timed): Promise<void> {
  let made;
  try {
    made = parseOptions(prefix + PHC_TAIL);
  } catch {
    return;
  }
  if (made.memoryCost > SEED_MAX_MEMORY_KIB) return;
  const { algorithm, version, memoryCost, timeCost, parallelism } = made;
  const sample = await limited(() =>
    argon2Hash(DUMMY_PASSWORD, { algorithm, version, memoryCost, timeCost, parallelism }),
  );
  for (let i = 0; i < SEED_SAMPLES; i++) {
    const started = performance.now();
    await timed(sample, 'not-the-dummy-password');
    if (performance.now() - started > FAILURE_FLOOR_CAP_MS) break;
  }
}

/** Whether `hash` was made otherwise than argon2id v0x13 with `cost` (an unparsable hash: yes). */
function madeOtherwise(hash: string, cost: Options): boolean {
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
}

/** Builds a hasher with the given parameters; `concurrency` bounds the hashes running at once. */
export async function createPasswordHasher(
  params: Argon2Params,
  options: { concurrency?: number } = {},
): Promise<PasswordHasher> {
  const cost: Options = {
    algorithm: ARGON2ID,
    memoryCost: params.memoryKiB,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  };
  const limited = createLimiter(options.concurrency ?? HASHING_CONCURRENCY);
  const dummy = await argon2Hash(DUMMY_PASSWORD, cost);
  const times = createVerificationTimes();
  const timed = timedVerifier(limited, times);
  /** The first seeding, which failures wait for (it never rejects). */
  let firstLearning: Promise<void> | undefined;
  return {
    hash: (password) => limited(() => argon2Hash(password, cost)),
    learn(load) {
      const learning = (async () => {
        const prefixes = await load();
        for (const prefix of prefixes.slice(0, MAX_PARAMETER_SETS))
          await seedParameterSet(prefix, limited, timed);
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
      const wait = startedAt + times.floor() - performance.now();
      if (wait > 0) await sleep(wait);
    },
    needsRehash: (hash) => madeOtherwise(hash, cost),
  };
}
