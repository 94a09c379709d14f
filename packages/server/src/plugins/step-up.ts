/**
 * Step-up (RFC 9470) and the MFA policy for the server's own routes. A sensitive action needs an authentication no
 * older than `JOT_STEP_UP_MAX_AGE`; when the user has a second factor it must also be a multi-factor one
 * (`acr` `aal2`), so a stolen password — or a stolen token plus the password — is not enough. The session row is
 * authoritative over the token's claims: a theft signal that demands step-up resets it at once; and a token minted
 * before the user's last factor was removed or reset no longer counts as multi-factor.
 * `JOT_MFA_REQUIRED` makes a second factor compulsory for admin actions (`admins`) or for every route (`all`)
 * except those a user needs to enrol one.
 */
import type { FastifyRequest } from 'fastify';

import type { UserAccessTokenClaims } from '@jot/contract';
import { compileGuards, enforceGuards, isVerifyError, type Guards } from '@jot/verify';

import { fromVerifyError, HttpError } from '../http/errors.js';
import { ACR } from '../services/mfa.js';

/** Routes a user without a second factor may still use under `JOT_MFA_REQUIRED=all`: enough to enrol one. */
const ENROLMENT_ROUTES = [
  '/api/whoami',
  '/api/logout',
  '/api/logout-all',
  '/api/reauth',
  '/api/sessions',
  '/api/mfa',
  '/api/passkeys/register',
];

function isEnrolmentRoute(url: string | undefined): boolean {
  return url !== undefined && ENROLMENT_ROUTES.some((r) => url === r || url.startsWith(`${r}/`));
}

async function hasMfa(request: FastifyRequest, userId: string): Promise<boolean> {
  return (await request.server.jot.mfa.factors.factors(userId)).length > 0;
}

/**
 * Applies step-up guards with `@jot/verify`'s guard code, so the refusal and its RFC 9470 challenge are the ones a
 * resource server gives for the same guards.
 */
function enforceStepUp(request: FastifyRequest, claims: UserAccessTokenClaims, guards: Guards): void {
  try {
    enforceGuards(claims, compileGuards(guards), Math.floor(request.server.jot.clock() / 1000));
  } catch (err) {
    if (isVerifyError(err)) throw fromVerifyError(err);
    throw err;
  }
}

/**
 * Requires a recent authentication of the authenticated request's user: multi-factor when the user has a factor.
 * `always: false` checks only users with a factor (password change: the current password is the proof otherwise).
 */
export async function checkStepUp(request: FastifyRequest, options: { always: boolean }): Promise<void> {
  const { config, store } = request.server.jot;
  const claims = request.auth?.claims;
  if (claims === undefined) throw new Error('checkStepUp needs an authenticated request');
  const withMfa = await hasMfa(request, claims.sub);
  if (!options.always && !withMfa) return;
  const maxAge = Math.floor(config.stepUpMaxAgeMs / 1000);
  // The session row, when there is one, can only lower what the token claims (a theft signal's step-up).
  const session = await store.getSession(claims.sid);
  const authTime = Math.min(claims.auth_time, Math.floor((session?.authTime ?? Infinity) / 1000));
  const acr = session !== undefined && session.acr !== ACR.multi ? session.acr : claims.acr;
  enforceStepUp(
    request,
    { ...claims, auth_time: authTime, acr },
    { maxAuthAge: `${maxAge}s`, acr: withMfa ? [ACR.multi] : undefined },
  );
}

/** A 403 for a user who must enrol a second factor before this action. */
function enrolmentRequired(scope: string): HttpError {
  return new HttpError(
    403,
    'ERR_MFA_ENROLLMENT_REQUIRED',
    `${scope} require a second factor: set up an authenticator app or a passkey on your account page first`,
    { error: 'insufficient_user_authentication' },
  );
}

/**
 * What the MFA policy decides on: whether the user has a factor now, and the `acr` it may rely on — the token's,
 * lowered by the session row (a theft signal's step-up resets it) and by the factors (a token minted before a reset
 * or the removal of the last factor no longer counts as multi-factor). Read only where the policy applies.
 */
async function policyState(
  request: FastifyRequest,
  claims: UserAccessTokenClaims,
): Promise<{ acr: string | undefined; withMfa: boolean }> {
  const { store, mfa } = request.server.jot;
  if (claims.acr !== ACR.multi) return { acr: claims.acr, withMfa: await hasMfa(request, claims.sub) };
  const [session, factors] = await Promise.all([
    store.getSession(claims.sid),
    mfa.factors.factors(claims.sub),
  ]);
  const withMfa = factors.length > 0;
  // No session row (it ended meanwhile) fails closed, as one-factor.
  return { acr: withMfa && session?.acr === ACR.multi ? ACR.multi : ACR.single, withMfa };
}

/** Applies `JOT_MFA_REQUIRED` to an authenticated request (`admin`: the route needs the admin role). */
export async function enforceMfaPolicy(request: FastifyRequest, admin: boolean): Promise<void> {
  const { config } = request.server.jot;
  const claims = request.auth?.claims;
  if (claims === undefined || config.mfaRequired === 'none') return;
  const applies =
    config.mfaRequired === 'all'
      ? !isEnrolmentRoute(request.routeOptions.url)
      : admin && config.mfaRequired === 'admins';
  if (!applies) return;
  const { acr, withMfa } = await policyState(request, claims);
  if (acr === ACR.multi) return;
  if (withMfa) {
    // The `acr` is below `aal2`: the acr guard refuses, its challenge naming the step-up window too.
    enforceStepUp(
      request,
      { ...claims, acr },
      {
        acr: [ACR.multi],
        maxAuthAge: `${Math.floor(config.stepUpMaxAgeMs / 1000)}s`,
      },
    );
  }
  throw enrolmentRequired(config.mfaRequired === 'all' ? 'accounts on this server' : 'admin actions');
}
