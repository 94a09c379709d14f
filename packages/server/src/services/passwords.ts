/**
 * Password hashing with argon2id (OWASP: m = 19 MiB, t = 2, p = 1 by default). Hashes made with other parameters
 * still verify and are flagged for a rehash at the next successful login. Unknown emails are checked against a
 * dummy hash so a wrong email and a wrong password take the same time.
 */
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
}

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
  return {
    hash: (password) => argon2.hash(password, options),
    async verify(hash, password) {
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    },
    async verifyDummy(password) {
      await argon2.verify(dummy, password).catch(() => false);
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
