/**
 * Password change and step-up re-authentication (RFC 9470): both check the signed-in user's password, so both are
 * rate limited per address AND per verified user (one budget for both routes; http/rate-limit.ts).
 */
import type { FastifyInstance } from 'fastify';

import { HttpError } from '../http/errors.js';
import { authRateLimit, verifiedLimit } from '../http/rate-limit.js';
import { authErrors, newPasswordSchema, passwordSchema, tokenResponseSchema } from '../http/schemas.js';
import { tokenResponse } from '../http/token-response.js';
import { checkPasswordStrength } from '../services/password-policy.js';
import type { User } from '../store/index.js';
import { authenticate, authOf, requireStepUp } from './auth.js';

/** Registers `POST /api/password` and `POST /api/reauth`. */
export async function passwordPlugin(app: FastifyInstance): Promise<void> {
  const { store, passwords, sessions, revocations, events, config } = app.jot;
  const perAddress = { rateLimit: authRateLimit(config) };
  const perUser = verifiedLimit(
    app,
    'password-check',
    config.rateLimitAuth,
    (request) => authOf(request).claims.sub,
  );
  const preHandler = [authenticate, perUser];

  /** The signed-in user, if `password` is theirs; else 403 (never 401: the access token itself is fine). */
  async function confirmPassword(userId: string, password: string): Promise<User> {
    const user = await store.getUserById(userId);
    if (user === undefined || !(await passwords.verify(user.passwordHash, password))) {
      throw new HttpError(403, 'ERR_INVALID_CREDENTIALS', 'the password is incorrect');
    }
    return user;
  }

  app.post<{ Body: { current_password: string; new_password: string } }>(
    '/api/password',
    {
      // With a second factor enrolled, the current password alone is not enough: a fresh MFA step-up is needed.
      preHandler: [requireStepUp({ always: false }), perUser],
      config: perAddress,
      schema: {
        tags: ['accounts'],
        summary: 'Change the password. Signs out every other session and invalidates every earlier token.',
        body: {
          type: 'object',
          required: ['current_password', 'new_password'],
          additionalProperties: false,
          properties: { current_password: passwordSchema, new_password: newPasswordSchema },
        },
        response: {
          200: tokenResponseSchema,
          ...authErrors,
          409: { $ref: 'JotError#' },
          429: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      let user = await confirmPassword(claims.sub, request.body.current_password);
      checkPasswordStrength(request.body.new_password, user.email);
      const newHash = await passwords.hash(request.body.new_password);
      // Compare-and-swap on the hash that was just checked. A sign-in's rehash (same password, new parameters) may
      // have replaced it meanwhile: then the current password is checked again against what is stored now; a real
      // change by someone else fails that check (409).
      for (let attempt = 0; ; attempt++) {
        const changed = await store.updatePasswordHash(user.id, newHash, { expect: user.passwordHash });
        if (changed !== undefined) break;
        const now = await store.getUserById(user.id);
        if (
          attempt >= 3 ||
          now === undefined ||
          !(await passwords.verify(now.passwordHash, request.body.current_password))
        ) {
          throw new HttpError(
            409,
            'ERR_PASSWORD_CHANGED_MEANWHILE',
            'the password was changed meanwhile; sign in again',
          );
        }
        user = now;
      }
      // Ends every other session, including those a sign-in is still creating (credential generation).
      await revocations.revokeAllForUser(user.id, 'password_changed', { exceptSession: claims.sid });
      await events.record('password_changed', { userId: user.id, sessionId: claims.sid, ip: request.ip });
      return tokenResponse(request, reply, await sessions.reissue(claims.sid, { rotateRefreshToken: true }));
    },
  );

  app.post<{ Body: { password: string } }>(
    '/api/reauth',
    {
      preHandler,
      config: perAddress,
      schema: {
        tags: ['accounts'],
        summary: 'Step-up: confirm the password to get an access token with a fresh auth_time (RFC 9470).',
        body: {
          type: 'object',
          required: ['password'],
          additionalProperties: false,
          properties: { password: passwordSchema },
        },
        response: {
          200: tokenResponseSchema,
          ...authErrors,
          409: { $ref: 'JotError#' },
          429: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      await confirmPassword(claims.sub, request.body.password);
      // A password-only confirmation: the session's authentication becomes one factor (`acr` aal1) again.
      const pair = await sessions.reissue(claims.sid, {
        authTime: app.jot.clock(),
        amr: ['pwd'],
        acr: 'aal1',
      });
      return tokenResponse(request, reply, pair);
    },
  );
}
