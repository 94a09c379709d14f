/**
 * Signing keys and tokens: the key schedule (read early, its cross-checks with it) and the token settings — the
 * algorithm, lifetimes, modes, step-up and scopes.
 */
import { isAlgorithm, SUPPORTED_ALGORITHMS, type Algorithm } from '@jot/jose';

import * as p from './parsers.js';
import type { SettingsReader } from './reader.js';
import type { Config } from './types.js';

/** When keys are published, rotated and cached. */
export type KeySchedule = Pick<Config, 'keyRotationIntervalMs' | 'keyPrepublishMs' | 'jwksMaxAgeMs'>;

/** Reads the key schedule: a key is published at least one JWKS cache lifetime before it signs. */
export function readKeySchedule({ raw, fail, duration }: SettingsReader): KeySchedule {
  const keyPrepublishMs = duration('keyPrepublish', 0);
  const jwksMaxAgeMs = duration('jwksMaxAge', 0);
  if (keyPrepublishMs < jwksMaxAgeMs) {
    fail(
      'keyPrepublish',
      raw('keyPrepublish').source,
      `must be at least JOT_JWKS_MAX_AGE (${jwksMaxAgeMs / 1000}s) so caches learn a key before it signs`,
    );
  }
  const keyRotationIntervalMs = duration('keyRotationInterval', 60_000);
  if (keyRotationIntervalMs <= keyPrepublishMs) {
    fail('keyRotationInterval', raw('keyRotationInterval').source, 'must be longer than JOT_KEY_PREPUBLISH');
  }
  return { keyRotationIntervalMs, keyPrepublishMs, jwksMaxAgeMs };
}

/**
 * The shortest `sessionRetention`: an ended session must outlast every access token that can outlive its end (one
 * issued just before an idle timeout, with a client's `access_token_ttl` of up to 24 h), because a token whose session
 * is gone is refused as revoked. `checkCombinations` also holds it above `JOT_ACCESS_TOKEN_TTL`.
 */
const MIN_SESSION_RETENTION_MS = 2 * 86_400_000;

/** The token settings, with the key schedule read before, in the configuration's order. */
export type TokenSettings = Pick<
  Config,
  | 'signingAlg'
  | 'accessTokenTtlMs'
  | 'refreshIdleTimeoutMs'
  | 'sessionMaxLifetimeMs'
  | 'sessionRetentionMs'
  | 'refreshGraceWindowMs'
  | 'tokenMode'
  | 'clockToleranceMs'
  | 'stepUpMaxAgeMs'
  | 'roleScopes'
  | 'clientAssertionMaxLifetimeMs'
  | 'exchangedTokenTtlMs'
> &
  KeySchedule;

/** Reads the algorithm, the lifetimes and the token mode. */
export function readTokenSettings(
  { get, duration, raw }: SettingsReader,
  schedule: KeySchedule,
): TokenSettings {
  const settings: TokenSettings = {
    signingAlg: get('signingAlg', (v): Algorithm => {
      const s = p.string(v);
      if (!isAlgorithm(s)) throw new p.Invalid(`expected one of ${SUPPORTED_ALGORITHMS.join(', ')}`);
      return s;
    }),
    accessTokenTtlMs: duration('accessTokenTtl', 1000),
    refreshIdleTimeoutMs: duration('refreshIdleTimeout', 1000),
    sessionMaxLifetimeMs: duration('sessionMaxLifetime', 1000),
    sessionRetentionMs: duration('sessionRetention', MIN_SESSION_RETENTION_MS),
    refreshGraceWindowMs: duration('refreshGraceWindow', 0),
    tokenMode: get('tokenMode', (v) => p.oneOf(v, ['refresh', 'single'])),
    clockToleranceMs: duration('clockTolerance', 0),
    ...schedule,
    stepUpMaxAgeMs: duration('stepUpMaxAge', 1000),
    roleScopes: get('roleScopes', p.roleScopes),
    clientAssertionMaxLifetimeMs: duration('clientAssertionMaxLifetime', 1000),
    exchangedTokenTtlMs: duration('exchangedTokenTtl', 1000),
  };
  if (raw('sessionRetention').source === 'default') {
    // Not chosen by the operator: a default shorter than a long access-token lifetime follows it (a day beyond the
    // lifetime and tolerance) rather than refusing to start; a retention set explicitly is checked as given.
    settings.sessionRetentionMs = Math.max(
      settings.sessionRetentionMs,
      settings.accessTokenTtlMs + settings.clockToleranceMs + 86_400_000,
    );
  }
  return settings;
}
