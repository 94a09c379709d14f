/**
 * Per-route rate-limit settings for the authentication endpoints. Anonymous endpoints are keyed by client IP;
 * endpoints that check a password for an already signed-in user (password change, re-authentication) are keyed by
 * the credential itself, so one stolen token cannot guess passwords faster by spreading over many addresses.
 */
import { createHash } from 'node:crypto';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import type { Config } from '../config/index.js';
import { HttpError } from './errors.js';

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

/**
 * A per-address limit for endpoints that send mail (`JOT_RATE_LIMIT_MAIL`): keyed by a hash of the normalised
 * address, shared through Redis when configured. It applies the same way whether or not an account has that
 * address, so its 429 tells nothing about which addresses exist.
 */
export function mailAddressLimit(
  app: FastifyInstance,
  config: Config,
): (request: FastifyRequest, email: string) => Promise<void> {
  const keyOf = new WeakMap<FastifyRequest, string>();
  const limit = app.createRateLimit({
    max: config.rateLimitMail.max,
    timeWindow: config.rateLimitMail.windowMs,
    keyGenerator: (request) => keyOf.get(request) ?? `ip:${request.ip}`,
  });
  return async (request, email) => {
    keyOf.set(request, `mail:${createHash('sha256').update(email.trim().toLowerCase()).digest('base64url')}`);
    const result = await limit(request);
    if (!result.isAllowed && result.isExceeded) {
      throw new HttpError(
        429,
        'ERR_RATE_LIMITED',
        `too many messages requested for this address; try again in ${result.ttlInSeconds} s`,
        { headers: { 'retry-after': String(result.ttlInSeconds) } },
      );
    }
  };
}
