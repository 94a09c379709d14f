/**
 * Per-route rate-limit settings for the authentication endpoints. Anonymous endpoints are keyed by client IP;
 * endpoints that check a password for an already signed-in user (password change, re-authentication) are keyed by
 * the credential itself, so one stolen token cannot guess passwords faster by spreading over many addresses.
 */
import { createHash } from 'node:crypto';

import type { FastifyRequest } from 'fastify';

import type { Config } from '../config/index.js';

/** The `config.rateLimit` of an auth route, from `JOT_RATE_LIMIT_AUTH`. */
export function authRateLimit(
  config: Config,
  options: { perCredential?: boolean } = {},
): { max: number; timeWindow: number; keyGenerator?: (request: FastifyRequest) => string } {
  const limit = { max: config.rateLimitAuth.max, timeWindow: config.rateLimitAuth.windowMs };
  if (!options.perCredential) return limit;
  return {
    ...limit,
    keyGenerator: (request) => {
      const credential = request.headers.authorization ?? request.headers.cookie;
      return credential === undefined
        ? `ip:${request.ip}`
        : `cred:${createHash('sha256').update(credential).digest('base64url')}`;
    },
  };
}
