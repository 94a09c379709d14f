/**
 * Regression (operator walkthrough 2026-12-02): every security event but a successful sign-in was logged at WARN —
 * logouts, registrations, verified emails, invitations — so an alert on warnings fired all day. Routine events are now
 * `info`; reuse, theft signals, refusals, failure bursts, lockouts and key withdrawals stay `warn`.
 */
import { describe, expect, it } from 'vitest';

import { SECURITY_EVENT_TYPES, type SecurityEventType } from '@jot/contract';

import { securityEventLevel } from '../src/services/security-event-levels.js';
import { createSecurityEvents } from '../src/services/security-events.js';
import type { Store } from '../src/store/index.js';

const ROUTINE: SecurityEventType[] = [
  'login_succeeded',
  'login_failed',
  'registered',
  'user_created',
  'logout',
  'logout_all',
  'password_changed',
  'email_verified',
  'email_changed',
  'invitation_created',
  'invitation_accepted',
  'client_registered',
  'key_rotated',
  'mfa_enrolled',
  'new_device_sign_in',
];
const ALARMING: SecurityEventType[] = [
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
  // What a takeover or an insider does: alerts on warnings must see them.
  'admin_created',
  'roles_changed',
  'mfa_removed',
];

describe('security event log levels', () => {
  it.each(ROUTINE)('logs %s at info', (type) => expect(securityEventLevel(type)).toBe('info'));
  it.each(ALARMING)('logs %s at warn', (type) => expect(securityEventLevel(type)).toBe('warn'));

  it('gives every event type one of the two levels', () => {
    for (const type of SECURITY_EVENT_TYPES) expect(['info', 'warn']).toContain(securityEventLevel(type));
  });

  it('record() writes each event at its level', async () => {
    const lines: [string, unknown][] = [];
    const store = { insertSecurityEvent: async () => undefined } as unknown as Store;
    const events = createSecurityEvents(store, {
      info: (facts) => lines.push(['info', facts.securityEvent]),
      warn: (facts) => lines.push(['warn', facts.securityEvent]),
    });
    await events.record('logout', { userId: 'u1' });
    await events.record('refresh_token_reuse', { userId: 'u1' });
    expect(lines).toEqual([
      ['info', 'logout'],
      ['warn', 'refresh_token_reuse'],
    ]);
  });
});
