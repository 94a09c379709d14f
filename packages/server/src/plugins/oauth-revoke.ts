/**
 * `POST /oauth/revoke` (RFC 7009). A refresh token ends its whole session (its access tokens stop working too); an
 * access token has its `jti` revoked until it expires. The client must authenticate (a public client by its
 * `client_id`, holding the token being proof enough, §2.1) and may only revoke tokens issued to it. A token the
 * server does not know, or that is already invalid, answers 200 as well (§2.2): there is nothing left to revoke. One
 * encrypted to an audience whose private key the server lacks is 400 `unsupported_token_type` (§2.2.1) — only when
 * it passes every pre-decryption check for that key (forged or malformed five-part strings are invalid: 200).
 * Failed client authentications are limited per address (counted per client id too), calls per client (plugins/caller-limits.ts).
 */
import type { FastifyInstance } from 'fastify';

import { isJoseError } from '@jot/jose';

import { invalidClient, oauthError } from '../http/oauth-errors.js';
import { TOKEN_FORM_BODY, oauthForm, required } from '../http/oauth-form.js';
import { hashSecret } from '../services/secrets.js';
import { callerLimits, claimedClientId } from './caller-limits.js';
import { clientOf, OAUTH_PATHS } from './oauth-client.js';

/**
 * RFC 7009 §2.2: 200 means the token was revoked or is invalid. A token sealed for an audience whose private key
 * this server does not hold is neither: it cannot be opened, so its `jti` is unknown and nothing could be revoked.
 * §2.2.1's `unsupported_token_type` says so instead of a 200 that would leave the token valid.
 */
function sealedForOthers(): never {
  throw oauthError(
    'unsupported_token_type',
    'ERR_TOKEN_NOT_DECRYPTABLE',
    'this access token is encrypted to an audience whose private key this server does not hold, so it cannot be ' +
      'revoked here: register that private key in JOT_ENCRYPTION_KEYS, or end the session it belongs to',
  );
}

function notYours(): never {
  throw oauthError('unauthorized_client', 'ERR_TOKEN_NOT_YOURS', 'this token was issued to another client');
}

const REVOKE_SCHEMA = {
  formBody: TOKEN_FORM_BODY,
  tags: ['oauth'],
  summary: 'RFC 7009 revocation (form-encoded): a refresh token ends its session; an access token its jti.',
  description:
    'Unknown or already invalid tokens answer 200 too. The client authenticates as at /oauth/token. An access ' +
    'token encrypted to an audience whose private key the server does not hold is 400 unsupported_token_type ' +
    '(ERR_TOKEN_NOT_DECRYPTABLE): it cannot be revoked here. Only a well-formed JWE for such a key gets that 400 ' +
    '(docs/encryption.md); a forged or malformed one is an invalid token (200).',
  response: {
    200: { type: 'null' },
    400: { $ref: 'JotError#' },
    401: { $ref: 'JotError#' },
    429: { $ref: 'JotError#' },
  },
};

/** Registers the revocation endpoint. */
export async function oauthRevokeRoutes(app: FastifyInstance): Promise<void> {
  const { tokens, revocations, store, events, sessions } = app.jot;
  const limits = callerLimits(app);
  app.post(OAUTH_PATHS.revocation, { schema: REVOKE_SCHEMA }, async (request, reply) => {
    const form = oauthForm(request);
    const token = required(form, 'token');
    const authenticated = await limits.authenticate(
      request,
      claimedClientId(request.headers.authorization, form),
      () => clientOf(request, form, OAUTH_PATHS.revocation),
    );
    if (authenticated === undefined) {
      throw invalidClient('ERR_CLIENT_AUTH_FAILED', 'client authentication is required (RFC 7009 §2.1)');
    }
    const { clientId } = authenticated.client;
    await limits.admit(request, `client:${clientId}`);
    // The hint only orders the lookups (§2.1); both kinds are tried.
    // A JWS has three segments, an encrypted token (JWE) five: opened with the server's keys first.
    const segments = token.split('.', 6).length;
    if (segments === 3 || segments === 5) {
      try {
        const jws = await tokens.open(token).catch((err: unknown) => {
          // Only a token that could not be opened is checked (off the hot path): 400 when it is a well-formed JWE
          // for a key held public-only (see TokenSealer.sealedForOthers), 200 for anything else below.
          if (segments === 5 && isJoseError(err) && tokens.sealedForOthers(token)) sealedForOthers();
          throw err;
        });
        // A key rotated in on another instance since this one last synced: reload the ring before concluding the
        // token is not ours, or the caller would be told 200 while the token stays valid everywhere.
        const claims = await tokens.fresh(() => tokens.verifyIssued(jws));
        if (claims.client_id !== clientId) notYours();
        await revocations.revokeToken(claims.jti, claims.exp);
      } catch (err) {
        // Expired, foreign, malformed, forged, or sealed to a key this server does not know: nothing to revoke.
        if (!isJoseError(err)) throw err;
      }
      return reply.code(200).send();
    }
    const record = token.length <= 512 ? await store.getRefreshToken(hashSecret(token)) : undefined;
    // A rotated token ends its session as the current one does, also once its row was pruned (named by its family).
    const session =
      record === undefined
        ? await sessions.sessionOfPrunedRefreshToken(token)
        : await store.getSession(record.sessionId);
    if (session !== undefined) {
      if (session.clientId !== clientId) notYours();
      if (await revocations.revokeSession(session.id, 'revoked_by_client')) {
        await events.record('session_revoked', {
          userId: session.userId,
          sessionId: session.id,
          ip: request.ip,
          detail: { client_id: clientId },
        });
      }
    }
    return reply.code(200).send();
  });
}
