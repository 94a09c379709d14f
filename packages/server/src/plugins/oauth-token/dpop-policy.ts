/** Whether a token request must carry a DPoP proof (RFC 9449 §5). */
import type { OAuthClient } from '../../store/index.js';

/**
 * Whether the client must send a DPoP proof: its registered policy (RFC 9449 §5.2 `dpop_bound_access_tokens`); the
 * first-party client follows `JOT_DPOP`, as at sign-in and `/api/token/refresh`.
 */
export function dpopRequired(client: OAuthClient, serverPolicy: 'optional' | 'required'): boolean {
  return client.dpop === 'required' || (client.firstParty && serverPolicy === 'required');
}
