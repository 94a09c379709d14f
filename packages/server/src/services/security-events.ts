/**
 * Security events: stored for admins (`GET /api/admin/events`) and written to the log. Callers pass ids, addresses
 * and reasons only — never a password, token, hash or key.
 */
import { SECURITY_EVENT_TYPES, type SecurityEventType } from '@jot/contract';

import type { Store } from '../store/index.js';

/** The kinds of security event the server records (docs/security.md lists when each is written). */
export { SECURITY_EVENT_TYPES, type SecurityEventType };

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
