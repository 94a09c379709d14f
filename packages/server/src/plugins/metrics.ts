/**
 * `GET /metrics` in the Prometheus text format, and the HTTP request counter and duration histogram for every
 * route. Its hooks must see every route, so the plugin opts out of encapsulation (what `fastify-plugin` does).
 * With a token (`JOT_METRICS_TOKEN`) the scraper must send `Authorization: Bearer <token>` (compared in constant
 * time); without one, `/metrics` answers only outside production.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';

import { HttpError } from '../http/errors.js';
import { bearerToken } from './auth.js';

import { createMetrics } from '../services/metrics.js';
import type { Metrics } from '../services/metrics.js';

/** Options of {@link metricsPlugin}. */
export interface MetricsPluginOptions {
  /** The metrics the other plugins increment; a private set is created when absent. */
  metrics?: Metrics;
  /** Bearer token the scraper must present. */
  token?: string;
  /** Without a token: false refuses every request (production). @default true */
  openWithoutToken?: boolean;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Throws 401 `ERR_METRICS_AUTH` unless the request may read the metrics. */
function checkAccess(request: FastifyRequest, options: MetricsPluginOptions): void {
  if (options.token === undefined) {
    if (options.openWithoutToken ?? true) return;
    throw new HttpError(
      401,
      'ERR_METRICS_AUTH',
      '/metrics is off in production until JOT_METRICS_TOKEN is set',
      {
        error: 'invalid_token',
        headers: { 'www-authenticate': 'Bearer realm="jot-metrics"' },
      },
    );
  }
  const presented = bearerToken(request.headers.authorization);
  if (presented === undefined || !timingSafeEqual(digest(presented), digest(options.token))) {
    throw new HttpError(
      401,
      'ERR_METRICS_AUTH',
      '/metrics needs "Authorization: Bearer <JOT_METRICS_TOKEN>"',
      {
        error: 'invalid_token',
        headers: { 'www-authenticate': 'Bearer realm="jot-metrics"' },
      },
    );
  }
}

/** Label for requests no route matched, so scanners cannot blow up the label cardinality. */
const UNMATCHED = '(unmatched)';

async function metrics(app: FastifyInstance, options: MetricsPluginOptions): Promise<void> {
  const { registry, httpRequests, httpDuration } = options.metrics ?? createMetrics();

  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED,
      status: String(reply.statusCode),
    };
    httpRequests.inc(labels);
    httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format).',
        response: { 200: { type: 'string' }, 401: { $ref: 'JotError#' } },
      },
    },
    async (request, reply) => {
      checkAccess(request, options);
      const text = await registry.metrics();
      return reply.header('cache-control', 'no-store').type(registry.contentType).send(text);
    },
  );
}

/** Registers `/metrics` and the HTTP metrics hooks on the whole app. */
export const metricsPlugin: FastifyPluginAsync<MetricsPluginOptions> = Object.defineProperty(
  metrics,
  Symbol.for('skip-override'),
  { value: true },
);
