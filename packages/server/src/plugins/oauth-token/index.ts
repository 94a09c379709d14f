/**
 * `POST /oauth/token` (RFC 6749 §3.2): authenticate the client, check it may use the grant, dispatch to the grant's
 * handler (services/grants/), answer RFC 6749 §5.1. The grants: `refresh_token`, `client_credentials` and token
 * exchange (RFC 8693). A `DPoP` proof (RFC 9449 §5) binds what is issued to its key; refusals are 400
 * `invalid_dpop_proof`, or `use_dpop_nonce` with a `DPoP-Nonce` header when server nonces are on — and then every
 * answer, errors included, carries the current nonce (RFC 9449 §8.2).
 *
 * Limits key on who acts (plugins/caller-limits.ts), never on successes per address: a failed client authentication,
 * and a refresh token the server does not know at all presented by a public client (not a known but expired, ended
 * or reused one, though both are `invalid_grant`),
 * spend the address's failure budget (`JOT_RATE_LIMIT_AUTH`, shared with introspection and revocation), which once
 * used up refuses the address's requests (429 `ERR_CLIENT_AUTH_LOCKED`); calls of an authenticated confidential
 * client spend that client's budget (`JOT_RATE_LIMIT_CLIENT`), and the unknown refresh tokens it presents a failure
 * budget of its own (`JOT_RATE_LIMIT_AUTH` per client, 429 `ERR_RATE_LIMITED`). A gateway exchanging tokens for many
 * users from one address is limited as one client, not as one address.
 */
import type { FastifyInstance } from 'fastify';

import { clientInfo } from '../../http/client-info.js';
import { nonceOnEveryAnswer, tokenEndpointProof } from '../../http/dpop-proof.js';
import { invalidClient } from '../../http/oauth-errors.js';
import { formTargets, oauthForm, required } from '../../http/oauth-form.js';
import { isDomainError } from '../../services/errors.js';
import { isUnknownRefreshToken } from '../../services/sessions.js';
import { callerLimits, claimedClientId, isCredentialRefusal } from '../caller-limits.js';
import { clientOf, OAUTH_PATHS } from '../oauth-client.js';
import { dpopRequired } from './dpop-policy.js';
import { grantFor } from './grants.js';
import { TOKEN_SCHEMA } from './schema.js';

/**
 * Whether a grant's error refuses a guessed secret: a refresh token the server does not know at all (no such token
 * hash: what guessing produces), or a refused credential. Not a refresh token the server issued that is no longer
 * usable (`invalid_grant` all the same: expired, its session ended, its account disabled, reused, another client's):
 * a gateway refreshing for many users relays their stale tokens, and counting them would lock its address for every
 * user. Not a refused subject token (token exchange): it is a signed JWT, which cannot be guessed. Nor a malformed
 * request, a refused scope or audience, or a DPoP proof to redo.
 */
function isGrantRefusal(err: unknown): boolean {
  if (isUnknownRefreshToken(err)) return true;
  return !isDomainError(err, 'grant') && isCredentialRefusal(err);
}

/** Registers the token endpoint. */
export async function oauthTokenRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app.jot;
  const limits = callerLimits(app);
  app.post(
    OAUTH_PATHS.token,
    { schema: TOKEN_SCHEMA, onSend: nonceOnEveryAnswer },
    async (request, reply) => {
      const form = oauthForm(request);
      const grantType = required(form, 'grant_type');
      const claimed = claimedClientId(request.headers.authorization, form);
      const authenticated = await limits.authenticate(request, claimed, () =>
        clientOf(request, form, OAUTH_PATHS.token),
      );
      if (authenticated === undefined) {
        throw invalidClient('ERR_CLIENT_AUTH_FAILED', 'client authentication is required (RFC 6749 §2.3)');
      }
      const { client } = authenticated;
      const grant = grantFor(client, grantType);
      const run = () =>
        grant(
          {
            client,
            form,
            targets: formTargets(request),
            clientInfo: clientInfo(request),
            dpop: (boundJkt) =>
              tokenEndpointProof(request, reply, {
                boundJkt,
                required: dpopRequired(client, config.dpop),
              }),
          },
          app.jot,
        );
      // A public client's id is no secret: a budget per id would let anyone spend every user's. Its refreshes are
      // bounded by the refresh token itself (one use) and its failures by the address. A confidential client proved
      // who it is: its failed refresh grants (its users' junk refresh tokens, for a gateway) are its own, not its
      // address's — and they hold back only its refresh grants, never its client-credentials or exchange grants,
      // which present no secret a caller could guess (a subject token is a signed JWT).
      if (client.authMethod === 'none') return limits.authenticate(request, claimed, run, isGrantRefusal);
      await limits.admit(request, `client:${client.clientId}`);
      if (grantType !== 'refresh_token') return run();
      return limits.clientGrant(request, client.clientId, run, isGrantRefusal);
    },
  );
}
