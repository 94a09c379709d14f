/**
 * `POST /api/login`: sign-in with email and password. Unknown email and wrong password are indistinguishable: same
 * status, same body, a dummy argon2 verification and a failure padded to the slowest recent verification, so they
 * take the same time whatever the stored hash. The device credentials presented (the cookie's, and the body's
 * `device_token`) go to the throttle (a live one of this account is judged on its own count, not held by the
 * account-wide lock); a success without MFA gives the device its credential (http/device-credential.ts).
 */
import { performance } from 'node:perf_hooks';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import type { LoginBody } from '@jot/contract';

import { clientInfo } from '../../http/client-info.js';
import { deviceTokens, giveDeviceCredential } from '../../http/device-credential.js';
import { HttpError } from '../../http/errors.js';
import { lockRefusalEvents, type LockRefusalEvents } from '../../http/lock-refusal-events.js';
import { checkEmail } from '../../services/accounts.js';
import { LoginLockedError, type LoginAttempt } from '../../services/login-throttle.js';
import { authRateLimit } from '../../http/rate-limit.js';
import { tokenRouteResponses } from '../../http/schemas.js';
import { loginBodySchema } from '../../http/session-body-schemas.js';
import { tokenResponse } from '../../http/token-response.js';
import { loginProof } from '../../http/dpop-proof.js';
import { emailKeyOf, type User } from '../../store/index.js';

const INVALID_CREDENTIALS = 'the email or password is incorrect';

const loginSchema = {
  tags: ['accounts'],
  summary: 'Sign in with email and password; returns an access token and a refresh token.',
  body: loginBodySchema,
  response: tokenRouteResponses(400, 401, 429),
};

/**
 * The account whose password this is (and whether it has a second factor), through the sign-in throttle (with the
 * request's device credentials); else the one refusal for an unknown email and a wrong password alike (padded to the
 * same time, counted and recorded).
 */
async function checkCredentials(
  app: FastifyInstance,
  request: FastifyRequest,
  lockEvents: LockRefusalEvents,
  { email, password, device_token: deviceToken }: LoginBody,
): Promise<{ user: User; attempt: LoginAttempt }> {
  const { passwords, loginThrottle, metrics } = app.jot;
  const presented = deviceTokens(request, deviceToken);
  const attempt = await loginThrottle.begin(email, presented).catch(async (err: unknown) => {
    if (err instanceof LoginLockedError) {
      // One event per lock, address and account in a window: a locked account hammered is not a row per attempt.
      await lockEvents.refused(err, { ip: request.ip }, emailKeyOf(email) ?? email);
    }
    throw err;
  });
  // The user was read with the lock, BEFORE the password check: the session will carry this credential generation
  // (services/sessions/start.ts).
  const { user } = attempt;
  const started = performance.now();
  const ok =
    user === undefined
      ? (await passwords.verifyDummy(password), false)
      : await passwords.verify(user.passwordHash, password);
  if (user === undefined || !ok) {
    // Padded straight after the check: the bookkeeping below costs the same for every account, outside it.
    await passwords.padFailure(started);
    const locks = await attempt.finish(false);
    metrics.logins.inc({ result: 'failure' });
    await lockEvents.failed(locks, { ip: request.ip, userId: user?.id });
    throw new HttpError(401, 'ERR_INVALID_CREDENTIALS', INVALID_CREDENTIALS, { error: 'invalid_grant' });
  }
  // A success is forgotten by the caller: with the session's commit, or by `finish(true)` when none follows.
  return { user, attempt };
}

/** Refuses a disabled account or (with `required` verification) an unverified address; upgrades an old hash. */
async function admit(app: FastifyInstance, user: User, password: string): Promise<void> {
  const { store, passwords, config, metrics } = app.jot;
  if (user.status !== 'active') {
    metrics.logins.inc({ result: 'disabled' });
    throw new HttpError(403, 'ERR_USER_DISABLED', 'this account is disabled; contact an administrator');
  }
  if (config.emailVerification === 'required' && user.emailVerifiedAt === null) {
    throw new HttpError(
      403,
      'ERR_EMAIL_NOT_VERIFIED',
      // No claim that a link was sent: an account an admin created before verification was turned on never got one.
      'this email address is not verified yet: to get a verification link, POST your email to /api/email/verification (or use "Send a new link" on the sign-in page), then open the link',
    );
  }
  if (passwords.needsRehash(user.passwordHash)) {
    // Compare-and-swap: if the password changed since it was read, the new hash is simply not written.
    await store.updatePasswordHash(user.id, await passwords.hash(password), {
      expect: user.passwordHash,
    });
  }
}

/** Registers `POST /api/login`. */
export function registerLoginRoute(app: FastifyInstance): void {
  const { sessions, events, config } = app.jot;
  const lockEvents = lockRefusalEvents(app.jot, config.rateLimitAuth.windowMs);
  app.post<{ Body: LoginBody }>(
    '/api/login',
    { config: { rateLimit: authRateLimit(config) }, schema: loginSchema },
    async (request, reply) => {
      const { password } = request.body;
      // An address no account can have is the caller's typo (400), not an unknown account: it is never looked up.
      checkEmail(request.body.email);
      const delivery = request.body.delivery ?? config.tokenDelivery;
      // The proof first: a missing nonce costs the client one round trip, not a second password hash.
      const dpopJkt = await loginProof(request, reply, delivery);
      const { user, attempt } = await checkCredentials(app, request, lockEvents, request.body);
      // The right password: its reservation is forgotten with the session's commit (one write fewer), else here —
      // without a session (refused below, or a second factor to come), or when starting it failed (forgetting a
      // reservation the commit forgot already changes nothing).
      let forgotten = false;
      const forgetHere = async (): Promise<void> => {
        if (forgotten) return;
        forgotten = true;
        await attempt.finish(true);
      };
      let pair;
      try {
        await admit(app, user, password);
        // With a second factor enrolled the password is only the first step (see plugins/mfa-signin.ts). Whether
        // there is one came with the account's read; without one there is nothing more to read.
        // The MFA token's record keeps the proof's key: the second step must prove it again and is bound to it.
        const mfaRequired = attempt.hasConfirmedFactor
          ? (await forgetHere(), await app.jot.mfa.signIn.challenge(user, request.body.delivery, dpopJkt))
          : undefined;
        if (mfaRequired !== undefined)
          return await reply.code(403).header('cache-control', 'no-store').send(mfaRequired);
        pair = await sessions.start(user, clientInfo(request), {
          delivery,
          dpopJkt,
          ...(!forgotten && { forget: attempt.reservation }),
        });
      } catch (err) {
        await forgetHere();
        throw err;
      }
      app.jot.metrics.logins.inc({ result: 'success' });
      await events.record('login_succeeded', { userId: user.id, sessionId: pair.session.id, ip: request.ip });
      const deviceToken = giveDeviceCredential(
        request,
        reply,
        user,
        request.body.device_token,
        pair.checkedAt,
      );
      return tokenResponse(request, reply, pair, deviceToken);
    },
  );
}
