/**
 * Route options of the sensitive `/api/mfa` routes (a new authenticator app, new recovery codes, removing a factor):
 * each needs a recent (multi-factor, when enrolled) sign-in first, and can answer with the errors of a protected route.
 */
import type { RouteShorthandOptions } from 'fastify';

import { authErrors } from '../../http/schemas.js';
import type { MfaGuards } from './guards.js';

/** Options of a sensitive MFA route: `responses` are its own answers, beside the auth errors; `params` its path's. */
export function sensitiveMfaRoute(
  guards: MfaGuards,
  summary: string,
  responses: Record<number, object>,
  params?: object,
): RouteShorthandOptions {
  return {
    preHandler: guards.fresh,
    schema: {
      tags: ['mfa'],
      summary,
      ...(params === undefined ? {} : { params }),
      response: { ...responses, ...authErrors },
    },
  };
}
