/**
 * `Authorization` is a singleton field (RFC 9110 §5.3, §11.6.2): a request with more than one line of it is
 * malformed, and refused with 400 before any route reads it. Node keeps only the first line in `request.headers`, so
 * answering such a request would mean deciding who is calling by the first line where a proxy in front may have
 * taken the last. The answer is `ERR_AUTH_MALFORMED`; at the OAuth endpoints their error handler (`asOAuthError`)
 * makes it RFC 6749 §5.2's `invalid_request` (`ERR_OAUTH_REQUEST`). (Two `DPoP` lines are refused where a proof is read: http/dpop-proof.ts, @jot/verify.)
 */
import { rawHeaderCount } from '@jot/contract';
import type { FastifyInstance } from 'fastify';

import { HttpError } from './errors.js';

/** The refusal of a request with `lines` Authorization lines. */
function refusal(lines: number): HttpError {
  const message = `send one Authorization header: this request has ${lines} (RFC 9110 section 5.3)`;
  return new HttpError(400, 'ERR_AUTH_MALFORMED', message, { error: 'invalid_request' });
}

/** Installs the check on every request. */
export function installSingletonHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const lines = rawHeaderCount(request.raw.rawHeaders, 'authorization');
    if (lines > 1) throw refusal(lines);
  });
}
