/**
 * Prometheus metrics: one registry per server (never prom-client's global one, so several apps in one process —
 * tests, say — do not collide) with the HTTP metrics and the counters feature plugins increment.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's metrics. Counters are typed by their label names. */
export interface Metrics {
  /** The registry `/metrics` serves. */
  readonly registry: Registry;
  /** `jot_http_requests_total{method,route,status}`. */
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  /** `jot_http_request_duration_seconds{method,route,status}`. */
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** `jot_logins_total{result}` with {@link LoginResult} labels. */
  readonly logins: ResultCounter<LoginResult>;
  /** `jot_refreshes_total{result}` with {@link RefreshResult} labels (`reused` = reuse detected, session ended). */
  readonly refreshes: ResultCounter<RefreshResult>;
  /**
   * `jot_password_check_failures_total{via,reason}`: every password check the sign-in throttle guards that did not
   * pass — `reason` `wrong` (a wrong password or unknown address) or `locked` (refused by the lock, unevaluated) —
   * by where it was made ({@link PasswordCheckSite}).
   */
  readonly passwordCheckFailures: Counter<'via' | 'reason'>;
  /** `jot_revocations_total{kind}` with the revocation kinds `jti`, `sid`, `user`. */
  readonly revocations: Counter<'kind'>;
  /** `jot_tokens_issued_total`: access tokens signed (login, refresh, renew, re-authentication, password change). */
  readonly tokensIssued: Counter;
}

/** A counter whose one label, `result`, takes only the documented values (a typo is a type error). */
export interface ResultCounter<R extends string> {
  inc(labels: { result: R }, value?: number): void;
}

/** The `result` label values of `jot_logins_total` (docs/deploy.md lists them). */
export type LoginResult = 'success' | 'failure' | 'disabled';

/** The `via` label values of `jot_password_check_failures_total`: the routes that check a password. */
export type PasswordCheckSite =
  'login' | 'reauth' | 'password_change' | 'email_verification' | 'email_change';

/** The `result` label values of `jot_refreshes_total`. */
export type RefreshResult =
  'success' | 'reused' | 'invalid' | 'ended' | 'csrf' | 'disabled' | 'limited' | 'error';

/** The refresh `result` label for the error code a refresh failed with; unknown failures are `error`. */
export function refreshResultOf(code: string | undefined): RefreshResult {
  switch (code) {
    case 'ERR_REFRESH_TOKEN_REUSED':
      return 'reused';
    case 'ERR_REFRESH_TOKEN_INVALID':
      return 'invalid';
    case 'ERR_SESSION_ENDED':
      return 'ended';
    case 'ERR_CSRF':
      return 'csrf';
    case 'ERR_USER_DISABLED':
      return 'disabled';
    case 'ERR_REFRESH_LIMITED':
      return 'limited';
    default:
      return 'error';
  }
}

/** Options of {@link createMetrics}. */
export interface CreateMetricsOptions {
  /** Also collect prom-client's process metrics (CPU, memory, event-loop lag, GC) into the registry. @default false */
  processMetrics?: boolean;
}

/**
 * Creates the metrics on a fresh registry.
 *
 * @example
 * const metrics = createMetrics({ processMetrics: true });
 * metrics.logins.inc({ result: 'success' });
 * await metrics.registry.metrics(); // Prometheus text format
 */
export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'jot_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'jot_http_requests_total',
      help: 'HTTP requests by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'jot_http_request_duration_seconds',
      help: 'HTTP request duration in seconds by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    logins: new Counter({
      name: 'jot_logins_total',
      help: 'Login attempts by result',
      labelNames: ['result'] as const,
      registers,
    }),
    passwordCheckFailures: new Counter({
      name: 'jot_password_check_failures_total',
      help: 'Password checks that did not pass, by route (via) and reason (wrong password, or refused while locked)',
      labelNames: ['via', 'reason'] as const,
      registers,
    }),
    refreshes: new Counter({
      name: 'jot_refreshes_total',
      help: 'Refresh-token exchanges by result (reused = reuse detected, family revoked)',
      labelNames: ['result'] as const,
      registers,
    }),
    revocations: new Counter({
      name: 'jot_revocations_total',
      help: 'Revocations published to the feed by kind',
      labelNames: ['kind'] as const,
      registers,
    }),
    tokensIssued: new Counter({
      name: 'jot_tokens_issued_total',
      help: 'Access tokens issued',
      registers,
    }),
  };
}
