/**
 * Probes: `GET /healthz` (liveness: the process answers) and `GET /readyz` (readiness: the server is not shutting
 * down, the database answers and a signing key is active, so tokens can be issued). A failed readiness check is a
 * 503 in the common error shape.
 */
import type { FastifyInstance } from 'fastify';

import { sendError } from '../http/error-handler.js';
import { HttpError } from '../http/errors.js';

const statusSchema = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['ok'] } },
} as const;

/** Registers the health probes. */
export async function healthPlugin(app: FastifyInstance): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process is up.',
        response: { 200: statusSchema },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return { status: 'ok' };
    },
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: not shutting down, the database answers and a signing key is active.',
        response: { 200: statusSchema, 503: { $ref: 'JotError#' } },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      // First, and without touching the store: a load balancer must see this the moment a shutdown begins.
      // Sent, not thrown: a load balancer probing a draining instance is expected, not an error to log.
      if (app.drain.draining) return sendError(reply, unavailable('the server is shutting down'));
      const { store, keys } = app.jot;
      try {
        await store.ping();
      } catch (err) {
        request.log.warn({ err }, 'readiness: the store does not answer');
        throw unavailable('the database does not answer');
      }
      try {
        keys.activeKey();
      } catch (err) {
        request.log.warn({ err }, 'readiness: no active signing key');
        throw unavailable('no signing key is active');
      }
      return { status: 'ok' };
    },
  );
}

function unavailable(what: string): HttpError {
  return new HttpError(503, 'ERR_UNAVAILABLE', `not ready: ${what}`, { headers: { 'retry-after': '5' } });
}
