/**
 * A method a known path does not take is 405 `ERR_METHOD_NOT_ALLOWED` with an `Allow` header listing the methods it
 * does take (RFC 9110 §15.5.6: "MUST generate an Allow header field"), not the 404 of a path nothing answers at:
 * `GET /api/logout`, `PUT /api/login`, `POST` on a page of the web UI. The methods of a path are read from the
 * route table (http/route-table.ts), so a new route is covered the moment it is registered; a GET route also takes
 * HEAD (Fastify answers it). CORS preflights are the CORS plugin's, which answers every `OPTIONS` when configured.
 */
import type { FastifyInstance } from 'fastify';

import { echoed } from '../services/echoed.js';
import { HttpError } from './errors.js';
import type { RouteEntry } from './route-table.js';

/** The order `Allow` lists methods in. */
const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** A route URL (`/api/sessions/:id`, `/*`) as a pattern over request paths. */
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}$`);
}

const patterns = new Map<string, RegExp>();

function matches(route: RouteEntry, path: string): boolean {
  let pattern = patterns.get(route.url);
  if (pattern === undefined) {
    pattern = patternOf(route.url);
    patterns.set(route.url, pattern);
  }
  return pattern.test(path) && (route.serves === undefined || route.serves(path));
}

/** The methods `path` (without its query) is answered for, in {@link ORDER}; empty for a path no route serves. */
export function allowedMethods(routes: readonly RouteEntry[], path: string): string[] {
  const methods = new Set(routes.filter((route) => matches(route, path)).map((route) => route.method));
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
}

/** The 405 for `method` at `path`, which takes `allowed`. */
export function methodNotAllowed(method: string, path: string, allowed: readonly string[]): HttpError {
  const use = allowed.length === 1 ? (allowed[0] ?? '') : `one of ${allowed.join(', ')}`;
  return new HttpError(
    405,
    'ERR_METHOD_NOT_ALLOWED',
    `${method} is not allowed on ${echoed(path)}; use ${use}`,
    {
      error: 'invalid_request',
      headers: { allow: allowed.join(', ') },
    },
  );
}

/**
 * The answer to a request no route took: 405 when its path takes other methods, else 404 (always 404 on an app
 * that collects no route table: a bare app of some tests).
 */
export function noRoute(app: FastifyInstance, method: string, url: string): HttpError {
  const path = url.split('?')[0] ?? '';
  const allowed = app.hasDecorator('routeTable') ? allowedMethods(app.routeTable, path) : [];
  const longest = app.initialConfig.maxParamLength ?? 100;
  if (allowed.includes(method) && path.split('/').some((segment) => segment.length > longest)) {
    // A route of this method matches but the router took none: a path parameter over its limit — the 414 the
    // router gives where no wildcard route (the web UI's GET) stands behind it (http/error-handler.ts).
    return new HttpError(414, 'ERR_VALIDATION', `a path segment is longer than ${longest} characters`);
  }
  if (allowed.length === 0 || allowed.includes(method)) {
    return new HttpError(404, 'ERR_NOT_FOUND', `no route ${method} ${echoed(path)}`);
  }
  return methodNotAllowed(method, path, allowed);
}

/**
 * Registers routes at `url` for the usual methods it does not take, answering 405 from within the calling plugin
 * (its error handler and hooks: the OAuth endpoints' shape and `Cache-Control`) rather than from the web UI's
 * catch-all GET. OPTIONS is left to CORS preflights.
 */
export function refuseOtherMethods(app: FastifyInstance, url: string, allowed: readonly string[]): void {
  const others = ['GET', 'PUT', 'PATCH', 'DELETE', 'POST'].filter((method) => !allowed.includes(method));
  app.route({
    method: others,
    url,
    schema: { hide: true },
    config: { refusesMethod: true },
    handler: async (request) => {
      throw methodNotAllowed(request.method, url, allowedMethods(app.routeTable, url));
    },
  });
}
