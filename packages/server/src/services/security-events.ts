/** Security events (reuse detected, login failures, disables, key rotations): stored for admins and logged. */
import type { FastifyBaseLogger } from 'fastify';

import type { Store } from '../store/index.js';

/** The kinds of security event the server records. */
export type SecurityEventType =
  | 'refresh_token_reuse'
  | 'login_failed'
  | 'login_succeeded'
  | 'user_disabled'
  | 'user_enabled'
  | 'roles_changed'
  | 'password_changed'
  | 'logout_all'
  | 'key_rotated'
  | 'csrf_rejected'
  | 'password_reset_requested'
  | 'password_reset'
  | 'email_verified'
  | 'email_change_requested'
  | 'email_changed'
  | 'invitation_created'
  | 'invitation_revoked'
  | 'invitation_accepted'
  | 'account_deleted'
  | 'session_revoked'
  | 'client_registered'
  | 'client_secret_rotated'
  | 'client_removed'
  | 'mfa_enrolled'
  | 'mfa_removed'
  | 'mfa_reset'
  | 'mfa_failed'
  | 'mfa_locked'
  | 'mfa_step_up'
  | 'recovery_codes_regenerated'
  | 'recovery_code_used'
  | 'new_device_sign_in'
  | 'session_network_changed'
  | 'session_agent_changed'
  | 'refresh_anomaly'
  | 'failure_burst';

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
export function createSecurityEvents(store: Store, logger: FastifyBaseLogger): SecurityEvents {
  return {
    async record(type, facts) {
      // A successful sign-in is routine: info, so warnings stay worth reading.
      logger[type === 'login_succeeded' ? 'info' : 'warn'](
        { securityEvent: type, userId: facts.userId, sessionId: facts.sessionId },
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
