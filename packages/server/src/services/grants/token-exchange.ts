/**
 * Token exchange (RFC 8693): a service holding a user's access token (`subject_token`) gets a short-lived token for
 * another registered audience, to call that service on the user's behalf. The new token keeps the user as `sub`
 * and the user's session as `sid` — so it dies with the session, like the user's own tokens — names the service in
 * `act` (§4.1; a chain of delegation nests), carries the service as `client_id`, and has equal or narrower scope:
 * within the subject token's scopes and the client's registered ones (none for a client registered with none);
 * asking for more is `invalid_scope`. It carries no roles (`roles: []`): an admin's token, exchanged, is no admin's.
 * It lives `JOT_EXCHANGED_TOKEN_TTL` at most, and never past the subject token's `exp`. A DPoP proof binds it to the
 * proof's key (the acting service's, not the user's); an audience with a registered encryption key gets it
 * encrypted. A sender-constrained subject token (any `cnf`: DPoP's `cnf.jkt`, RFC 9449) is exchanged only with a
 * proof, so the new token is constrained too: otherwise a stolen bound token, laundered through any client allowed
 * to exchange, would come out as a bearer token anyone can use.
 */
import { OAUTH_URIS, type ActorClaim } from '@jot/contract';
import { isJoseError } from '@jot/jose';
import { isVerifyError } from '@jot/verify';

import type { OAuthClient } from '../../store/index.js';
import { scopeList, scopeText } from '../scopes.js';
import { chooseAudience, chooseScopes } from './targets.js';
import type { ClientBoundClaims } from '../tokens.js';
import {
  tokenTypeOf,
  type GrantHandler,
  type GrantRequest,
  type GrantServices,
  type OAuthForm,
} from './types.js';
import { DomainError, isDomainError } from '../errors.js';

function badRequest(message: string): DomainError {
  return new DomainError('invalid', 'ERR_OAUTH_REQUEST', message);
}

/** The RFC 8693 §2.1 parameters this server supports: an access token as the subject, no separate actor token. */
function checkExchangeForm(form: OAuthForm): string {
  const subjectToken = form.subject_token;
  if (subjectToken === undefined) throw badRequest('the "subject_token" parameter is required');
  // RFC 8693 §3: the type says what the token is. Only this server's access tokens are exchanged, so only the
  // access-token type is sound; `…:jwt` says merely "a JWT" (an ID token or any assertion would be one too).
  if (form.subject_token_type === OAUTH_URIS.jwtTokenType) {
    throw badRequest(
      `"subject_token_type" ${OAUTH_URIS.jwtTokenType} is not accepted: only access tokens this server issued are ` +
        `exchanged, so it must be ${OAUTH_URIS.accessTokenType}`,
    );
  }
  if (form.subject_token_type !== OAUTH_URIS.accessTokenType) {
    throw badRequest(
      `"subject_token_type" must be ${OAUTH_URIS.accessTokenType}: only access tokens this server issued are exchanged`,
    );
  }
  if (form.requested_token_type !== undefined && form.requested_token_type !== OAUTH_URIS.accessTokenType) {
    throw badRequest(`only ${OAUTH_URIS.accessTokenType} can be requested`);
  }
  if (form.actor_token !== undefined || form.actor_token_type !== undefined) {
    throw badRequest('actor_token is not supported: the authenticated client is the actor');
  }
  return subjectToken;
}

/**
 * The subject token's claims, after the same checks as any access token (revocation included); a user's only. Every
 * refusal of the subject token is `invalid_request` (RFC 8693 §2.2.2: "If … the subject_token … [is] invalid or
 * unacceptable, the authorization server MUST set the error response parameter to invalid_request"), its `code`
 * saying why.
 */
async function userSubject(
  jot: GrantServices,
  subjectToken: string,
): Promise<ClientBoundClaims & { sid: string; ver: number }> {
  const subject = await jot.tokenStatus.check(subjectToken).catch((err: unknown) => {
    if (isJoseError(err) || isVerifyError(err) || isDomainError(err, 'token')) {
      throw new DomainError('invalid', err.code, `the subject token is not valid: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  });
  if (typeof subject.sid !== 'string' || typeof subject.ver !== 'number') {
    throw new DomainError(
      'invalid',
      'ERR_EXCHANGE_SUBJECT',
      "the subject token must be a user's access token",
    );
  }
  return { ...subject, sid: subject.sid, ver: subject.ver };
}

/**
 * The proof key the new token is bound to: the request's DPoP proof (checked as the client's policy says), which a
 * bound subject token makes required. The acting client proves its own key — it cannot hold the user's — so the
 * binding moves to it rather than being dropped. Fails closed on any `cnf`, should another confirmation method
 * (e.g. mTLS's `x5t#S256`, RFC 8705, which this server does not issue) ever appear.
 */
async function boundKey(subject: ClientBoundClaims, dpop: GrantRequest['dpop']): Promise<string | undefined> {
  const jkt = await dpop(null);
  if (jkt === undefined && subject.cnf !== undefined) {
    throw new DomainError(
      'invalid',
      'ERR_EXCHANGE_DPOP_REQUIRED',
      'the subject token is sender-constrained (DPoP, cnf.jkt): send a DPoP proof of your own key with the ' +
        'exchange request, and the new token is bound to that key',
    );
  }
  return jkt;
}

/**
 * A delegated token is for one service: with several audiences each of them could replay it at the others (RFC 9700
 * §2.3 audience restriction), so asking for more than one is refused.
 */
function oneAudience(audience: string | string[]): string {
  if (typeof audience === 'string') return audience;
  throw new DomainError(
    'invalid',
    'ERR_INVALID_TARGET',
    'a token exchange issues a token for one audience: send one "audience" or "resource"',
  );
}

/**
 * The scopes a client may get for the subject: those of the subject token that the client is registered for. A
 * client registered with no scopes may get none — as its client-credentials tokens carry none — not every scope of
 * the user's token: what a service may do for a user is what an admin registered it for, never more.
 */
function delegableScopes(subject: ClientBoundClaims, client: OAuthClient): string[] {
  const registered = new Set(client.scopes);
  return scopeList(subject.scope).filter((scope) => registered.has(scope));
}

/** The token-exchange grant. */
export const tokenExchangeGrant: GrantHandler = async ({ client, form, targets, dpop }, jot) => {
  const subject = await userSubject(jot, checkExchangeForm(form));
  const scope = scopeText(chooseScopes(form.scope, delegableScopes(subject, client)));
  const audience = oneAudience(chooseAudience(client, targets));
  const now = Math.floor(jot.clock() / 1000);
  const ttl = Math.min(Math.floor(jot.config.exchangedTokenTtlMs / 1000), subject.exp - now);
  if (ttl < 1)
    throw new DomainError('invalid', 'ERR_EXCHANGE_SUBJECT', 'the subject token is about to expire');
  const act: ActorClaim =
    subject.act === undefined ? { sub: client.clientId } : { sub: client.clientId, act: subject.act };
  const dpopJkt = await boundKey(subject, dpop);
  const issued = await jot.tokens.seal(
    await jot.tokens.issue({
      userId: subject.sub,
      sessionId: subject.sid,
      tokenVersion: subject.ver,
      authTime: (subject.auth_time ?? now) * 1000,
      // The user's roles are not delegated: no registration bounds them (the scope is bounded above), so an admin's
      // exchanged token would be an admin wherever a route guards by role. The service's power is its scope.
      roles: [],
      clientId: client.clientId,
      audience,
      ttlSeconds: ttl,
      scope,
      act,
      ...(dpopJkt === undefined ? {} : { dpopJkt }),
    }),
  );
  return {
    access_token: issued.token,
    issued_token_type: OAUTH_URIS.accessTokenType,
    token_type: tokenTypeOf(issued.claims),
    expires_in: issued.expiresIn,
    ...(scope === undefined ? {} : { scope }),
  };
};
