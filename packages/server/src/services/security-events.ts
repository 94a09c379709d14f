/**
 * Security events: stored for admins (`GET /api/admin/events`) and written to the log. Callers pass ids, addresses
 * and reasons only — never a password, token, hash or key.
 */
import type { Store } from '../store/index.js';

/** The kinds of security event the server records (docs/security.md lists when each is written). */
export const SECURITY_EVENT_TYPES = [
  'login_succeeded',
  'login_failed',
  'account_locked',
  'registered',
  'user_created',
  'admin_created',
  'logout',
  'logout_all',
  'session_revoked',
  'refresh_token_reuse',
  'renewal_reuse',
  'csrf_rejected',
  'rate_limited',
  'password_changed',
  'roles_changed',
  'user_disabled',
  'user_enabled',
  'key_rotated',
  'password_reset_requested',
  'password_reset',
  'email_verified',
  'email_change_requested',
  'email_changed',
  'invitation_created',
  'invitation_revoked',
  'invitation_accepted',
  'account_deleted',
  'client_registered',
  'client_secret_rotated',
  'client_removed',
  'mfa_enrolled',
  'mfa_removed',
  'mfa_reset',
  'mfa_failed',
  'mfa_locked',
  'mfa_step_up',
  'recovery_codes_regenerated',
  'recovery_code_used',
  'new_device_sign_in',
  'session_network_changed',
  'session_agent_changed',
  'refresh_anomaly',
  'failure_burst',
] as const;

/** One kind of security event. */
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

/** Where events are logged: a pino-compatible `warn`. */
export interface EventLogger {
  warn(facts: Record<string, unknown>, message: string): void;
  info(facts: Record<string, unknown>, message: string): void;
}

/** Records security events. */
export interface SecurityEvents {
  record(
    type: SecurityEventType,
    facts: {
      userId?: string | null;
      sessionId?: string | null;
      ip?: string | null;
      detail?: Record<string, unknown>;
    },
  ): Promise<void>;
}

/** Events go to the store and to the log (without secrets: callers only pass ids and reasons). */
export function createSecurityEvents(store: Store, logger: EventLogger): SecurityEvents {
  return {
    async record(type, facts) {
      // A successful sign-in is routine: info, so warnings stay worth reading.
      logger[type === 'login_succeeded' ? 'info' : 'warn'](
        {
          securityEvent: type,
          userId: facts.userId,
          sessionId: facts.sessionId,
          ip: facts.ip,
          detail: facts.detail,
        },
        'security event',
      );
      await store.addSecurityEvent({
        type,
        userId: facts.userId ?? null,
        sessionId: facts.sessionId ?? null,
        ip: facts.ip ?? null,
        detail: facts.detail ?? {},
      });
    },
  };
}
