/**
 * The credential of resource servers for the revocation feed, its stream and introspection:
 * `Authorization: Bearer <JOT_REVOCATION_SECRET>` (compared in constant time on SHA-256 digests), or an admin's
 * access token — which is then kept on the request, so a long-lived stream can re-check it as it goes. Failed
 * credentials are limited per address (plugins/caller-limits.ts); the secret's calls only by the optional
 * `JOT_RATE_LIMIT_RESOURCE_SERVER` ceiling per address.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';

import type { Config } from '../config/index.js';
import { unauthorized } from '../http/errors.js';
import { authenticateToken, bearerToken } from './auth.js';
import { callerLimits } from './caller-limits.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The pre-handler that admits only resource servers (and admins). */
export function feedCredential(config: Config): preHandlerAsyncHookHandler {
  const secretDigest = config.revocationSecret === undefined ? undefined : digest(config.revocationSecret);

  const isSecret = (presented: string): boolean =>
    secretDigest !== undefined && timingSafeEqual(digest(presented), secretDigest);

  async function check(request: FastifyRequest, presented: string): Promise<void> {
    if (presented.split('.').length === 3) {
      const auth = await authenticateToken(request, presented, 'bearer');
      if (auth.claims.roles.includes('admin') && auth.claims.act === undefined) {
        request.auth = auth; // a stream re-checks it as it goes
        return;
      }
    }
    throw unauthorized('ERR_FEED_AUTH', 'the credential is not valid for the revocation feed');
  }

  return async function requireFeedCredential(request: FastifyRequest): Promise<void> {
    const presented = bearerToken(request.headers.authorization);
    if (presented === undefined) {
      throw unauthorized('ERR_FEED_AUTH', 'the revocation feed requires the resource-server credential', {
        noCredentials: true,
      });
    }
    // The right secret passes even while its address is locked: otherwise anyone sharing the resource servers'
    // address (a NAT, a proxy without JOT_TRUST_PROXY) could shut every strict verifier out with ten wrong guesses.
    // Guessing gains nothing from it: the secret has at least 32 characters, and wrong ones are still counted.
    // Its only limit is the optional ceiling per address, on every route this credential opens.
    if (isSecret(presented)) return callerLimits(request.server).admitResourceServer(request);
    // Failed credentials count per address: an admin's token and the wrong secrets are limited.
    await callerLimits(request.server).authenticate(request, undefined, () => check(request, presented));
  };
}

/**
 * Spends one call of the caller's budget once `feedCredential` admitted the request: an admin's per user
 * (`JOT_RATE_LIMIT_CLIENT`). The revocation secret's holders are Jot's own resource servers — a `strict` verifier
 * asks once per request it serves, and many share one secret and one address behind a NAT — so they are held only
 * to the optional ceiling per address (`JOT_RATE_LIMIT_RESOURCE_SERVER`, off by default): a 429 refuses tokens at
 * every strict verifier behind that address. Their wrong secrets are limited per address before any check.
 */
export async function admitFeedCaller(request: FastifyRequest): Promise<void> {
  if (request.auth === undefined) return; // the secret: its ceiling was spent by `feedCredential`
  await callerLimits(request.server).admit(request, `user:${request.auth.claims.sub}`);
}
