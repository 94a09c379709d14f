/**
 * The log level of each security event. Routine account and administration events (a sign-in, a logout, a
 * registration, an invitation) are `info`; `warn` is kept for the events that signal an attack or a fault — reuse of
 * a spent credential, theft signals, refusals, failure bursts, lockouts, an emergency key withdrawal — and for the
 * changes an account takeover or an insider makes (a new admin, changed roles, a second factor removed), so an alert
 * on warnings is worth waking up for.
 */
import type { SecurityEventType } from '@jot/contract';

/** The events logged at `warn`; every other type is `info`. */
export const WARNING_EVENTS: ReadonlySet<SecurityEventType> = new Set<SecurityEventType>([
  'account_locked',
  'refresh_token_reuse',
  'renewal_reuse',
  'csrf_rejected',
  'rate_limited',
  'key_withdrawn',
  'mfa_failed',
  'mfa_locked',
  'recovery_code_used',
  'session_network_changed',
  'session_agent_changed',
  'refresh_anomaly',
  'failure_burst',
  'admin_created',
  'roles_changed',
  'mfa_removed',
]);

/** The level `type` is logged at. */
export function securityEventLevel(type: SecurityEventType): 'info' | 'warn' {
  return WARNING_EVENTS.has(type) ? 'warn' : 'info';
}
