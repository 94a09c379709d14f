/**
 * Password change and step-up re-authentication (RFC 9470): both check the signed-in user's password, so both are
 * rate limited per address AND per verified user (one budget for both routes; http/rate-limit.ts).
 */
import type { FastifyInstance } from 'fastify';

import { authRateLimit, verifiedLimit } from '../../http/rate-limit.js';
import { authOf } from '../auth.js';
import { registerPasswordChangeRoute } from './change.js';
import { registerReauthRoute } from './reauth.js';

/** Registers `POST /api/password` and `POST /api/reauth`. */
export async function passwordPlugin(app: FastifyInstance): Promise<void> {
  const { config } = app.jot;
  const limits = {
    perAddress: { rateLimit: authRateLimit(config) },
    perUser: verifiedLimit(
      app,
      'password-check',
      config.rateLimitAuth,
      (request) => authOf(request).claims.sub,
    ),
  };
  registerPasswordChangeRoute(app, limits);
  registerReauthRoute(app, limits);
}
