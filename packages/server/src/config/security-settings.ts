/**
 * The MFA, passkey and theft-signal settings (their defaults and meanings are in defaults.ts), parsed with the
 * loader's own `get`/`read`, so a bad value fails like every other setting.
 */
import type { SettingKey, SettingValue } from './defaults.js';
import * as p from './parsers.js';
import type { Get, Read } from './reader.js';
import type { MfaPolicy, TheftResponse, TheftSignal } from './types.js';

/** Every theft signal, in the order the docs list them. */
export const THEFT_SIGNALS: readonly TheftSignal[] = [
  'session_network_changed',
  'session_agent_changed',
  'refresh_anomaly',
  'failure_burst',
];

function theftResponses(value: SettingValue): Record<TheftSignal, TheftResponse> {
  const out: Record<TheftSignal, TheftResponse> = {
    session_network_changed: 'record',
    session_agent_changed: 'step_up',
    refresh_anomaly: 'step_up',
    failure_burst: 'step_up',
  };
  for (const item of p.list(value)) {
    const [signal, response] = item.split('=').map((s) => s.trim());
    if (!THEFT_SIGNALS.includes(signal as TheftSignal) || response === undefined) {
      throw new p.Invalid(`expected <signal>=<response> pairs; signals: ${THEFT_SIGNALS.join(', ')}`);
    }
    out[signal as TheftSignal] = p.oneOf(response, ['record', 'step_up', 'revoke']);
  }
  return out;
}

/**
 * Parses the security settings; `issuer` gives the WebAuthn defaults; `isSet` tells a setting the operator gave from
 * one left at its default.
 */
export function loadSecuritySettings(
  get: Get,
  read: Read,
  issuer: string,
  isSet: (key: SettingKey) => boolean,
) {
  const issuerUrl = new URL(issuer);
  const refreshAnomalyLimit = get('refreshAnomalyLimit', (v) => p.integer(v, 2, 1000));
  const refreshSessionLimit = get('refreshSessionLimit', (v) => p.integer(v, 3, 100_000));
  return {
    mfaRequired: get<MfaPolicy>('mfaRequired', (v) => p.oneOf(v, ['none', 'admins', 'all'])),
    mfaTokenTtlMs: get('mfaTokenTtl', (v) => p.durationMs(v, 30_000)),
    mfaAccountLimit: get('mfaAccountLimit', p.rate),
    webauthnRpId:
      read('webauthnRpId', (v) => {
        const s = p.string(v).toLowerCase();
        if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(s))
          throw new p.Invalid('expected a domain name such as "example.com" (no scheme, no port)');
        return s;
      }) ?? issuerUrl.hostname,
    webauthnRpName: get('webauthnRpName', p.string),
    webauthnOrigins: read('webauthnOrigins', (v) => {
      const items = p.list(v).map(p.origin);
      if (items.length === 0) throw new p.Invalid('expected one or more origins, comma-separated');
      return items;
    }) ?? [issuerUrl.origin],
    theftWindowMs: get('theftWindow', (v) => p.durationMs(v, 1000)),
    theftResponses: get('theftResponses', theftResponses),
    failureBurst: get('failureBurst', p.rate),
    refreshAnomalyLimit,
    // Left at its default, the ceiling stays above an anomaly limit the operator raised (an upgrade to a version with
    // the ceiling must not stop a start); set, the two are checked together (check-combinations.ts).
    refreshSessionLimit: isSet('refreshSessionLimit')
      ? refreshSessionLimit
      : Math.max(refreshSessionLimit, refreshAnomalyLimit + 1),
  };
}
