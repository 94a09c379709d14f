/**
 * The HTTP server: logging, proxies, body size, timeouts (read early, with their cross-check), rate limits, CORS,
 * and how tokens reach the browser.
 */
import { SESSION_DELIVERIES } from '@jot/contract';

import * as p from './parsers.js';
import type { SettingsReader } from './reader.js';
import type { Config, LogLevel } from './types.js';

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The request and header timeouts. */
export type Timeouts = Pick<Config, 'requestTimeoutMs' | 'headersTimeoutMs'>;

/** Reads the timeouts: the headers must arrive within the request's time. */
export function readTimeouts({ raw, fail, duration }: SettingsReader): Timeouts {
  const requestTimeoutMs = duration('requestTimeout', 1000, p.TIMER_MAX_MS);
  const headersTimeoutMs = duration('headersTimeout', 1000, p.TIMER_MAX_MS);
  if (headersTimeoutMs > requestTimeoutMs) {
    fail('headersTimeout', raw('headersTimeout').source, 'must be at most JOT_REQUEST_TIMEOUT');
  }
  return { requestTimeoutMs, headersTimeoutMs };
}

/** The HTTP settings, with the timeouts read before, in the configuration's order. */
export type HttpSettings = Pick<
  Config,
  | 'logLevel'
  | 'trustProxy'
  | 'bodyLimitBytes'
  | 'keepAliveTimeoutMs'
  | 'drainTimeoutMs'
  | 'drainDelayMs'
  | 'rateLimitAuth'
  | 'corsOrigins'
  | 'tokenDelivery'
  | 'cookieSecure'
> &
  Timeouts;

/** Reads the HTTP settings. */
export function readHttpSettings(
  { get, read, duration }: SettingsReader,
  timeouts: Timeouts,
  production: boolean,
): HttpSettings {
  return {
    logLevel: get('logLevel', (v) => p.oneOf(v, LOG_LEVELS)),
    trustProxy: get('trustProxy', p.trustProxy),
    bodyLimitBytes: get('bodyLimit', p.bytes),
    ...timeouts,
    keepAliveTimeoutMs: duration('keepAliveTimeout', 1000, p.TIMER_MAX_MS),
    drainTimeoutMs: duration('drainTimeout', 0, p.TIMER_MAX_MS),
    // Unset: a production instance sits behind a load balancer that needs time to stop routing to it; nothing
    // routes to a development or test server, whose Ctrl-C should be instant.
    drainDelayMs:
      read('drainDelay', (v) => p.durationMsFine(v, 0, p.TIMER_MAX_MS)) ?? (production ? 5000 : 0),
    rateLimitAuth: get('rateLimitAuth', p.rate),
    corsOrigins: get('corsOrigins', (v) => p.list(v).map(p.origin)),
    tokenDelivery: get('tokenDelivery', (v) => p.oneOf(v, SESSION_DELIVERIES)),
    cookieSecure: get('cookieSecure', (v) => (p.string(v).toLowerCase() === 'auto' ? 'auto' : p.boolean(v))),
  };
}
