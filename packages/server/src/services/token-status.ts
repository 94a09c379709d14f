/**
 * Whether an access token this server issued is active right now, whoever it was issued to: verified for any of
 * our audiences (`TokenService.verifyIssued`), then checked against every revocation that applies. A user's token
 * (it has a `sid`) is checked like any request's (jti, session, user version and cut-off); so is a token obtained by
 * token exchange, which therefore dies with the user's session. A client's own token needs its client to still be
 * registered, since before its (re)registration. Used by introspection, revocation and token exchange.
 */
import { FIRST_PARTY_CLIENT_ID, type UserAccessTokenClaims } from '@jot/contract';
import { isJoseError } from '@jot/jose';
import { isVerifyError, tokenRevoked } from '@jot/verify';

import type { Clock } from '../clock.js';
import type { Store } from '../store/index.js';
import type { RevocationService } from './revocation.js';
import { DomainError, isDomainError } from './errors.js';
import type { ClientBoundClaims, TokenService } from './tokens.js';

/** The checker. */
export interface TokenStatus {
  /** The token's claims when it is active; otherwise throws a `VerifyError` or `DomainError` of kind `token` (or a `JoseError`) saying why. */
  check(token: string): Promise<ClientBoundClaims>;
  /**
   * The claims when active, else undefined (introspection's `active: false`). `admit`, when given, is asked right
   * after the signature and claims check, before any revocation or client lookup: a token it refuses is undefined
   * after the same work as a forged or expired one, so the time taken tells nothing of whether it is revoked.
   */
  active(
    token: string,
    admit?: (claims: ClientBoundClaims) => boolean,
  ): Promise<ClientBoundClaims | undefined>;
}

/** Builds the checker. */
export function createTokenStatus(deps: {
  tokens: TokenService;
  revocations: RevocationService;
  store: Store;
  clock: Clock;
}): TokenStatus {
  const { tokens, revocations, store, clock } = deps;

  async function checkClient(claims: ClientBoundClaims): Promise<void> {
    if (claims.client_id === FIRST_PARTY_CLIENT_ID) return;
    const client = await store.getClient(claims.client_id);
    // Whole seconds: `iat` is floored, so a token issued in the client's creation second still counts.
    if (client === undefined || claims.iat < Math.floor(client.createdAt / 1000)) {
      throw tokenRevoked('client');
    }
  }

  async function check(
    token: string,
    admit: (claims: ClientBoundClaims) => boolean = () => true,
  ): Promise<ClientBoundClaims> {
    const jws = await tokens.open(token);
    const claims = await tokens.fresh(() => tokens.verifyIssued(jws));
    if (!admit(claims))
      throw new DomainError('token', 'ERR_TOKEN_REVOKED', 'the token is not for this caller');
    if (typeof claims.sid === 'string') {
      if (typeof claims.ver !== 'number')
        throw new DomainError('token', 'ERR_TOKEN_REVOKED', 'the token has no "ver"');
      await revocations.check(claims as UserAccessTokenClaims);
    } else {
      if (claims.sub !== claims.client_id) {
        throw new DomainError(
          'token',
          'ERR_TOKEN_REVOKED',
          "a token without a session must be a client's own token",
        );
      }
      if (await store.isJtiRevoked(claims.jti, clock())) {
        throw tokenRevoked('jti');
      }
    }
    await checkClient(claims);
    return claims;
  }

  return {
    check: (token) => check(token),
    async active(token, admit) {
      try {
        return await check(token, admit);
      } catch (err) {
        if (isJoseError(err) || isVerifyError(err) || isDomainError(err, 'token')) return undefined;
        throw err;
      }
    },
  };
}
