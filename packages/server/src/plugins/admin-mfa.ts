/**
 * Admin view of second factors: which users have one (`GET /api/admin/mfa`), and a reset for a user who lost
 * theirs (`DELETE /api/admin/users/:id/mfa`) — a sensitive action (step-up), recorded as a security event.
 */
import type { FastifyInstance } from 'fastify';

import { HttpError } from '../http/errors.js';
import { authErrors, idParams } from '../http/schemas.js';
import { answerTargetGoneAsNotFound } from '../http/target-gone.js';
import { authOf, requireRecentAuth, requireRole } from './auth.js';

/** Registers the admin MFA routes. */
export async function adminMfaPlugin(app: FastifyInstance): Promise<void> {
  answerTargetGoneAsNotFound(app);
  registerMfaSummaryRoute(app);
  registerMfaResetRoute(app);
}

/** `GET /api/admin/mfa`: users with a second factor, counted by kind. */
function registerMfaSummaryRoute(app: FastifyInstance): void {
  const { store } = app.jot;
  app.get(
    '/api/admin/mfa',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: ['admin'],
        summary: 'Users with a second factor: how many of each kind.',
        response: {
          200: {
            type: 'object',
            properties: {
              users: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    user_id: { type: 'string' },
                    totp: { type: 'integer' },
                    webauthn: { type: 'integer' },
                  },
                },
              },
            },
          },
          ...authErrors,
        },
      },
    },
    async () => ({ users: await store.mfa.summary() }),
  );
}

/** `DELETE /api/admin/users/:id/mfa`: resets a user's second factors (step-up), recorded as a security event. */
function registerMfaResetRoute(app: FastifyInstance): void {
  const { events, mfa } = app.jot;
  app.delete<{ Params: { id: string } }>(
    '/api/admin/users/:id/mfa',
    {
      preHandler: requireRecentAuth('admin'),
      schema: {
        tags: ['admin'],
        summary:
          "Reset a user's second factors and recovery codes (they sign in with the password alone again).",
        params: idParams,
        response: {
          200: { type: 'object', properties: { removed: { type: 'integer' } } },
          404: { $ref: 'JotError#' },
          ...authErrors,
        },
      },
    },
    async (request) => {
      // The removal finds the user itself (their row held while it runs): one deleted meanwhile is unknown here
      // too, with nothing removed and nothing recorded.
      const removed = await mfa.factors.reset(request.params.id);
      if (removed === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such user');
      // Recorded only while the account exists: a deletion right after the reset leaves no event behind it.
      await events.recordAboutUser('mfa_reset', {
        userId: request.params.id,
        ip: request.ip,
        detail: { by: authOf(request).claims.sub, removed },
      });
      return { removed };
    },
  );
}
