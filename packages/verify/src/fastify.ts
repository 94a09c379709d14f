/**
 * Fastify: a `preHandler` hook (`fastifyAuth`) and a plugin (`jotFastify`) that installs it for every route of the
 * registering scope. Fastify is only imported as types. `request.auth` is set at run time; read it typed with
 * `authOf(request)` (no module augmentation, so this package can share a program with others that declare `auth`).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

import type { Verifier } from './core.js';
import { compileGuards, type Guards } from './guards.js';
import type { VerifiedAuth } from './types.js';

/**
 * A `preHandler` hook that authenticates the request.
 *
 * @example
 * app.get('/orders', { preHandler: fastifyAuth(verifier, { scopes: ['orders:read'] }) }, (req) => authOf(req).claims.sub);
 */
export function fastifyAuth(
  verifier: Verifier,
  guards?: Guards,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  const compiled = compileGuards(guards);
  return async (request, reply) => {
    const result = await verifier.authenticate(request, compiled);
    if (result.ok) {
      // Typed apart from `FastifyRequest`: another package in the program may declare its own `auth` there.
      (request as object as { auth?: VerifiedAuth }).auth = result.auth;
      return undefined;
    }
    // Already answered (a timeout hook): the refusal has nowhere to go, and sending again only logs a warning.
    if (reply.sent) return reply;
    return reply.code(result.response.status).headers(result.response.headers).send(result.response.body);
  };
}

/** Options of `jotFastify`. */
export interface JotFastifyOptions extends Guards {
  verifier: Verifier;
}

/**
 * Protects every route registered in the same scope after it (not encapsulated, like `fastify-plugin`).
 *
 * @example
 * await app.register(jotFastify, { verifier });
 * app.get('/me', (request) => ({ sub: authOf(request).claims.sub }));
 */
export const jotFastify: FastifyPluginAsync<JotFastifyOptions> = async (app, options) => {
  const { verifier, ...guards } = options;
  if (!app.hasRequestDecorator('auth')) app.decorateRequest('auth', undefined);
  app.addHook('preHandler', fastifyAuth(verifier, guards));
};
// What fastify-plugin does: run in the parent's scope so the hook covers its routes.
(jotFastify as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
