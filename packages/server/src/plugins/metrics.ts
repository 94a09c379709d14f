/**
 * `GET /metrics` in the Prometheus text format, and the HTTP request counter and duration histogram for every
 * route. Its hooks must see every route, so the plugin opts out of encapsulation (what `fastify-plugin` does).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';

import { createMetrics } from '../services/metrics.js';
import type { Metrics } from '../services/metrics.js';

/** Options of {@link metricsPlugin}. */
export interface MetricsPluginOptions {
  /** The metrics the other plugins increment; a private set is created when absent. */
  metrics?: Metrics;
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
        response: { 200: { type: 'string' } },
      },
    },
    async (_request, reply) => {
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
