/** Per-route rate-limit settings for the authentication endpoints (keyed by client IP). */
import type { Config } from '../config/index.js';

/** The `config.rateLimit` of an auth route, from `JOT_RATE_LIMIT_AUTH`. */
export function authRateLimit(config: Config): { max: number; timeWindow: number } {
  return { max: config.rateLimitAuth.max, timeWindow: config.rateLimitAuth.windowMs };
}
