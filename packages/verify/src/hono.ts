/** Hono middleware: sets `c.get('auth')` or returns the RFC 6750 refusal. Hono is only imported as types. */
import type { MiddlewareHandler } from 'hono';

import type { Verifier } from './core.js';
import { compileGuards, type Guards } from './guards.js';
import { toWebResponse } from './node.js';
import type { VerifiedAuth } from './types.js';

/** The Hono environment the middleware provides: `c.get('auth')`. */
export interface JotHonoEnv {
  Variables: { auth: VerifiedAuth };
}

/**
 * Protects Hono routes.
 *
 * @example
 * const app = new Hono<JotHonoEnv>();
 * app.use('/api/*', honoAuth(verifier));
 * app.get('/api/me', (c) => c.json({ sub: c.get('auth').claims.sub }));
 */
export function honoAuth(verifier: Verifier, guards?: Guards): MiddlewareHandler<JotHonoEnv> {
  const compiled = compileGuards(guards);
  return async (c, next) => {
    const result = await verifier.authenticate(c.req.raw, compiled);
    if (!result.ok) return toWebResponse(result.response);
    c.set('auth', result.auth);
    await next();
    return undefined;
  };
}
