/**
 * `grant_type=refresh_token` (RFC 6749 §6) for OAuth clients: the same rotation, reuse detection and grace window as
 * the JSON `POST /api/token/refresh` (one implementation, `SessionService.refresh`), plus the RFC's client binding —
 * a refresh token works only for the client it was issued to — and an optional narrower `scope`. DPoP as there
 * (RFC 9449 §5): a bound family needs a proof from its key; an unbound one refreshed with a proof is bound to it.
 */
import { refreshResultOf } from '../metrics.js';
import { scopeList, scopeText } from '../scopes.js';
import { tokenTypeOf, type GrantHandler } from './types.js';
import { DomainError } from '../errors.js';
import { unknownRefreshTokenError } from '../sessions/rules.js';

/** The refresh-token grant. */
export const refreshTokenGrant: GrantHandler = async ({ client, form, clientInfo, dpop }, jot) => {
  const refreshToken = form.refresh_token;
  if (refreshToken === undefined) {
    throw new DomainError('invalid', 'ERR_OAUTH_REQUEST', 'the "refresh_token" parameter is required');
  }
  // Longer than any token Jot issues: simply not a valid one (RFC 6749 §5.2 invalid_grant), never looked up.
  if (refreshToken.length > 512) throw unknownRefreshTokenError();
  const narrow = form.scope === undefined ? undefined : scopeList(form.scope);
  const pair = await jot.sessions
    .refresh(refreshToken, clientInfo, undefined, {
      clientId: client.clientId,
      scope: narrow,
      dpopProof: dpop,
    })
    .catch((err: unknown) => {
      jot.metrics.refreshes.inc({
        result: refreshResultOf(err instanceof Error && 'code' in err ? String(err.code) : undefined),
      });
      throw err;
    });
  jot.metrics.refreshes.inc({ result: 'success' });
  const scope = typeof pair.claims.scope === 'string' ? pair.claims.scope : scopeText([]);
  return {
    access_token: pair.accessToken,
    token_type: tokenTypeOf(pair.claims),
    expires_in: pair.expiresIn,
    ...(pair.refreshToken === undefined ? {} : { refresh_token: pair.refreshToken }),
    ...(scope === undefined ? {} : { scope }),
  };
};
