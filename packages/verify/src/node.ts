/**
 * Framework-free use: `node:http` handlers and Web `Request` handlers (Deno, Bun, workers, Next.js route
 * handlers). `verifier.authenticate(request)` does the work; these helpers send the refusal.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Verifier } from './core.js';
import type { ErrorResponse } from './errors.js';
import { compileGuards, type Guards } from './guards.js';
import type { VerifiedAuth } from './types.js';

/**
 * Writes a refusal to a `node:http` response, unless something else already answered it (a request timeout): then
 * there is nothing left to say, and `writeHead` would throw `ERR_HTTP_HEADERS_SENT`.
 */
export function sendErrorResponse(res: ServerResponse, response: ErrorResponse): void {
  if (res.headersSent || res.writableEnded) return;
  res.writeHead(response.status, { ...response.headers, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(response.body));
}

/** A refusal as a Web `Response`. */
export function toWebResponse(response: ErrorResponse): Response {
  return new Response(JSON.stringify(response.body), {
    status: response.status,
    headers: { ...response.headers, 'content-type': 'application/json; charset=utf-8' },
  });
}

/**
 * For `node:http`: resolves to the auth context, or sends the 400/401/403/503 and resolves to `undefined`.
 *
 * @example
 * const auth = nodeAuth(verifier);
 * http.createServer(async (req, res) => {
 *   const who = await auth(req, res);
 *   if (who) res.end(`hello ${who.claims.sub}`);
 * });
 */
export function nodeAuth(
  verifier: Verifier,
  guards?: Guards,
): (req: IncomingMessage, res: ServerResponse) => Promise<VerifiedAuth | undefined> {
  const compiled = compileGuards(guards);
  return async (req, res) => {
    const result = await verifier.authenticate(req, compiled);
    if (result.ok) return result.auth;
    sendErrorResponse(res, result.response);
    return undefined;
  };
}

/**
 * For Web `Request` handlers: resolves to the auth context, or to the `Response` to return.
 *
 * @example
 * const auth = fetchAuth(verifier, { scopes: ['profile'] });
 * export async function GET(request: Request) {
 *   const who = await auth(request);
 *   if (who instanceof Response) return who;
 *   return Response.json({ sub: who.claims.sub });
 * }
 */
export function fetchAuth(
  verifier: Verifier,
  guards?: Guards,
): (request: Request) => Promise<VerifiedAuth | Response> {
  const compiled = compileGuards(guards);
  return async (request) => {
    const result = await verifier.authenticate(request, compiled);
    return result.ok ? result.auth : toWebResponse(result.response);
  };
}
