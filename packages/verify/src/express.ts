/** Express middleware: sets `req.auth` or answers the RFC 6750 refusal. Express is only imported as types. */
import type { RequestHandler } from 'express';

import type { Verifier } from './core.js';
import { compileGuards, type Guards } from './guards.js';
import type { VerifiedAuth } from './types.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `expressAuth` on authenticated requests. */
    auth?: VerifiedAuth;
  }
}

/**
 * Protects routes of an Express app.
 *
 * @example
 * app.use('/api', expressAuth(verifier));
 * app.delete('/api/orders/:id', expressAuth(verifier, { roles: ['admin'], maxAuthAge: '5m' }), handler);
 * app.get('/api/me', (req, res) => res.json({ sub: req.auth?.claims.sub }));
 */
export function expressAuth(verifier: Verifier, guards?: Guards): RequestHandler {
  const compiled = compileGuards(guards);
  return (req, res, next) => {
    // Both outcomes are handled here, and neither can throw: a callback that threw would be an unhandled rejection.
    verifier.authenticate(req, compiled).then((result) => {
      if (result.ok) {
        req.auth = result.auth;
        next();
        return;
      }
      // Another middleware answered while this one waited (a request timeout): the refusal has nowhere to go.
      if (res.headersSent) return;
      try {
        res.status(result.response.status).set(result.response.headers).json(result.response.body);
      } catch (err) {
        next(err);
      }
    }, next);
  };
}
