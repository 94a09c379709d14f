/**
 * Security events: stored for admins (`GET /api/admin/events`) and written to the log. Callers pass ids, addresses
 * and reasons only — never a password, token, hash or key.
 */
import { SECURITY_EVENT_TYPES, type SecurityEventType } from '@jot/contract';

import type { Store } from '../store/index.js';
import { securityEventLevel } from './security-event-levels.js';

/** The kinds of security event the server records (docs/security.md lists when each is written). */
export { SECURITY_EVENT_TYPES, type SecurityEventType };

/** Where events are logged: a pino-compatible `info` and `warn`. */
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
  /**
   * Records an event about a session once (`Store.addSessionEventOnce`): not when the session is gone, was ended for
   * this very reason (whoever ended it records it), or has one of the type already. Whether it recorded (and logged)
   * it.
   */
  recordOncePerSession(
    type: SecurityEventType,
    facts: { userId: string; sessionId: string; ip?: string | null; detail?: Record<string, unknown> },
  ): Promise<boolean>;
  /**
   * Records an event about a user only while the user exists (`Store.addUserEvent`): never after a deletion of the
   * account, which scrubs the events it finds. `within`, a transaction that changed the user, makes the event commit
   * with that change or not at all (it is logged once committed, never for a change rolled back). Whether it recorded it.
   */
  recordAboutUser(
    type: SecurityEventType,
    facts: { userId: string; ip?: string | null; detail?: Record<string, unknown> },
    within?: Store,
  ): Promise<boolean>;
}

/** Events go to the store and to the log (without secrets: callers only pass ids and reasons). */
export function createSecurityEvents(store: Store, logger: EventLogger): SecurityEvents {
  const log = (type: SecurityEventType, facts: Parameters<SecurityEvents['record']>[1]): void => {
    // Routine events at info, attack and fault signals at warn (security-event-levels.ts).
    logger[securityEventLevel(type)](
      {
        securityEvent: type,
        userId: facts.userId,
        sessionId: facts.sessionId,
        ip: facts.ip,
        detail: facts.detail,
      },
      'security event',
    );
  };
  return {
    async recordOncePerSession(type, facts) {
      const added = await store.addSessionEventOnce({
        type,
        userId: facts.userId,
        sessionId: facts.sessionId,
        ip: facts.ip ?? null,
        detail: facts.detail ?? {},
      });
      if (added !== undefined) log(type, facts);
      return added !== undefined;
    },
    async recordAboutUser(type, facts, within) {
      const target = within ?? store;
      const added = await target.addUserEvent({
        type,
        userId: facts.userId,
        sessionId: null,
        ip: facts.ip ?? null,
        detail: facts.detail ?? {},
      });
      // Inside a transaction the line waits for its commit: a change rolled back leaves none.
      if (added !== undefined) target.afterCommit(() => log(type, facts));
      return added !== undefined;
    },
    async record(type, facts) {
      log(type, facts);
      await store.insertSecurityEvent({
        type,
        userId: facts.userId ?? null,
        sessionId: facts.sessionId ?? null,
        ip: facts.ip ?? null,
        detail: facts.detail ?? {},
      });
    },
  };
}
