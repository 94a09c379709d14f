/**
 * Rate limits on the authentication endpoints key on who is acting, never on how a header is spelled:
 * - every auth route: per client address (`request.ip`, which honours `JOT_TRUST_PROXY` only), per route;
 * - routes that check the signed-in user's password (password change, re-authentication): ALSO per verified user
 *   (the `sub` of the access token after it verified), one budget shared by both routes, so a stolen token cannot
 *   guess faster by re-spelling `Authorization`, adding cookies or spreading over addresses;
 * - single-token renewal: per session (`sid`), which also bounds how fast a session can grow the revocation feed.
 * Sign-in is also throttled per account across addresses (services/login-throttle.ts).
 */
import { createHash } from 'node:crypto';

import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';

import type { Config } from '../config/index.js';
import type { SecurityEvents } from '../services/security-events.js';
import { addressKey } from './address-key.js';
import { HttpError } from './errors.js';
import { eventThrottle } from './event-throttle.js';
import { mailboxKey } from './mailbox-key.js';

/** The 429 every limit answers with. */
export function rateLimited(seconds: number): HttpError {
  const after = Math.max(1, Math.ceil(seconds));
  return new HttpError(429, 'ERR_RATE_LIMITED', `too many attempts; try again in ${after} s`, {
    error: 'rate_limited',
    headers: { 'retry-after': String(after) },
  });
}

/** The `config.rateLimit` of an auth route (per address), from `JOT_RATE_LIMIT_AUTH`. */
export function authRateLimit(config: Config): { max: number; timeWindow: number } {
  return { max: config.rateLimitAuth.max, timeWindow: config.rateLimitAuth.windowMs };
}

/**
 * A pre-handler (run after `authenticate`) limiting by a key taken from the verified token. `name` separates the
 * budgets of different limits in the shared store.
 */
export function verifiedLimit(
  app: FastifyInstance,
  name: string,
  limit: { max: number; windowMs: number },
  keyOf: (request: FastifyRequest) => string,
): preHandlerAsyncHookHandler {
  const check = app.createRateLimit({
    max: limit.max,
    timeWindow: limit.windowMs,
    keyGenerator: (request) => `${name}:${keyOf(request)}`,
  });
  // One event per key and window, not one per refused request (http/event-throttle.ts).
  const throttle = eventThrottle(limit.windowMs);
  return async function verifiedLimitHandler(request) {
    const result = await check(request);
    if (!result.isAllowed && result.isExceeded) {
      const decision = throttle(keyOf(request), Date.now());
      if (decision !== 'skip') {
        await app.jot.events
          .record('rate_limited', {
            userId: request.auth?.claims.sub,
            sessionId: request.auth?.claims.sid,
            ip: request.ip,
            detail: { limit: name, ...(decision === 'overflow' && { suppressed: true }) },
          })
          .catch((err: unknown) => request.log.warn({ err }, 'recording a security event failed'));
      }
      throw rateLimited(result.ttlInSeconds);
    }
  };
}

/**
 * `onExceeded` for the per-address limits: one `rate_limited` event per key and window on this instance (a flood
 * of refused requests must not become a flood of rows); when more keys than that are refused in one window, one
 * event with `suppressed: true` says that the others of the window go unrecorded (http/event-throttle.ts).
 */
export function rateLimitEvents(
  events: SecurityEvents,
  windowMs: number,
): (request: FastifyRequest, key: string) => void {
  const throttle = eventThrottle(windowMs);
  return (request, key) => {
    const decision = throttle(key, Date.now());
    if (decision === 'skip') return;
    events
      .record('rate_limited', {
        ip: request.ip,
        detail: {
          limit: 'address',
          route: request.routeOptions.url ?? null,
          ...(decision === 'overflow' && { suppressed: true }),
        },
      })
      .catch((err: unknown) => request.log.warn({ err }, 'recording a security event failed'));
  };
}

/**
 * A per-address limit for endpoints that send mail (`JOT_RATE_LIMIT_MAIL`): keyed by a hash of the mailbox the
 * address reaches (http/mailbox-key.ts: its comparison key, so `ＡＤＡ@example.com.` and `ada@example.com` share one
 * budget, without a `+tag`, so `ada+1@example.com` shares it too), one budget shared by every route that mails it
 * (registration, forgotten password, verification link, email change)
 * — through Redis when configured, in this instance's memory otherwise. It applies the same way whether or not an
 * account has that address, so its 429 tells nothing about which addresses exist.
 */
export function mailAddressLimit(
  app: FastifyInstance,
  config: Config,
): (request: FastifyRequest, email: string) => Promise<void> {
  const keyOf = new WeakMap<FastifyRequest, string>();
  const limit = app.createRateLimit({
    max: config.rateLimitMail.max,
    timeWindow: config.rateLimitMail.windowMs,
    keyGenerator: (request) => keyOf.get(request) ?? `ip:${addressKey(request.ip)}`,
  });
  return async (request, email) => {
    keyOf.set(request, `mail:${createHash('sha256').update(mailboxKey(email)).digest('base64url')}`);
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
