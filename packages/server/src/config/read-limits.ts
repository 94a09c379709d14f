/**
 * Limits on guessing and hashing: the sign-in lockout, the renewal budget, the per-caller budget of the
 * introspection and revocation endpoints, and argon2's memory and parallelism (read early, with their RFC 9106
 * cross-check).
 */
import * as p from './parsers.js';
import type { SettingsReader } from './reader.js';
import type { Config } from './types.js';

/** argon2's memory and lanes. */
export type Argon2Memory = Pick<Config, 'argon2MemoryKib' | 'argon2Parallelism'>;

/** Reads argon2's memory and parallelism: at least 8 KiB per lane. */
export function readArgon2Memory({ raw, get, fail }: SettingsReader): Argon2Memory {
  const argon2Parallelism = get('argon2Parallelism', (v) => p.integer(v, 1, 255));
  const argon2MemoryKib = get('argon2MemoryKib', (v) => p.integer(v, 1024, 4_194_304));
  if (argon2MemoryKib < 8 * argon2Parallelism) {
    fail(
      'argon2MemoryKib',
      raw('argon2MemoryKib').source,
      'must be at least 8 × JOT_ARGON2_PARALLELISM (RFC 9106 §3.1)',
    );
  }
  return { argon2MemoryKib, argon2Parallelism };
}

/** The sign-in lockout, the per-session renewal budget and the per-caller budget of introspection and revocation. */
export type LoginLimits = Pick<
  Config,
  'loginLockout' | 'loginDeviceTtlMs' | 'rateLimitRenew' | 'rateLimitClient' | 'rateLimitResourceServer'
>;

/**
 * Reads the sign-in lockout (`JOT_LOGIN_LOCKOUT`'s free failures and base delay, capped by the maximum), the
 * lifetime of device credentials, the renewal budget, and the calls per caller at the introspection and revocation endpoints.
 */
export function readLoginLimits({ get, read, duration }: SettingsReader): LoginLimits {
  const { max, windowMs } = get('loginLockout', p.rate);
  return {
    loginLockout: {
      freeFailures: max,
      baseMs: windowMs,
      maxMs: Math.max(windowMs, duration('loginLockoutMax', 1000)),
    },
    loginDeviceTtlMs: duration('loginDeviceTtl', 0),
    rateLimitRenew: get('rateLimitRenew', p.rate),
    rateLimitClient: get('rateLimitClient', p.rate),
    rateLimitResourceServer: read('rateLimitResourceServer', p.rateOrOff),
  };
}
