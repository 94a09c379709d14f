/** Settings that are each valid but do not work together, refused once the whole configuration is read. */
import { checkOwnAudiences } from './dpop-jwe.js';
import type { SettingsReader } from './reader.js';
import type { Config } from './types.js';

/** Fails, naming the setting to change, when two settings contradict each other. */
export function checkCombinations(config: Config, { raw, fail }: SettingsReader): void {
  const encryptionProblem = checkOwnAudiences(config.audience, config.encryptionKeys);
  if (encryptionProblem !== undefined)
    fail('encryptionKeys', raw('encryptionKeys').source, encryptionProblem);
  if (config.dpop === 'required' && config.tokenDelivery === 'cookie') {
    fail(
      'dpop',
      raw('dpop').source,
      'DPoP needs the access token in the page: JOT_TOKEN_DELIVERY must be memory or bearer',
    );
  }
  if (config.refreshSessionLimit <= config.refreshAnomalyLimit) {
    // Refused at the limit, a session would never reach the anomaly's count: the signal would be silenced.
    fail(
      'refreshSessionLimit',
      raw('refreshSessionLimit').source,
      `must be above JOT_REFRESH_ANOMALY_LIMIT (${config.refreshAnomalyLimit}), or the refresh_anomaly signal never fires`,
      raw('refreshSessionLimit').value,
    );
  }
  if (config.sessionRetentionMs <= config.accessTokenTtlMs + config.clockToleranceMs) {
    // Deleted sooner, a session idle past its timeout would take its last access token with it before that expires.
    fail(
      'sessionRetention',
      raw('sessionRetention').source,
      `must be longer than JOT_ACCESS_TOKEN_TTL plus JOT_CLOCK_TOLERANCE (${(config.accessTokenTtlMs + config.clockToleranceMs) / 1000}s), ` +
        'or an access token could outlive the record of its session',
      raw('sessionRetention').value,
    );
  }
  if (config.tokenMode === 'single') {
    // A client renews once per half lifetime: a budget below that signs every user out when a token expires.
    const needed = Math.ceil(config.rateLimitRenew.windowMs / (config.accessTokenTtlMs / 2));
    if (config.rateLimitRenew.max < needed) {
      fail(
        'rateLimitRenew',
        raw('rateLimitRenew').source,
        `in single-token mode clients renew every half JOT_ACCESS_TOKEN_TTL (${config.accessTokenTtlMs / 2000}s), ` +
          `so the per-session budget must allow at least ${needed} per window`,
        raw('rateLimitRenew').value,
      );
    }
  }
}
