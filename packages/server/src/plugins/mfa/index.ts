/**
 * The signed-in user's second factors: status, authenticator-app (TOTP) enrolment and confirmation, recovery codes,
 * renaming and removal, and the second-factor step-up (`POST /api/mfa/step-up`, RFC 9470). Adding a factor, new
 * recovery codes and removing a factor are sensitive: they need a recent (multi-factor, when enrolled) sign-in.
 * One file a route group; the steps beyond the factor services are in `services/mfa-enrolment.ts`.
 */
import type { FastifyInstance } from 'fastify';

import { authRateLimit, verifiedLimit } from '../../http/rate-limit.js';
import { authOf, requireStepUp } from '../auth.js';
import { registerFactorRoutes } from './factors.js';
import type { MfaGuards } from './guards.js';
import { registerMfaStatusRoute } from './status.js';
import { registerStepUpRoutes } from './step-up.js';
import { registerTotpRoutes } from './totp.js';

/** Registers the `/api/mfa` routes. */
export async function mfaPlugin(app: FastifyInstance): Promise<void> {
  const { config } = app.jot;
  const guards: MfaGuards = {
    fresh: requireStepUp({ always: true }),
    // Code-checking routes: limited per address and per verified user (never per header spelling).
    credentialLimit: { rateLimit: authRateLimit(config) },
    perUser: verifiedLimit(app, 'mfa-check', config.rateLimitAuth, (request) => authOf(request).claims.sub),
  };
  registerMfaStatusRoute(app);
  registerTotpRoutes(app, guards);
  registerFactorRoutes(app, guards);
  registerStepUpRoutes(app, guards);
}
